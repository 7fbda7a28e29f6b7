"""Cadence message templates: the placeholders a step may use, the check made when a template is saved, rendering.

Templates are Jinja2, rendered by a SandboxedEnvironment with StrictUndefined. A template is checked when it is
saved, by walking its syntax tree: plain text, the placeholders below and a few text filters with literal
arguments are allowed; anything else (a `{% %}` block, a call, attribute access beyond the placeholders, an
unknown name) is refused then, with a message saying what to write instead. It is also rendered once with
sample data. So rendering a due step later can neither fail on a typo nor run code.

Chat flattens a message to one line, so a typed `\\n` (backslash, n) in a template or a signature is a line break.
"""

from __future__ import annotations

import functools
import logging
from types import SimpleNamespace

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

from core.errors import InvalidInput

log = logging.getLogger(__name__)

PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "contact": ("first_name", "name"),
    "company": ("name",),
    "user": ("name", "signature"),
}
PLACEHOLDER_LIST = ", ".join(f"{{{{{obj}.{attr}}}}}" for obj, attrs in PLACEHOLDERS.items() for attr in attrs)
# Text filters only: `{{company.name | default('your team', true)}}`, `{{contact.first_name | upper}}`.
FILTERS = ("default", "d", "upper", "lower", "title", "capitalize", "trim")
SUBJECT_MAX, MESSAGE_MAX, SIGNATURE_MAX = 300, 5000, 1000

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
# Defence in depth: the syntax check already refuses other names and filters, but the environment offers
# nothing else either (no range, dict, lipsum, cycler; no format or attr filters).
_env.globals.clear()
_env.filters = {name: _env.filters[name] for name in FILTERS}

_SAMPLE = {
    "contact": SimpleNamespace(first_name="Ana", name="Ana Silva"),
    "company": SimpleNamespace(name="Acme"),
    "user": SimpleNamespace(name="Sam Lee", signature="Sam Lee\nAcme Consulting"),
}


def from_chat(text: str | None) -> str:
    """What the user typed, with `\\n` as a line break and outer blanks trimmed."""
    return (text or "").replace("\\n", "\n").strip()


def clean_template(text: str | None, *, field: str, max_length: int) -> str | None:
    """Check a subject or message template as it is saved; None when empty. Raises InvalidInput saying why."""
    text = from_chat(text)
    if not text:
        return None
    if len(text) > max_length:
        raise InvalidInput(f"The {field} is too long ({len(text)} characters, at most {max_length}).")
    try:
        tree = _env.parse(text)
        for node in tree.body:
            if not isinstance(node, nodes.Output):
                raise InvalidInput(
                    f"The {field} may only hold text and placeholders: "
                    f"`{{% {type(node).__name__.lower()} %}}` blocks are not allowed."
                )
            for part in node.nodes:
                if not isinstance(part, nodes.TemplateData):
                    _check_expression(part, field)
    except TemplateSyntaxError as error:
        raise InvalidInput(
            f"The {field} doesn't read as a template: {error.message} (line {error.lineno}). "
            f"Placeholders look like {{{{contact.first_name}}}}."
        ) from None
    except RecursionError:  # thousands of nested brackets or filters: the parser gives up, and so do we
        raise InvalidInput(f"The {field} nests too deeply to be a template.") from None
    try:
        _render(text, _SAMPLE)
    except TemplateError as error:  # the syntax check should leave nothing for this to catch
        raise InvalidInput(f"The {field} can't be rendered: {error}.") from None
    return text


def clean_signature(text: str | None) -> str | None:
    """A signature is data put into templates, never a template itself, so it is only trimmed and bounded."""
    text = from_chat(text)
    if len(text) > SIGNATURE_MAX:
        raise InvalidInput(f"That signature is too long ({len(text)} characters, at most {SIGNATURE_MAX}).")
    return text or None


def _check_expression(expr: nodes.Node, field: str) -> None:
    if isinstance(expr, nodes.Filter):
        if expr.name not in FILTERS:
            raise InvalidInput(
                f"The {field} uses the filter `{expr.name}`, which is not allowed. "
                f"Allowed: {', '.join(f for f in FILTERS if f != 'd')}."
            )
        arguments = [*expr.args, *(keyword.value for keyword in expr.kwargs)]
        if expr.dyn_args or expr.dyn_kwargs or not all(isinstance(a, nodes.Const) for a in arguments):
            raise InvalidInput(
                f"The {field} gives a filter something other than plain text or numbers; "
                f"write it like `default('your team', true)`."
            )
        assert expr.node is not None, "only a `{% filter %}` block has no node, and blocks are refused above"
        _check_expression(expr.node, field)
        return
    path = _dotted(expr)
    if path is None:
        raise InvalidInput(
            f"The {field} may only hold text and placeholders ({PLACEHOLDER_LIST}); "
            f"code between {{{{ and }}}} is not allowed."
        )
    head, _, attr = path.partition(".")
    if attr not in PLACEHOLDERS.get(head, ()):
        raise InvalidInput(f"The {field} names an unknown placeholder {{{{{path}}}}}. Use: {PLACEHOLDER_LIST}.")


def _dotted(expr: nodes.Node) -> str | None:
    """`contact.first_name` for a chain of attribute reads on a name, None for anything else (calls, literals,
    subscripts, arithmetic)."""
    if isinstance(expr, nodes.Name):
        return expr.name
    if isinstance(expr, nodes.Getattr):
        base = _dotted(expr.node)
        return f"{base}.{expr.attr}" if base is not None else None
    return None


@functools.lru_cache(maxsize=512)
def _compiled(text: str):
    return _env.from_string(text)


def _render(text: str, data: dict) -> str:
    return _compiled(text).render(data)


def render(
    text: str | None, *, contact_name: str, organisation: str | None, user_name: str, signature: str | None
) -> str | None:
    """A saved template filled in for one contact and user. The signature falls back to the user's name."""
    if not text:
        return None
    data = {
        "contact": SimpleNamespace(first_name=(contact_name.split() or [""])[0], name=contact_name),
        "company": SimpleNamespace(name=organisation or ""),
        "user": SimpleNamespace(name=user_name, signature=signature or user_name),
    }
    try:
        return _render(text, data)
    except TemplateError:
        # Only a template saved around the check (by hand in the database) gets here: show it as written
        # rather than lose the user's morning list.
        log.warning("a saved cadence template failed to render", exc_info=True)
        return text

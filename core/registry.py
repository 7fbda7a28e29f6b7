"""The handler registry: each command's one handler, registered by `@handles` where the handler is written.

A handler is a plain async function `(command, ctx) -> result`; the command type it handles is the annotation of
its first parameter. `core.service` imports every feature's handlers module, so that each registers itself.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from core.command import Command

Handler = Callable[[Any, Any], Awaitable[Any]]

HANDLERS: dict[type[Command], Handler] = {}


def handles(handler: Handler) -> Handler:
    """Register `handler` for the command type its first parameter is annotated with; a second handler for one
    command type is an error at import time."""
    first = next(iter(inspect.signature(handler).parameters.values()), None)
    annotation = first.annotation if first is not None else inspect.Parameter.empty
    if isinstance(annotation, str):
        annotation = eval(annotation, handler.__globals__)  # noqa: S307 - the module's own annotation
    if not (isinstance(annotation, type) and issubclass(annotation, Command)):
        raise TypeError(
            f"{handler.__module__}.{handler.__qualname__}: its first parameter must be annotated "
            "with the Command subclass it handles"
        )
    registered = HANDLERS.get(annotation)
    if registered is not None and _name(registered) != _name(handler):
        raise TypeError(f"{annotation.__name__} has two handlers: {_name(registered)} and {_name(handler)}")
    HANDLERS[annotation] = handler
    return handler


def handler_for(command: Command) -> Handler:
    """The handler of this command, or TypeError when its type has none."""
    handler = HANDLERS.get(type(command))
    if handler is None:
        raise TypeError(f"no handler for {type(command).__name__}")
    return handler


def _name(handler: Handler) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"

"""`pipedriven pipedrive setup` and `pipedriven pipedrive webhooks`: what Pipedriven needs in the Pipedrive
company, added when missing.

The campaign source person field (a text field, PIPEDRIVE_CAMPAIGN_SOURCE_FIELD) and the warm label option
(PIPEDRIVE_WARM_LABEL) are looked up by name, any case, and created only when absent, so running it twice
changes nothing the second time. A label option is added with every existing one alongside: Pipedrive deletes
an option left out of the update. Webhooks (v2, one per object, every action) are installed only where none
posts to the public URL yet, and removing them deletes only those that post there.
"""

from __future__ import annotations

from core.settings import Settings
from pipedrive.client import PipedriveClient, Webhook
from pipedrive.errors import SetupProblem
from pipedrive.lookups import LABEL_FIELD_KEYS, TEXT_FIELD_TYPES


async def set_up(client: PipedriveClient, settings: Settings) -> list[str]:
    """Create what is missing; one line per thing checked, saying what was done."""
    lines: list[str] = []
    fields = await client.person_fields()
    field_name = settings.pipedrive_campaign_source_field.strip()
    found = next((f for f in fields if f.name.strip().lower() == field_name.lower()), None)
    if found is None:
        await client.add_person_field(field_name, "varchar")
        lines.append(f"Created the person field “{field_name}” (text).")
    elif found.field_type not in TEXT_FIELD_TYPES:
        raise SetupProblem(
            f"The person field “{found.name}” exists but is not a text field: rename it in Pipedrive, or set "
            f"PIPEDRIVE_CAMPAIGN_SOURCE_FIELD to another name."
        )
    else:
        lines.append(f"The person field “{found.name}” is there.")
    label = settings.pipedrive_warm_label.strip()
    label_field = next((f for f in fields if f.key in LABEL_FIELD_KEYS), None)
    if label_field is None or label_field.id is None:
        raise SetupProblem("Pipedrive has no person label field that can take options.")
    if any(o.label.strip().lower() == label.lower() for o in label_field.options):
        lines.append(f"The person label “{label}” is there.")
    else:
        options = [{"id": o.id, "label": o.label} for o in label_field.options] + [{"label": label}]
        await client.update_person_field_options(label_field.id, options)
        lines.append(f"Created the person label “{label}”.")
    return lines


# --- webhooks ---------------------------------------------------------------------------------------------

WEBHOOK_OBJECTS = ("person", "organization", "deal", "activity")
WEBHOOK_VERSION = "2.0"
WEBHOOK_PATH = "/pipedrive/webhook"


def webhook_url(settings: Settings, url: str | None) -> str:
    """The public address webhooks go to: --url, else PIPEDRIVE_WEBHOOK_URL."""
    chosen = (url or settings.pipedrive_webhook_url or "").strip()
    if not chosen:
        raise SetupProblem("Which address? Set PIPEDRIVE_WEBHOOK_URL or give --url https://HOST/pipedrive/webhook.")
    if not chosen.startswith(("https://", "http://")):
        raise SetupProblem(f"“{chosen[:80]}” is not a web address (https://HOST{WEBHOOK_PATH}).")
    return chosen


async def our_webhooks(client: PipedriveClient, url: str) -> list[Webhook]:
    return [w for w in await client.webhooks() if w.subscription_url == url]


async def install_webhooks(client: PipedriveClient, settings: Settings, url: str) -> list[str]:
    """Register a v2 webhook per object (every action) at `url`, except those already there."""
    if not settings.pipedrive_webhooks_on:
        raise SetupProblem("Set PIPEDRIVE_WEBHOOK_USER and PIPEDRIVE_WEBHOOK_PASSWORD first: Pipedrive sends them.")
    assert settings.pipedrive_webhook_password is not None
    existing = {
        w.event_object
        for w in await our_webhooks(client, url)
        if w.version == WEBHOOK_VERSION and w.event_action == "*"
    }
    lines = []
    for entity in WEBHOOK_OBJECTS:
        if entity in existing:
            lines.append(f"The {entity} webhook is there.")
            continue
        hook = await client.add_webhook(
            {
                "subscription_url": url,
                "event_action": "*",
                "event_object": entity,
                "name": f"Pipedriven {entity}",
                "version": WEBHOOK_VERSION,
                "http_auth_user": settings.pipedrive_webhook_user,
                "http_auth_password": settings.pipedrive_webhook_password.get_secret_value(),
            }
        )
        lines.append(f"Created the {entity} webhook (#{hook.id}).")
    return lines


async def remove_webhooks(client: PipedriveClient, url: str) -> list[str]:
    """Delete the webhooks that post to `url` (ours), and no other."""
    ours = await our_webhooks(client, url)
    for hook in ours:
        await client.delete_webhook(hook.id)
    return [f"Removed the {w.event_object} webhook (#{w.id})." for w in ours] or [f"No webhook posts to {url}."]


def webhook_lines(hooks: list[Webhook], url: str | None) -> list[str]:
    if not hooks:
        return ["No webhooks in Pipedrive."]
    return [
        f"#{w.id} {w.event_action}.{w.event_object} v{w.version} → {w.subscription_url}"
        + (" (ours)" if url and w.subscription_url == url else "")
        + ("" if w.is_active else " (inactive)")
        for w in hooks
    ]

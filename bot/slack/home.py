"""The App Home: opening it publishes the user's overview (today's rows, follow-ups due, their month)."""

from __future__ import annotations

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.slack.deps import Listen, SlackDeps
from bot.slack.render import escape
from core.errors import PipedrivenError


def register(listen: Listen, deps: SlackDeps) -> None:
    async def home_opened(event: dict) -> None:
        """app_home_opened: (re)publish the home tab."""
        if event.get("tab", "home") != "home":
            return
        slack_user = event["user"]
        try:
            user = await deps.identity.user(slack_user)
        except PipedrivenError as exc:  # nobody to show a home for: say how to be added, in the home itself
            view = View(type="home", blocks=[SectionBlock(text=MarkdownTextObject(text=escape(exc.user_message)))])
            await deps.messenger.publish_home(slack_user, view.to_dict())
            return
        await deps.publish_home(user, slack_user)

    listen("event", "app_home_opened", home_opened)

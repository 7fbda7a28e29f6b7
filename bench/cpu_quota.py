"""A CPU quota for a process, as a container limit sets one (docker compose `cpus: 0.4`), with the cgroup v1 cpu
controller: `cpu.cfs_quota_us` of CPU time in every `cpu.cfs_period_us`, however many cores the machine has.

`cpu.shares` gives the group a weight against the machine's other work as well, so that it gets its quota
when it asks for it (a Kubernetes pod whose CPU request equals its limit): on a shared machine the quota is
then both what the process may use and what it can count on. Needs root and a writable /sys/fs/cgroup/cpu.
"""

from __future__ import annotations

import os
from pathlib import Path

CPU_CGROUPS = Path("/sys/fs/cgroup/cpu")
PERIOD_US = 100_000
RESERVED_SHARES = 8 * 1024  # eight ordinary processes' weight


def available() -> bool:
    """Whether this process can make cgroups with a CPU quota (cgroup v1's cpu controller, as root)."""
    return (CPU_CGROUPS / "cpu.cfs_quota_us").exists() and os.access(CPU_CGROUPS / "cgroup.procs", os.W_OK)


class CpuQuota:
    """`with CpuQuota("replica-1", 0.4) as quota: quota.add(pid)`: the processes added get `cores` of CPU
    time at most, and that much before other work when they want it; the cgroup is removed on exit."""

    def __init__(self, name: str, cores: float, shares: int = RESERVED_SHARES) -> None:
        if cores <= 0:
            raise ValueError("a CPU quota is a positive number of cores")
        self.cores, self.shares = cores, shares
        self.path = CPU_CGROUPS / f"pipedriven-bench-{os.getpid()}-{name}"

    def __enter__(self) -> CpuQuota:
        if not available():
            raise RuntimeError(f"no writable cgroup v1 cpu controller at {CPU_CGROUPS} (run as root)")
        self.path.mkdir()
        (self.path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (self.path / "cpu.cfs_quota_us").write_text(str(round(self.cores * PERIOD_US)))
        (self.path / "cpu.shares").write_text(str(self.shares))
        return self

    def add(self, pid: int) -> None:
        """Moves the process (all its threads) into the group."""
        (self.path / "cgroup.procs").write_text(str(pid))

    def stat(self) -> dict[str, int]:
        """The controller's counters: nr_periods, nr_throttled (periods the quota ran out), throttled_time (ns)."""
        lines = (self.path / "cpu.stat").read_text().split("\n")
        return {key: int(value) for key, value in (line.split() for line in lines if line)}

    def __exit__(self, *exc: object) -> None:
        if not self.path.exists():
            return
        for pid in (self.path / "cgroup.procs").read_text().split():
            try:
                (CPU_CGROUPS / "cgroup.procs").write_text(pid)
            except ProcessLookupError:
                pass
        self.path.rmdir()

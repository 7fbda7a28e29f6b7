"""CPU groups for benchmark processes, with the cgroup v1 cpu controller (as root, /sys/fs/cgroup/cpu writable).

A group's quota is what a container limit sets (docker compose `cpus: 0.4`): `cpu.cfs_quota_us` of CPU time in
every `cpu.cfs_period_us`, however many cores the machine has. Its weight (`cpu.shares`) is what a container's
CPU request sets: on a machine shared with other work, a group with a weight above theirs gets the CPU it asks
for first, so a quota is both what the processes may use and what they can count on (a Kubernetes pod whose
request equals its limit), and a group with a weight and no quota is not starved by the machine's other work.
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


class CpuGroup:
    """`with CpuGroup("replica-1", cores=0.4) as group: group.add(pid)`: the processes added get `cores` of CPU
    time at most (no limit if None), and, by their weight, before other work when they want it; the cgroup is
    removed on exit (any process still in it goes back to the root group)."""

    def __init__(self, name: str, cores: float | None = None, shares: int = RESERVED_SHARES) -> None:
        if cores is not None and cores <= 0:
            raise ValueError("a CPU quota is a positive number of cores")
        self.cores, self.shares = cores, shares
        self.path = CPU_CGROUPS / f"pipedriven-bench-{os.getpid()}-{name}"

    def __enter__(self) -> CpuGroup:
        if not available():
            raise RuntimeError(f"no writable cgroup v1 cpu controller at {CPU_CGROUPS} (run as root)")
        self.path.mkdir()
        (self.path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (self.path / "cpu.cfs_quota_us").write_text(str(-1 if self.cores is None else round(self.cores * PERIOD_US)))
        (self.path / "cpu.shares").write_text(str(self.shares))
        return self

    def add(self, pid: int) -> None:
        """Moves the process (all its threads) into the group; the processes it starts later are born in it."""
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

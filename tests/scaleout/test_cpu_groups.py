"""The CPU quota the replicas benchmark holds each replica to: a process in it gets no more than its share of a
core however long it spins, and the cgroup is gone afterwards."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pytest

from fakes import cpu_groups

pytestmark = pytest.mark.skipif(not cpu_groups.available(), reason="needs root and cgroup v1's cpu controller")


def test_a_busy_process_gets_no_more_than_its_quota_and_the_group_goes_away():
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        with cpu_groups.CpuGroup("test-spinner", cores=0.2) as quota:
            quota.add(spinner.pid)
            process = psutil.Process(spinner.pid)
            before, started = sum(process.cpu_times()[:2]), time.monotonic()
            time.sleep(1.5)
            used = (sum(process.cpu_times()[:2]) - before) / (time.monotonic() - started)
            assert quota.stat()["nr_throttled"] > 0
            path = quota.path
        assert used <= 0.25
        assert not path.exists()
    finally:
        spinner.kill()
        spinner.wait()


def test_a_quota_of_no_cores_is_refused():
    with pytest.raises(ValueError):
        cpu_groups.CpuGroup("nothing", cores=0)

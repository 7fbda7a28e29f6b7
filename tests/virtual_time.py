"""Virtual time for code that takes a clock and a sleep: sleepers wake in time order, and nothing waits.

`await vt.run(*coroutines)` runs them side by side: whenever every one is asleep, the clock jumps to the
earliest wake-up. For in-process code only (a task blocked on a socket would look asleep forever).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Coroutine
from typing import Any


class VirtualTime:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now
        self._sleepers: list[tuple[float, int, asyncio.Future]] = []
        self._order = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        wake = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._order), wake))
        await wake

    async def run(self, *coroutines: Coroutine[Any, Any, Any]) -> list[Any]:
        """Run the coroutines side by side to their end; their results, in order."""
        tasks = [asyncio.ensure_future(c) for c in coroutines]
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(0)
            while loop._ready:  # every task runs until it sleeps, waits or ends (asyncio's own ready queue)
                await asyncio.sleep(0)
            if all(task.done() for task in tasks):
                return [task.result() for task in tasks]
            if not self._sleepers:
                raise RuntimeError("every task waits, and not for time")
            at, _, wake = heapq.heappop(self._sleepers)
            self.now = max(self.now, at)
            wake.set_result(None)

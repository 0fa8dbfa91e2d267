"""The simulator's heavy lane: CPU-bound work that must not hold up the shared event loop.

Every node of a simulated cluster shares one asyncio loop, so a single request that parses
for seconds (an 800 KB IN list, a 10 MB statement) would stall every node, gossip and the
failure detector with it. Pure work that touches no cluster state — parsing a big statement
text, encoding a big RESULT body — runs here instead, on one worker thread: requests that
need it queue behind each other (so one process never holds more than one such job's
memory), and the loop keeps the GIL most of the time because the interpreter's switch
interval is lowered to 1 ms while the lane exists.

Work that does touch the cluster model (replica reads and writes) stays on the loop and
yields to it every :data:`YIELD_EVERY` partitions instead (see ``executor.select``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

HEAVY_TEXT = 16 * 1024  # statement texts longer than this are parsed off the loop
HEAVY_ROWS = 2048  # RESULT bodies with more rows than this are encoded off the loop
YIELD_EVERY = 32  # partitions a request reads between two yields to the loop (~1 ms)
SWITCH_INTERVAL = 0.001  # seconds a thread may hold the GIL while another one waits for it

_pool: ThreadPoolExecutor | None = None


def _lane() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        sys.setswitchinterval(SWITCH_INTERVAL)
        _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sim-heavy")
    return _pool


_gc_holds = 0  # heavy requests under way (touched on the loop thread only)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No automatic cyclic GC while a heavy request lives: a full collection walks every
    object of its hundreds of thousands (AST, keys, rows) holding the GIL, a stall of up to
    a second for every node. Its objects are freed by reference counting when it ends."""
    global _gc_holds
    _gc_holds += 1
    gc.disable()
    try:
        yield
    finally:
        _gc_holds -= 1
        if _gc_holds == 0:
            gc.enable()


async def run(work: Callable[..., T], *args: object) -> T:
    """``work(*args)`` on the heavy-lane thread; the loop serves everyone else meanwhile."""
    with gc_paused():
        return await asyncio.get_running_loop().run_in_executor(_lane(), work, *args)


async def run_if(big: bool, work: Callable[..., T], *args: object) -> T:
    """``work(*args)`` on the heavy lane when ``big``, else at once on the loop (cheaper)."""
    if big:
        return await run(work, *args)
    return work(*args)


def shutdown() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None

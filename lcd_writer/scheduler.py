"""When to send the next write: one every ``interval`` s, or ``rate`` per second in load mode.

Both paces run on a fixed schedule (no drift); load mode never bursts more than one second's
worth to catch up after a stall, and never exceeds the in-flight bound: when every slot is
taken it waits for one, so requests are delayed, never dropped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pacer:
    def __init__(self, period: float, stop: threading.Event, max_lag: float = 1.0) -> None:
        self._period = period
        self._stop = stop
        self._max_lag = max_lag
        self._next = time.monotonic()

    def wait_turn(self) -> bool:
        """Sleep until the next slot of the schedule; False when asked to stop."""
        now = time.monotonic()
        if now - self._next > self._max_lag:
            self._next = now
        delay = self._next - now
        if delay > 0 and self._stop.wait(delay):
            return False
        self._next += self._period
        return not self._stop.is_set()


def run_paced(
    period: float,
    stop: threading.Event,
    acquire: Callable[[float], bool],
    send: Callable[[], None],
) -> None:
    """Call ``send`` on the schedule, each time after ``acquire`` gave an in-flight slot."""
    pacer = Pacer(period, stop)
    while pacer.wait_turn():
        while not acquire(0.2):
            if stop.is_set():
                return
        send()

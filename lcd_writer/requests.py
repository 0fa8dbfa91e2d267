"""Asynchronous writes (and read-backs): every request ends in exactly one :class:`Outcome`.

Nothing here blocks on the cluster except :meth:`RequestIssuer.acquire`, which the scheduler
thread calls to respect ``--max-in-flight``. Completions run on the driver's threads, take
the CL that was current when the request was sent, and hand the outcome to ``record``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cassandra.query import BoundStatement
from rackpanel.lcd_writer.consistency import COMMIT_FOR_SERIAL, Operation, driver_level
from rackpanel.lcd_writer.menu import CLMenu
from rackpanel.lcd_writer.outcome import Coordinator, Outcome, classify

Record = Callable[[Outcome], None]


class RequestIssuer:
    def __init__(
        self,
        session: Any,
        insert: Any,
        select: Any,
        menu: CLMenu,
        record: Record,
        *,
        writer_name: str,
        read_back: bool,
        max_in_flight: int,
    ) -> None:
        self._session, self._insert, self._select = session, insert, select
        self._menu, self._record = menu, record
        self._name = writer_name
        self._read_back = read_back
        self._max = max_in_flight
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._seq = 0
        self._coordinators: dict[Any, Coordinator | None] = {}

    def acquire(self, timeout: float) -> bool:
        """Take an in-flight slot (False after ``timeout`` s): pass it to :meth:`write`."""
        return self._slots.acquire(timeout=timeout)

    def drain(self, timeout: float) -> bool:
        """Wait until nothing is in flight (True) or ``timeout`` s passed (False)."""
        deadline = time.monotonic() + timeout
        taken = 0
        while taken < self._max:
            if not self._slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
                break
            taken += 1
        for _ in range(taken):
            self._slots.release()
        return taken == self._max

    def _coordinator(self, host: Any) -> Coordinator | None:
        """The (cached) Coordinator of a driver Host: the hot path builds none per request."""
        if host is None:
            return None
        where = self._coordinators.get(host)
        if where is None:
            where = self._coordinators[host] = Coordinator.of(host)
        return where

    def write(self) -> None:
        """Send one INSERT at the selected write CL; the caller holds a slot."""
        self._seq += 1
        row_id = uuid.uuid1()
        try:
            bound = self._insert.bind((row_id, f"{self._name} #{self._seq}", datetime.now(UTC)))
        except Exception as exc:  # never expected; still one outcome, and the slot back
            outcome, detail = classify(exc)
            cl = self._menu.selected("write")
            self._record(Outcome("write", cl, outcome, 0.0, None, detail))
            self._slots.release()
            return
        self._send("write", bound, lambda _rows: self._after_write(row_id))

    def _after_write(self, row_id: uuid.UUID) -> bool:
        """After an acknowledged write: read it back (keeps the slot) or free the slot."""
        if not self._read_back:
            return False
        self._send("read", self._select.bind((row_id,)), None, row_id=row_id)
        return True

    def _send(
        self,
        operation: Operation,
        bound: BoundStatement,
        then: Callable[[Any], bool] | None,
        *,
        row_id: uuid.UUID | None = None,
    ) -> None:
        cl = self._menu.selected(operation)
        if cl in COMMIT_FOR_SERIAL:  # a conditional write: Paxos at cl, commit to match
            bound.serial_consistency_level = driver_level(cl)
            bound.consistency_level = driver_level(COMMIT_FOR_SERIAL[cl])
        else:
            bound.consistency_level = driver_level(cl)
        start = time.perf_counter()

        def done(outcome: str, host: Any, detail: str = "", stale: bool = False) -> None:
            seconds = time.perf_counter() - start
            where = self._coordinator(host)
            self._record(Outcome(operation, cl, outcome, seconds, where, detail, stale))

        try:
            future = self._session.execute_async(bound)
        except Exception as exc:  # e.g. the session is shut down: still one outcome
            done(*_failure(exc, None))
            self._slots.release()
            return

        def on_result(rows: Any) -> None:
            stale = operation == "read" and not _has_row(rows, row_id)
            done("success", future.coordinator_host, "", stale)
            if then is None or not then(rows):
                self._slots.release()

        def on_error(exc: BaseException) -> None:
            done(*_failure(exc, future.coordinator_host))
            self._slots.release()

        future.add_callbacks(on_result, on_error)


def _failure(exc: BaseException, coordinator: Any) -> tuple[str, Any, str]:
    outcome, detail = classify(exc)
    host = coordinator if coordinator is not None else getattr(exc, "last_host", None)
    return outcome, host, detail


def _has_row(rows: Any, row_id: uuid.UUID | None) -> bool:
    return any(getattr(row, "id", None) == row_id for row in rows)

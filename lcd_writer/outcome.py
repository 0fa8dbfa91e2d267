"""How a request ended: one of the outcomes of metrics.md, the coordinator, the latency.

:func:`classify` maps a cassandra-driver exception to its outcome. The coordinator comes
from the driver itself (``ResponseFuture.coordinator_host`` after an answer,
``OperationTimedOut.last_host`` for a client timeout); nothing is patched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cassandra import OperationTimedOut, ReadTimeout, Unavailable, WriteTimeout
from cassandra.cluster import NoHostAvailable
from rackpanel.contract.families import WRITER_OUTCOMES
from rackpanel.lcd_writer.consistency import Operation

OUTCOMES = WRITER_OUTCOMES  # the contract's label values of `outcome`


@dataclass(frozen=True)
class Coordinator:
    address: str
    dc: str
    rack: str

    @classmethod
    def of(cls, host: Any) -> Coordinator | None:
        """From a driver ``Host`` (None stays None)."""
        if host is None:
            return None
        return cls(str(host.address), str(host.datacenter or "?"), str(host.rack or "?"))

    @property
    def short(self) -> str:
        """``DC1 R2 N1`` for rack RAC2, node address ending in .1: fits the 16x2 LCD."""
        return " ".join(self._parts())

    @property
    def compact(self) -> str:
        """``DC1R2N1``: the short form without spaces, for the two-operation display."""
        return "".join(self._parts())

    def _parts(self) -> tuple[str, str, str]:
        rack = "R" + self.rack[3:] if self.rack.upper().startswith("RAC") else self.rack
        return self.dc[:4], rack[:4], "N" + self.address.rsplit(".", 1)[-1][-3:]


@dataclass(slots=True)  # not frozen: built once per request, frozen init costs twice as much
class Outcome:
    operation: Operation
    cl: str
    outcome: str
    seconds: float
    coordinator: Coordinator | None = None  # the node that answered (None if none did)
    detail: str = ""  # e.g. "2/1" (required/alive) for unavailable, the error type for error
    stale: bool = False  # a successful read that did not find the last acknowledged row

    @property
    def ok(self) -> bool:
        return self.outcome == "success"


def classify(exc: BaseException) -> tuple[str, str]:
    """``(outcome, detail)`` for an exception a request ended with."""
    if isinstance(exc, Unavailable):
        return "unavailable", f"{exc.required_replicas}/{exc.alive_replicas}"
    if isinstance(exc, WriteTimeout):
        return "write_timeout", f"{exc.received_responses}/{exc.required_responses}"
    if isinstance(exc, ReadTimeout):
        return "read_timeout", f"{exc.received_responses}/{exc.required_responses}"
    if isinstance(exc, OperationTimedOut):
        return "client_timeout", ""
    if isinstance(exc, NoHostAvailable):
        return "no_host", ""
    return "error", type(exc).__name__


def answered_by(outcome: str) -> bool:
    """Whether a coordinator answered (so it served the request) for this outcome."""
    return outcome in ("success", "unavailable", "write_timeout", "read_timeout", "error")

"""Per-node counters: coordinator errors per CL (Jolokia ClientRequest beans) and stage work
(system_views.thread_pools)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

POOLS = (
    "CompactionExecutor",
    "GossipStage",
    "HintsDispatcher",
    "MemtableFlushWriter",
    "MemtablePostFlush",
    "MigrationStage",
    "MutationStage",
    "Native-Transport-Requests",
    "ReadStage",
    "RequestResponseStage",
    "ValidationExecutor",
)
POOL_LIMITS = {"MutationStage": 32, "ReadStage": 32, "Native-Transport-Requests": 128}


@dataclass
class NodeStats:
    """Counters of one node since the simulator started (they survive power cycles, as
    Prometheus counters must not go backwards without a restart being visible: ``started``
    is the last power-on, used for uptime-based JVM figures)."""

    started: float = field(default_factory=time.time)
    client_errors: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    # a plain dict of every pool (a Counter's item updates are several times slower, and
    # the coordinator makes two per request)
    completed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(POOLS, 0))
    waiting: int = 0  # requests this coordinator holds while replicas stay silent
    hints_created: Counter[str] = field(default_factory=Counter)  # target name -> hints written

    def error(self, operation: str, cl_name: str, kind: str) -> None:
        """``operation`` Write|Read, ``kind`` Unavailables|Timeouts|Failures."""
        self.client_errors[(operation, cl_name, kind)] += 1

    def uptime(self) -> float:
        return max(0.0, time.time() - self.started)

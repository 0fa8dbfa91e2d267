"""Gossip state and the phi-accrual failure detector, per observer.

Every powered node advances its heartbeat once per gossip interval. An observer receives a
node's state (generation, heartbeat, application states) only while both are powered and no
cut link separates them; each arrival feeds the observer's failure detector. As in
Cassandra's ``gms/FailureDetector.java``, phi = (now - last arrival) / mean interval * 1/ln 10,
and the node is convicted when phi exceeds ``phi_convict_threshold``: ≈ threshold·ln 10
silent intervals (8 → ≈ 18 s with 1 s gossip; the "fast" detector's 2 → ≈ 4.6 s).
A convicted node is restored as soon as a newer heartbeat arrives.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field

PHI_FACTOR = 1.0 / math.log(10.0)
ARRIVAL_WINDOW = 100

# Application states in gossip_info column order (lower-case names as in system_views).
STATES = (
    "status",
    "load",
    "schema",
    "dc",
    "rack",
    "release_version",
    "internal_ip",
    "rpc_address",
    "severity",
    "net_version",
    "host_id",
    "rpc_ready",
    "internal_address_and_port",
    "native_address_and_port",
    "status_with_port",
    "sstable_versions",
    "disk_usage",
)


@dataclass(frozen=True)
class GossipState:
    """What a node gossips about itself: generation, heartbeat, {state: (value, version)}."""

    generation: int
    heartbeat: int
    states: dict[str, tuple[str, int]]


@dataclass
class EndpointView:
    """One observer's knowledge of one endpoint."""

    state: GossipState | None = None
    alive: bool = True
    last_arrival: float = 0.0  # monotonic seconds
    heartbeat_changed_at: float = field(default_factory=time.time)  # wall clock
    down_since: float | None = None  # wall clock of the conviction
    intervals: deque[float] = field(default_factory=lambda: deque(maxlen=ARRIVAL_WINDOW))

    def receive(self, state: GossipState, now: float, gossip_interval: float) -> bool:
        """Record an arrival; True if it carried a newer heartbeat (or generation)."""
        old = self.state
        newer = (
            old is None
            or state.generation > old.generation
            or (state.generation == old.generation and state.heartbeat > old.heartbeat)
        )
        self.state = state
        if not newer:
            return False
        if self.last_arrival and old is not None and state.generation == old.generation:
            interval = now - self.last_arrival
            # Cassandra ignores intervals above MAX_INTERVAL (2 * gossip) in the window
            if interval <= 2 * gossip_interval:
                self.intervals.append(interval)
        self.last_arrival = now
        self.heartbeat_changed_at = time.time()
        return True

    def mean_interval(self, gossip_interval: float) -> float:
        if not self.intervals:
            return gossip_interval
        return max(sum(self.intervals) / len(self.intervals), gossip_interval / 4)

    def phi(self, now: float, gossip_interval: float) -> float:
        if not self.last_arrival:
            return 0.0
        return (now - self.last_arrival) / self.mean_interval(gossip_interval) * PHI_FACTOR

    def reset(self, now: float, alive: bool) -> None:
        self.alive = alive
        self.intervals.clear()
        self.last_arrival = now if alive else 0.0
        self.down_since = None if alive else time.time()

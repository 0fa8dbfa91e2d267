"""Judging each endpoint alive or dead, as the local node sees it.

Exact: the node's own failure detector (Jolokia ``SimpleStatesWithPort``). Inferred, without
Jolokia: Cassandra feeds its failure detector exactly when an endpoint's gossiped heartbeat
advances and convicts once phi = silence / mean interval / ln 10 exceeds
``phi_convict_threshold``; gossip runs every second, so an endpoint is judged down when its
heartbeat has not advanced for ``phi_convict_threshold * ln 10`` seconds (≈ 18 s by default,
≈ 4.6 s with the simulator's fast setting), or at once when its gossip STATUS says it shut
down or left. The heartbeat age is measured on the exporter's clock from the collection that
first saw the current (generation, heartbeat); it is never more than the real silence, so the
verdict comes at most one collection interval after Cassandra's own. An endpoint already
silent when the exporter starts is judged down once the threshold has passed since the
exporter first saw it (a gossip STATUS of shutdown/LEFT is believed at once).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rackpanel.exporter.readings import EndpointId, GossipEntry

GOSSIP_INTERVAL_SECONDS = 1.0
DEAD_STATUSES = frozenset({"shutdown", "left", "removing", "removed", "hibernate"})


def conviction_seconds(phi_convict_threshold: float) -> float:
    """Heartbeat silence after which Cassandra's failure detector convicts an endpoint."""
    return phi_convict_threshold * math.log(10) * GOSSIP_INTERVAL_SECONDS


def status_says_dead(status: str | None) -> bool:
    return status is not None and status.lower() in DEAD_STATUSES


@dataclass(frozen=True)
class EndpointView:
    endpoint: EndpointId
    up: bool | None  # None: no verdict available (no Jolokia and no heartbeat)
    heartbeat_age: float | None


class HeartbeatClock:
    """When each endpoint's (generation, heartbeat) last changed, on the exporter's clock.

    Holds only the endpoints of the latest gossip reading, so it never grows beyond the cluster.
    """

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._seen: dict[str, tuple[tuple[int | None, int | None], float]] = {}

    def ages(self, entries: Iterable[GossipEntry]) -> dict[str, float]:
        now = self._now()
        seen: dict[str, tuple[tuple[int | None, int | None], float]] = {}
        for entry in entries:
            if entry.heartbeat is None:
                continue
            version = (entry.generation, entry.heartbeat)
            previous = self._seen.get(entry.endpoint.address)
            since = previous[1] if previous and previous[0] == version else now
            seen[entry.endpoint.address] = (version, since)
        self._seen = seen
        return {address: now - since for address, (_, since) in seen.items()}


def judge(
    entries: Iterable[GossipEntry],
    ages: dict[str, float],
    local_address: str,
    phi_convict_threshold: float,
    failure_detector: dict[str, bool] | None,
) -> list[EndpointView]:
    """Every gossip endpoint's verdict: the failure detector's when given, else inferred."""
    limit = conviction_seconds(phi_convict_threshold)
    views = []
    for entry in entries:
        address = entry.endpoint.address
        age = ages.get(address)
        up: bool | None
        if address == local_address:
            up = True
        elif failure_detector is not None:
            up = failure_detector.get(address)
        elif status_says_dead(entry.status):
            up = False
        elif age is not None:
            up = age <= limit
        else:
            up = None
        views.append(EndpointView(entry.endpoint, up, age))
    return views

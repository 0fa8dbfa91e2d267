"""Latest readings → the metric families of :mod:`rackpanel.contract` (docs/metrics.md).

Endpoint series carry ``endpoint``, ``endpoint_dc``, ``endpoint_rack`` and never
cluster/dc/rack/node (Prometheus adds those from its targets). A source that failed on its
last collection contributes nothing but its ``source_up 0``: no stale figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from rackpanel.contract import SOURCES
from rackpanel.contract import families as m
from rackpanel.exporter.exposition import Family
from rackpanel.exporter.liveness import EndpointView
from rackpanel.exporter.readings import (
    CqlReading,
    EndpointId,
    GcLogReading,
    GcTotals,
    JolokiaReading,
    ProcReading,
)


@dataclass(frozen=True)
class SourceStatus:
    name: str
    up: bool
    duration: float | None  # None until the first collection ends
    errors: int
    reading: object | None  # the last reading when up, else None


def _endpoint_labels(endpoint: EndpointId) -> dict[str, str]:
    return {
        "endpoint": endpoint.address,
        "endpoint_dc": endpoint.dc,
        "endpoint_rack": endpoint.rack,
    }


def exporter_families(statuses: dict[str, SourceStatus]) -> list[Family]:
    up = Family(m.SOURCE_UP)
    duration = Family(m.COLLECT_DURATION)
    errors = Family(m.COLLECT_ERRORS)
    for name in SOURCES:
        status = statuses.get(name)
        up.add(1 if status and status.up else 0, source=name)
        if status and status.duration is not None:
            duration.add(status.duration, source=name)
        errors.add(status.errors if status else 0, source=name)
    return [up, duration, errors]


def cql_families(reading: CqlReading | None) -> list[Family]:
    info = Family(m.NODE_INFO)
    status = Family(m.GOSSIP_STATUS)
    heartbeat = Family(m.GOSSIP_HEARTBEAT)
    generation = Family(m.GOSSIP_GENERATION)
    pools = {
        "active": Family(m.POOL_ACTIVE),
        "pending": Family(m.POOL_PENDING),
        "blocked": Family(m.POOL_BLOCKED),
        "completed_total": Family(m.POOL_COMPLETED),
        "blocked_total": Family(m.POOL_BLOCKED_TOTAL),
    }
    clients = Family(m.NATIVE_CLIENTS)
    hints = Family(m.PENDING_HINTS_FILES)
    families = [info, status, heartbeat, generation, *pools.values(), clients, hints]
    if reading is None:
        return families
    local = reading.local
    info.add(
        1,
        host_id=local.host_id,
        **_endpoint_labels(local.endpoint),
        release_version=local.release_version,
        cluster_name=local.cluster_name,
    )
    for entry in reading.gossip:
        labels = _endpoint_labels(entry.endpoint)
        if entry.status:
            status.add(1, **labels, status=entry.status)
        if entry.heartbeat is not None:
            heartbeat.add(entry.heartbeat, **labels)
        if entry.generation is not None:
            generation.add(entry.generation, **labels)
    for pool in reading.thread_pools:
        for kind, family in pools.items():
            family.add(getattr(pool, kind), pool=pool.name)
    clients.add(reading.native_clients)
    for endpoint, files in reading.pending_hints:
        hints.add(files, **_endpoint_labels(endpoint))
    return families


def liveness_families(views: list[EndpointView], exact: bool | None) -> list[Family]:
    up = Family(m.ENDPOINT_UP)
    age = Family(m.GOSSIP_HEARTBEAT_AGE)
    exact_family = Family(m.LIVENESS_EXACT)
    for view in views:
        labels = _endpoint_labels(view.endpoint)
        if view.up is not None:
            up.add(1 if view.up else 0, **labels)
        if view.heartbeat_age is not None:
            age.add(round(view.heartbeat_age, 3), **labels)
    if exact is not None:
        exact_family.add(1 if exact else 0)
    return [up, exact_family, age]


def phi_family(reading: JolokiaReading | None, endpoints: dict[str, EndpointId]) -> Family:
    phi = Family(m.ENDPOINT_PHI)
    for address, value in sorted((reading.endpoint_phi if reading else {}).items()):
        if address in endpoints:
            phi.add(value, **_endpoint_labels(endpoints[address]))
    return phi


def hint_families(reading: JolokiaReading | None, endpoints: dict[str, EndpointId]) -> list[Family]:
    """Hints as the coordinator writes them: these move during an outage (Jolokia only).

    ``system_views.pending_hints`` lists a target only once its hints file is closed for
    dispatch, i.e. after the target is back; these counters grow while it is still down.
    """
    written = Family(m.HINTS_WRITTEN)
    in_progress = Family(m.HINTS_IN_PROGRESS)
    created = Family(m.HINTS_CREATED)
    delivered = Family(m.HINTS_DELIVERED)
    hints = reading.hints if reading is not None else None
    if hints is not None:
        written.add(hints.written)
        in_progress.add(hints.in_progress)
        for address, count in sorted(hints.created.items()):
            if address in endpoints:
                created.add(count, **_endpoint_labels(endpoints[address]))
        for result, count in sorted(hints.delivered.items()):
            delivered.add(count, result=result)
    return [written, in_progress, created, delivered]


def jvm_families(jolokia: JolokiaReading | None, gclog: GcLogReading | None) -> list[Family]:
    """JVM figures: live from Jolokia when it answers, else from the GC log.

    From the GC log the heap gauges describe the heap as the last collection left it (used
    right after the pause, its capacity, -Xmx); safepoints exist only there.
    """
    memory = {
        "used": Family(m.JVM_MEMORY_USED),
        "committed": Family(m.JVM_MEMORY_COMMITTED),
        "max": Family(m.JVM_MEMORY_MAX),
    }
    collections = Family(m.JVM_GC_COLLECTIONS)
    seconds = Family(m.JVM_GC_SECONDS)
    threads = Family(m.JVM_THREADS)
    safepoints = Family(m.JVM_SAFEPOINTS)
    stopped = Family(m.JVM_SAFEPOINT_SECONDS)
    gc: dict[str, GcTotals] = {}
    if jolokia is not None:
        for area, figures in jolokia.memory.items():
            memory["used"].add(figures.used, area=area)
            memory["committed"].add(figures.committed, area=area)
            memory["max"].add(figures.max, area=area)
        threads.add(jolokia.threads)
        gc = jolokia.gc
    elif gclog is not None:
        gc = gclog.pauses
        if gclog.heap is not None:
            if gclog.heap.used_after_gc is not None:
                memory["used"].add(gclog.heap.used_after_gc, area="heap")
            if gclog.heap.capacity is not None:
                memory["committed"].add(gclog.heap.capacity, area="heap")
            if gclog.heap.max is not None:
                memory["max"].add(gclog.heap.max, area="heap")
    if gclog is not None and gclog.safepoints is not None:
        safepoints.add(gclog.safepoints.collections)
        stopped.add(gclog.safepoints.seconds)
    for name, totals in sorted(gc.items()):
        collections.add(totals.collections, gc=name)
        seconds.add(totals.seconds, gc=name)
    return [*memory.values(), collections, seconds, threads, safepoints, stopped]


def client_request_family(reading: JolokiaReading | None) -> Family:
    family = Family(m.CLIENT_REQUEST_FAILURES)
    for (operation, cl, kind), count in sorted(
        (reading.client_request_failures if reading else {}).items()
    ):
        family.add(count, operation=operation, cl=cl, kind=kind)
    return family


def process_families(reading: ProcReading | None) -> list[Family]:
    rss = Family(m.PROCESS_RSS)
    cpu = Family(m.PROCESS_CPU)
    if reading is not None:
        rss.add(reading.resident_bytes)
        cpu.add(reading.cpu_seconds)
    return [rss, cpu]

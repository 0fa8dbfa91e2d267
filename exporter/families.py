"""The metric contract (shared/design/metrics.md): latest readings → metric families.

Endpoint series carry ``endpoint``, ``endpoint_dc``, ``endpoint_rack`` and never
cluster/dc/rack/node (Prometheus adds those from its targets). A source that failed on its
last collection contributes nothing but its ``source_up 0``: no stale figures.
"""

from __future__ import annotations

from dataclasses import dataclass

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

SOURCES = ("cql", "jolokia", "proc", "gclog")


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
    up = Family(
        "cassandra_exporter_source_up", "gauge", "1 if that source was read on the last collection"
    )
    duration = Family(
        "cassandra_exporter_collect_duration_seconds",
        "gauge",
        "Time the last collection of that source took",
    )
    errors = Family("cassandra_exporter_collect_errors_total", "counter", "Failed collections")
    for name in SOURCES:
        status = statuses.get(name)
        up.add(1 if status and status.up else 0, source=name)
        if status and status.duration is not None:
            duration.add(status.duration, source=name)
        errors.add(status.errors if status else 0, source=name)
    return [up, duration, errors]


def cql_families(reading: CqlReading | None) -> list[Family]:
    info = Family("cassandra_node_info", "gauge", "The local node's identity")
    status = Family("cassandra_gossip_status", "gauge", "The gossip STATUS of each endpoint")
    heartbeat = Family("cassandra_gossip_heartbeat", "gauge", "Gossip heartbeat version")
    generation = Family(
        "cassandra_gossip_generation", "gauge", "Gossip generation (node start time)"
    )
    pools = {
        kind: Family(f"cassandra_thread_pool_{kind}", type_, help_)
        for kind, type_, help_ in (
            ("active_tasks", "gauge", "Tasks running in the pool"),
            ("pending_tasks", "gauge", "Tasks queued in the pool"),
            ("blocked_tasks", "gauge", "Tasks blocked on a full pool queue"),
            ("completed_tasks_total", "counter", "Tasks the pool completed"),
            ("blocked_tasks_total", "counter", "Tasks ever blocked on a full pool queue"),
        )
    }
    clients = Family("cassandra_native_clients", "gauge", "Connected CQL clients")
    hints = Family("cassandra_pending_hints_files", "gauge", "Hint files held for an endpoint")
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
        pools["active_tasks"].add(pool.active, pool=pool.name)
        pools["pending_tasks"].add(pool.pending, pool=pool.name)
        pools["blocked_tasks"].add(pool.blocked, pool=pool.name)
        pools["completed_tasks_total"].add(pool.completed_total, pool=pool.name)
        pools["blocked_tasks_total"].add(pool.blocked_total, pool=pool.name)
    clients.add(reading.native_clients)
    for endpoint, files in reading.pending_hints:
        hints.add(files, **_endpoint_labels(endpoint))
    return families


def liveness_families(views: list[EndpointView], exact: bool | None) -> list[Family]:
    up = Family("cassandra_endpoint_up", "gauge", "1 if this node judges that endpoint alive")
    age = Family(
        "cassandra_gossip_heartbeat_age_seconds",
        "gauge",
        "Seconds since the endpoint's gossip heartbeat last advanced",
    )
    exact_family = Family(
        "cassandra_endpoint_liveness_exact",
        "gauge",
        "1 when cassandra_endpoint_up comes from the failure detector, 0 when inferred",
    )
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
    phi = Family("cassandra_endpoint_phi", "gauge", "Failure detector phi of the endpoint")
    for address, value in sorted((reading.endpoint_phi if reading else {}).items()):
        if address in endpoints:
            phi.add(value, **_endpoint_labels(endpoints[address]))
    return phi


def jvm_families(jolokia: JolokiaReading | None, gclog: GcLogReading | None) -> list[Family]:
    memory = {
        kind: Family(f"cassandra_jvm_memory_{kind}_bytes", "gauge", f"JVM memory {kind}")
        for kind in ("used", "committed", "max")
    }
    collections = Family(
        "cassandra_jvm_gc_collections_total", "counter", "Collections per collector"
    )
    seconds = Family(
        "cassandra_jvm_gc_collection_seconds_total", "counter", "Time spent per collector"
    )
    threads = Family("cassandra_jvm_threads", "gauge", "Live JVM threads")
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
    for name, totals in sorted(gc.items()):
        collections.add(totals.collections, gc=name)
        seconds.add(totals.seconds, gc=name)
    return [*memory.values(), collections, seconds, threads]


def client_request_family(reading: JolokiaReading | None) -> Family:
    family = Family(
        "cassandra_client_request_failures_total",
        "counter",
        "Coordinator-side request errors by consistency level",
    )
    for (operation, cl, kind), count in sorted(
        (reading.client_request_failures if reading else {}).items()
    ):
        family.add(count, operation=operation, cl=cl, kind=kind)
    return family


def process_families(reading: ProcReading | None) -> list[Family]:
    rss = Family(
        "cassandra_process_resident_memory_bytes",
        "gauge",
        "Resident memory of the Cassandra process",
    )
    cpu = Family(
        "cassandra_process_cpu_seconds_total", "counter", "CPU time of the Cassandra process"
    )
    if reading is not None:
        rss.add(reading.resident_bytes)
        cpu.add(reading.cpu_seconds)
    return [rss, cpu]

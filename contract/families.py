"""Every metric family of the exporter (job ``cassandra``) and of the LCD writer (job
``lcd_writer``): name, type, labels, help and the exporter source each one needs.

The exporter, the writer, the rules' and dashboards' checks and docs/metrics.md are built from
these; a part refers to a family by its constant here, never by a string of its own.
"""

from __future__ import annotations

from rackpanel.contract.model import (
    CASSANDRA_JOB,
    ENDPOINT_LABELS,
    WRITER_JOB,
    MetricFamily,
    MetricType,
    Source,
)


def _node(
    name: str,
    type_: MetricType,
    help_: str,
    labels: tuple[str, ...] = (),
    sources: tuple[Source, ...] = (),
    constant: bool = False,
) -> MetricFamily:
    return MetricFamily(name, type_, help_, CASSANDRA_JOB, labels, sources, constant)


def _writer(
    name: str, type_: MetricType, help_: str, labels: tuple[str, ...] = (), constant: bool = False
) -> MetricFamily:
    return MetricFamily(name, type_, help_, WRITER_JOB, labels, (), constant)


E = ENDPOINT_LABELS

# --- exporter (job cassandra) -----------------------------------------------------------------
UP = _node("cassandra_up", "gauge", "1 if the local node answers CQL", sources=("cql",))
SOURCE_UP = _node(
    "cassandra_exporter_source_up",
    "gauge",
    "1 if that source was read on the last collection",
    ("source",),
)
COLLECT_DURATION = _node(
    "cassandra_exporter_collect_duration_seconds",
    "gauge",
    "Time the last collection of that source took",
    ("source",),
)
COLLECT_ERRORS = _node(
    "cassandra_exporter_collect_errors_total", "counter", "Failed collections", ("source",)
)
NODE_INFO = _node(
    "cassandra_node_info",
    "gauge",
    "The local node's identity",
    ("host_id", *E, "release_version", "cluster_name"),
    ("cql",),
    constant=True,
)
ENDPOINT_UP = _node(
    "cassandra_endpoint_up",
    "gauge",
    "1 if this node judges that endpoint alive (Jolokia FailureDetector when present, else "
    "gossip heartbeat age vs. threshold); includes the local node",
    E,
    ("cql",),
)
LIVENESS_EXACT = _node(
    "cassandra_endpoint_liveness_exact",
    "gauge",
    "1 when cassandra_endpoint_up comes from the failure detector itself, 0 when inferred",
    sources=("cql",),
)
GOSSIP_HEARTBEAT = _node(
    "cassandra_gossip_heartbeat", "gauge", "Gossip heartbeat version", E, ("cql",)
)
GOSSIP_GENERATION = _node(
    "cassandra_gossip_generation", "gauge", "Gossip generation (node start time)", E, ("cql",)
)
GOSSIP_HEARTBEAT_AGE = _node(
    "cassandra_gossip_heartbeat_age_seconds",
    "gauge",
    "Seconds since the endpoint's gossip heartbeat last advanced",
    E,
    ("cql",),
)
GOSSIP_STATUS = _node(
    "cassandra_gossip_status",
    "gauge",
    "The gossip STATUS of each endpoint",
    (*E, "status"),
    ("cql",),
    constant=True,
)
ENDPOINT_PHI = _node(
    "cassandra_endpoint_phi", "gauge", "Failure detector phi of the endpoint", E, ("jolokia",)
)
JVM_MEMORY_USED = _node(
    "cassandra_jvm_memory_used_bytes",
    "gauge",
    "JVM memory used (gc.log, heap only: right after the last collection)",
    ("area",),
    ("jolokia", "gclog"),
)
JVM_MEMORY_COMMITTED = _node(
    "cassandra_jvm_memory_committed_bytes",
    "gauge",
    "JVM memory committed (gc.log, heap only: the capacity at the last collection)",
    ("area",),
    ("jolokia", "gclog"),
)
JVM_MEMORY_MAX = _node(
    "cassandra_jvm_memory_max_bytes",
    "gauge",
    "JVM memory limit, -1 when the JVM has none (gc.log, heap only: -Xmx from its start)",
    ("area",),
    ("jolokia", "gclog"),
)
JVM_GC_COLLECTIONS = _node(
    "cassandra_jvm_gc_collections_total",
    "counter",
    "Collections per collector",
    ("gc",),
    ("jolokia", "gclog"),
)
JVM_GC_SECONDS = _node(
    "cassandra_jvm_gc_collection_seconds_total",
    "counter",
    "Time spent per collector",
    ("gc",),
    ("jolokia", "gclog"),
)
JVM_THREADS = _node("cassandra_jvm_threads", "gauge", "Live JVM threads", sources=("jolokia",))
JVM_SAFEPOINTS = _node(
    "cassandra_jvm_safepoints_total",
    "counter",
    "Safepoints: the application threads stopped (Cassandra's safepoint=info gc.log lines)",
    sources=("gclog",),
)
JVM_SAFEPOINT_SECONDS = _node(
    "cassandra_jvm_safepoint_seconds_total",
    "counter",
    "Time the application threads were stopped in safepoints",
    sources=("gclog",),
)
PROCESS_RSS = _node(
    "cassandra_process_resident_memory_bytes",
    "gauge",
    "Resident memory of the Cassandra process",
    sources=("proc",),
)
PROCESS_CPU = _node(
    "cassandra_process_cpu_seconds_total",
    "counter",
    "CPU time of the Cassandra process",
    sources=("proc",),
)
POOL_ACTIVE = _node(
    "cassandra_thread_pool_active_tasks",
    "gauge",
    "Tasks running in the pool (system_views.thread_pools)",
    ("pool",),
    ("cql",),
)
POOL_PENDING = _node(
    "cassandra_thread_pool_pending_tasks",
    "gauge",
    "Tasks queued in the pool (system_views.thread_pools)",
    ("pool",),
    ("cql",),
)
POOL_BLOCKED = _node(
    "cassandra_thread_pool_currently_blocked_tasks",
    "gauge",
    "Tasks blocked on a full pool queue now (system_views.thread_pools)",
    ("pool",),
    ("cql",),
)
POOL_COMPLETED = _node(
    "cassandra_thread_pool_completed_tasks_total",
    "counter",
    "Tasks the pool completed",
    ("pool",),
    ("cql",),
)
POOL_BLOCKED_TOTAL = _node(
    "cassandra_thread_pool_blocked_tasks_total",
    "counter",
    "Tasks ever blocked on a full pool queue",
    ("pool",),
    ("cql",),
)
NATIVE_CLIENTS = _node(
    "cassandra_native_clients", "gauge", "Connected CQL clients", sources=("cql",)
)
PENDING_HINTS_FILES = _node(
    "cassandra_pending_hints_files",
    "gauge",
    "Hint files held for an endpoint (system_views.pending_hints, 4.1+: listed once the "
    "endpoint is back and its hints wait for dispatch, not during the outage)",
    E,
    ("cql",),
)
HINTS_WRITTEN = _node(
    "cassandra_hints_written_total",
    "counter",
    "Hints this node wrote for down replicas (Storage TotalHints): grows during the outage",
    sources=("jolokia",),
)
HINTS_IN_PROGRESS = _node(
    "cassandra_hints_in_progress",
    "gauge",
    "Hints being written now (Storage TotalHintsInProgress)",
    sources=("jolokia",),
)
HINTS_CREATED = _node(
    "cassandra_hints_created_total",
    "counter",
    "Hints created for that endpoint (HintedHandOffManager Hints_created-<endpoint>): grows "
    "during the outage",
    E,
    ("jolokia",),
)
HINTS_DELIVERED = _node(
    "cassandra_hints_delivered_total",
    "counter",
    "Hint deliveries by result (HintsService HintsSucceeded, HintsFailed, HintsTimedOut)",
    ("result",),
    ("jolokia",),
)
CLIENT_REQUEST_FAILURES = _node(
    "cassandra_client_request_failures_total",
    "counter",
    "Coordinator-side request errors by consistency level (ClientRequest beans)",
    ("operation", "cl", "kind"),
    ("jolokia",),
)

# --- writer (job lcd_writer) ------------------------------------------------------------------
WRITER_INFO = _writer(
    "lcd_writer_info", "gauge", "Identity of this writer", ("writer", "local_dc"), constant=True
)
WRITER_CONSISTENCY_LEVEL = _writer(
    "lcd_writer_consistency_level",
    "gauge",
    "One series per offered CL: 1 for the CL selected on the keypad, 0 for the others",
    ("operation", "cl"),
)
WRITER_REQUESTS = _writer(
    "lcd_writer_requests_total",
    "counter",
    "Every request and how it ended",
    ("operation", "cl", "outcome"),
)
WRITER_REQUEST_DURATION = _writer(
    "lcd_writer_request_duration_seconds",
    "histogram",
    "End-to-end latency as the client saw it",
    ("operation", "cl", "outcome"),
)
WRITER_COORDINATOR_REQUESTS = _writer(
    "lcd_writer_coordinator_requests_total",
    "counter",
    "Which coordinator answered each request (client timeouts and no-host excluded)",
    ("operation", "cl", "coordinator_dc", "coordinator_rack", "coordinator"),
)
WRITER_HOSTS_UP = _writer(
    "lcd_writer_cluster_hosts_up",
    "gauge",
    "Hosts the driver currently considers up, per DC",
    ("host_dc",),
)

# How a writer's request ended (lcd_writer.outcome classifies into exactly these).
WRITER_OUTCOMES = (
    "success",
    "unavailable",
    "write_timeout",
    "read_timeout",
    "client_timeout",
    "no_host",
    "error",
)

# What the label values are, for the reader of docs/metrics.md.
LABEL_VALUES: dict[str, str] = {
    "source": "cql, jolokia, proc, gclog",
    "area": "heap, nonheap",
    "status": "NORMAL, LEAVING, LEFT, shutdown, ...",
    "operation": "read, write",
    "kind": "unavailable, timeout, failure",
    "result": "succeeded, failed, timed_out",
    "outcome": ", ".join(WRITER_OUTCOMES),
}

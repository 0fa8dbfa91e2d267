"""The recording rules and alerts of prometheus/rules: their names and what each one means.

prometheus/rules.py writes the expressions; it may only record and alert under these names
(it refuses to render otherwise), and the dashboards may only read these records.
"""

from __future__ import annotations

from rackpanel.contract.model import CASSANDRA_JOB, WRITER_JOB, AlertName, RecordingRule

C, W = CASSANDRA_JOB, WRITER_JOB

# --- recording rules --------------------------------------------------------------------------
ENDPOINT_UP_BY_DC = RecordingRule(
    "cassandra:endpoint_up_by_dc:max",
    "`max by (dc, endpoint, endpoint_dc, endpoint_rack)`: the highest verdict on each endpoint "
    "of the observers of each DC (`dc`) whose own node answers CQL; the one read of the "
    "observer x endpoint series an evaluation (40,000 of them at 1,000 nodes)",
    C,
)
ENDPOINT_UP_MAX = RecordingRule(
    "cassandra:endpoint_up:max",
    "`max by (endpoint, endpoint_dc, endpoint_rack)` over all observers whose own node answers "
    "CQL (of `cassandra:endpoint_up_by_dc:max`): one partitioned observer cannot fake an outage",
    C,
)
RACK_NODES_UP = RecordingRule(
    "cassandra:rack_nodes_up:sum", "nodes judged up per (endpoint_dc, endpoint_rack)", C
)
RACK_NODES = RecordingRule(
    "cassandra:rack_nodes:count", "nodes known per (endpoint_dc, endpoint_rack)", C
)
RACK_NODES_DOWN = RecordingRule(
    "cassandra:rack_nodes_down:sum", "nodes judged down per (endpoint_dc, endpoint_rack)", C
)
DC_NODES_UP = RecordingRule("cassandra:dc_nodes_up:sum", "nodes judged up per endpoint_dc", C)
DC_NODES = RecordingRule("cassandra:dc_nodes:count", "nodes known per endpoint_dc", C)
ENDPOINT_NODE_CANDIDATES = RecordingRule(
    "cassandra:endpoint_node:candidates",
    "which inventory node (`node`) an endpoint address may be: from each exporter's "
    "cassandra_node_info over the last hour, else from the target's host",
    C,
)
ENDPOINT_NODE = RecordingRule(
    "cassandra:endpoint_node:info",
    "the inventory node of each endpoint, when exactly one node claims it",
    C,
)
TARGET_NODE_ANSWERS = RecordingRule(
    "cassandra:target_node_answers",
    "per exporter target: 1 when it was scraped and its node answers CQL, 0 when either fails",
    C,
)
WRITER_SUCCESS_RATIO = RecordingRule(
    "lcd_writer:success_ratio:rate1m",
    "share of successful requests over the last minute, per writer, operation and cl "
    "(only CLs with requests)",
    W,
)

# --- alerts -----------------------------------------------------------------------------------
DATACENTER_UNAVAILABLE = AlertName(
    "CassandraDatacenterUnavailable",
    "critical",
    "no node of a DC is alive: every observer still answering sees them all down, or none of "
    "the DC's own exporters answers (judged from other DCs' observers and from `up`)",
    C,
)
DATACENTER_PARTITIONED = AlertName(
    "CassandraDatacenterPartitioned",
    "critical",
    "the observers of one DC (`observer_dc`) judge every node of another DC (`endpoint_dc`) down "
    "while that DC's own observers judge some of its nodes up: a cut DC link, not an outage "
    "(never fires for a DC outage; CassandraDatacenterUnavailable never fires for a partition)",
    C,
)
RACK_DOWN = AlertName("CassandraRackDown", "critical", "every node of a rack is judged down", C)
NODE_DOWN = AlertName(
    "CassandraNodeDown", "warning", "a node is judged down by every observer that answers", C
)
EXPORTER_DOWN = AlertName(
    "CassandraExporterDown",
    "warning",
    "an exporter cannot be scraped while other nodes see its node alive",
    C,
)
JVM_HEAP_HIGH = AlertName("CassandraJvmHeapHigh", "warning", "a node's heap is nearly full", C)
LOCAL_QUORUM_AT_RISK = AlertName(
    "CassandraLocalQuorumAtRisk",
    "critical",
    "down replicas leave some partition of a DC short of LOCAL_QUORUM (one rule per replicated DC)",
    C,
)
WRITER_WRITES_FAILING = AlertName(
    "LcdWriterWritesFailing",
    "warning",
    "most writes of a writer at its selected CL fail",
    W,
)
WRITER_DOWN = AlertName("LcdWriterDown", "warning", "a writer cannot be scraped", W)

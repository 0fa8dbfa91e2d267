"""Recording rules and alerts, written once and timed by a :class:`~prometheus.profiles.Profile`.

Liveness is judged from the observers, never from one of them: every exporter reports how its
node sees every endpoint (``cassandra_endpoint_up``), and ``cassandra:endpoint_up:max`` keeps an
endpoint up as long as ONE observer whose own node answers CQL still sees it up, so a single
partitioned node cannot fake an outage. A datacenter whose every node and every exporter is gone
is still caught: the other DCs' observers see all its nodes down, and when no observer is left
at all, ``up`` and ``cassandra_up`` of its own targets say that none of them answers.

The only inventory facts used are the keyspace replication and the racks per DC, for the
LOCAL_QUORUM risk (one alert rule per replicated DC, with the arithmetic in its description).
"""

from __future__ import annotations

from dataclasses import dataclass

from rackpanel.contract import ContractError, alerts, record_names, unknown_series
from rackpanel.contract import alert_names as contract_alert_names
from rackpanel.prometheus.jobs import CASSANDRA_JOB, WRITER_JOB
from rackpanel.prometheus.profiles import Profile
from rackpanel.topology import Inventory

HEAP_HIGH_RATIO = 0.9
WRITES_FAILING_RATIO = 0.5


@dataclass(frozen=True)
class Record:
    record: str
    expr: str

    def to_yaml(self) -> dict[str, object]:
        return {"record": self.record, "expr": self.expr}


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    severity: str
    summary: str
    description: str
    # Static labels besides severity (e.g. the DC of a per-DC rule, so rules stay distinct).
    labels: tuple[tuple[str, str], ...] = ()

    def to_yaml(self, profile: Profile) -> dict[str, object]:
        rule: dict[str, object] = {
            "alert": self.name,
            "expr": self.expr,
            "for": profile.hold_for(self.name),
        }
        keep = profile.keep_firing.get(self.name)
        if keep is not None:
            rule["keep_firing_for"] = keep
        rule["labels"] = {"severity": self.severity, **dict(self.labels)}
        rule["annotations"] = {"summary": self.summary, "description": self.description}
        return rule


C = f'job="{CASSANDRA_JOB}"'
W = f'job="{WRITER_JOB}"'

# Which inventory node (target label `node`) an observed endpoint (an address) is: learnt from
# each exporter's own cassandra_node_info while it was up (remembered for an hour, so a node
# whose exporter died is still named), else from the target's host when the exporter runs beside
# its node and is scraped by address. Endpoints claimed by two nodes are left unnamed.
NODE_MEMORY = "1h"
ENDPOINT_NODE_CANDIDATES = (
    f"max by (endpoint, node) (last_over_time(cassandra_node_info{{{C}}}[{NODE_MEMORY}]) * 0 + 1)\n"
    f"or on (endpoint)\n"
    f'max by (endpoint, node) (label_replace(up{{{C}}} * 0 + 1, "endpoint", "$1", "instance",'
    f' "(.+):[0-9]+"))'
)

RECORDS = [
    # The only read of the observer x endpoint series (40,000 at 1,000 nodes with one exporter
    # a rack): every verdict below starts from this per-observer-DC max (2,000 series there).
    # Reading the raw series three times an evaluation made the group brush the demo
    # profile's 2 s there (benchmarks/scale_monitoring.py).
    Record(
        "cassandra:endpoint_up_by_dc:max",
        f"max by (dc, endpoint, endpoint_dc, endpoint_rack) (\n"
        f"  cassandra_endpoint_up{{{C}}}\n"
        f"  and on (job, instance) (cassandra_up{{{C}}} == 1)\n"
        f")",
    ),
    Record(
        "cassandra:endpoint_up:max",
        "max by (endpoint, endpoint_dc, endpoint_rack) (cassandra:endpoint_up_by_dc:max)",
    ),
    Record(
        "cassandra:rack_nodes_up:sum",
        "sum by (endpoint_dc, endpoint_rack) (cassandra:endpoint_up:max)",
    ),
    Record(
        "cassandra:rack_nodes:count",
        "count by (endpoint_dc, endpoint_rack) (cassandra:endpoint_up:max)",
    ),
    Record(
        "cassandra:rack_nodes_down:sum",
        "cassandra:rack_nodes:count - cassandra:rack_nodes_up:sum",
    ),
    Record("cassandra:dc_nodes_up:sum", "sum by (endpoint_dc) (cassandra:endpoint_up:max)"),
    Record("cassandra:dc_nodes:count", "count by (endpoint_dc) (cassandra:endpoint_up:max)"),
    Record("cassandra:endpoint_node:candidates", ENDPOINT_NODE_CANDIDATES),
    Record(
        "cassandra:endpoint_node:info",
        "cassandra:endpoint_node:candidates\n"
        "unless on (endpoint) (count by (endpoint) (cassandra:endpoint_node:candidates) > 1)",
    ),
    # 1 when the target's exporter was scraped and its node answers CQL; 0 when either fails.
    Record(
        "cassandra:target_node_answers",
        f"cassandra_up{{{C}}} and on (job, instance) (up{{{C}}} == 1)\n"
        f"or on (job, instance) (up{{{C}}} * 0)",
    ),
]

WRITER_RECORDS = [
    Record(
        "lcd_writer:success_ratio:rate1m",
        f"(\n"
        f'  sum without (outcome) (rate(lcd_writer_requests_total{{{W},outcome="success"}}[1m]))\n'
        f"  or sum without (outcome) (rate(lcd_writer_requests_total{{{W}}}[1m])) * 0\n"
        f")\n"
        f"# only CLs with requests in the last minute (the writer exports every CL at 0)\n"
        f"/ (sum without (outcome) (rate(lcd_writer_requests_total{{{W}}}[1m])) > 0)",
    ),
]

DC_UNAVAILABLE = Alert(
    "CassandraDatacenterUnavailable",
    "# every observer still answering sees no node of the DC up\n"
    "cassandra:dc_nodes_up:sum == 0\n"
    "# or: none of the DC's own targets answers and no observer anywhere sees one of its nodes\n"
    "or on (endpoint_dc) (\n"
    '  max by (endpoint_dc) (label_replace(cassandra:target_node_answers, "endpoint_dc", "$1",'
    ' "dc", "(.+)")) == 0\n'
    "  unless on (endpoint_dc) (cassandra:dc_nodes_up:sum > 0)\n"
    ")",
    "critical",
    "Datacenter {{ $labels.endpoint_dc }} is unavailable",
    "No node of datacenter {{ $labels.endpoint_dc }} is alive: every observer that still "
    "answers judges all of its nodes down, or none of its own exporters answers. Clients local "
    "to {{ $labels.endpoint_dc }} fail over to another DC if their load-balancing policy allows "
    "it; LOCAL_ONE/LOCAL_QUORUM coordinated in {{ $labels.endpoint_dc }} are impossible and "
    "EACH_QUORUM/ALL fail everywhere.",
)

# The highest verdict the observers of each DC (target label `dc`) whose own node answers give
# the nodes of each DC. Aggregated before any label is rewritten: rewriting each of the 40,000
# observer x endpoint pairs (1,000 nodes, one exporter a rack) three times made this alert
# take 3-5 s an evaluation there (benchmarks/scale_monitoring.py); it reads the recorded
# per-observer-DC max now, never the raw pairs.
SEEN_BY_DC = "max by (dc, endpoint_dc) (cassandra:endpoint_up_by_dc:max)"

DC_PARTITIONED = Alert(
    "CassandraDatacenterPartitioned",
    "# the observers of one DC judge every node of another DC down...\n"
    "max by (observer_dc, endpoint_dc) (\n"
    f'  label_replace({SEEN_BY_DC}, "observer_dc", "$1", "dc", "(.+)")\n'
    ") == 0\n"
    "# ...while that DC's own observers judge some of its nodes up: a cut link, not an outage\n"
    "and on (endpoint_dc) (\n"
    "  max by (endpoint_dc) (\n"
    f"    {SEEN_BY_DC}\n"
    "    # only the DC's own observers (dc = endpoint_dc)\n"
    "    and on (dc, endpoint_dc)\n"
    '    label_replace(cassandra:dc_nodes:count, "dc", "$1", "endpoint_dc", "(.+)")\n'
    "  ) > 0\n"
    ")",
    "critical",
    "Datacenter {{ $labels.endpoint_dc }} is cut off from {{ $labels.observer_dc }}",
    "Every node of datacenter {{ $labels.observer_dc }} judges all the nodes of datacenter "
    "{{ $labels.endpoint_dc }} down, while {{ $labels.endpoint_dc }}'s own nodes see each other "
    "up: the link between the two DCs is cut (a partition, not an outage). Each side keeps "
    "serving LOCAL_ONE and LOCAL_QUORUM; QUORUM, EACH_QUORUM and ALL fail, and coordinators "
    "keep hints for the other side until the link comes back.",
)

RACK_DOWN = Alert(
    "CassandraRackDown",
    "cassandra:rack_nodes_up:sum == 0",
    "critical",
    "Rack {{ $labels.endpoint_dc }}/{{ $labels.endpoint_rack }} is down",
    "Every node of rack {{ $labels.endpoint_rack }} in datacenter {{ $labels.endpoint_dc }} is "
    "judged down by every observer that still answers. With NetworkTopologyStrategy that rack "
    "held one replica of each partition it owns; the other racks keep serving.",
)

NODE_DOWN = Alert(
    "CassandraNodeDown",
    "# with the inventory node name when it is known\n"
    "(cassandra:endpoint_up:max == 0)\n"
    "  * on (endpoint) group_left (node) cassandra:endpoint_node:info\n"
    "or on (endpoint)\n"
    "cassandra:endpoint_up:max == 0",
    "warning",
    "Node {{ $labels.node }} ({{ $labels.endpoint }}) in {{ $labels.endpoint_dc }}/"
    "{{ $labels.endpoint_rack }} is down",
    "Cassandra node {{ $labels.node }} at {{ $labels.endpoint }} (datacenter "
    "{{ $labels.endpoint_dc }}, rack {{ $labels.endpoint_rack }}) is judged down by every "
    "observer that still answers. Coordinators store hints for it and replay them when it "
    "comes back within max_hint_window.",
)

EXPORTER_DOWN = Alert(
    "CassandraExporterDown",
    f"(up{{{C}}} == 0)\n"
    "and on (node) (\n"
    "  cassandra:endpoint_up:max\n"
    "    * on (endpoint) group_left (node) cassandra:endpoint_node:info\n"
    "  == 1\n"
    ")",
    "warning",
    "Exporter of node {{ $labels.node }} ({{ $labels.dc }}/{{ $labels.rack }}) is down",
    "Prometheus cannot scrape {{ $labels.instance }}, the exporter of node {{ $labels.node }} "
    "in datacenter {{ $labels.dc }}, rack {{ $labels.rack }}, while other nodes still see that "
    "node alive: the node works but is not monitored (its own view of the cluster is missing).",
)

JVM_HEAP_HIGH = Alert(
    "CassandraJvmHeapHigh",
    f'cassandra_jvm_memory_used_bytes{{{C},area="heap"}}\n'
    f'/ cassandra_jvm_memory_max_bytes{{{C},area="heap"}}\n'
    f"> {HEAP_HIGH_RATIO}",
    "warning",
    "JVM heap of node {{ $labels.node }} ({{ $labels.dc }}/{{ $labels.rack }}) is "
    "{{ $value | humanizePercentage }} full",
    "Node {{ $labels.node }} in datacenter {{ $labels.dc }}, rack {{ $labels.rack }} uses "
    "{{ $value | humanizePercentage }} of its maximum heap: long GC pauses make peers convict "
    "it and clients time out.",
)

WRITER_DOWN = Alert(
    "LcdWriterDown",
    f"up{{{W}}} == 0",
    "warning",
    "Writer {{ $labels.node }} ({{ $labels.dc }}) is down",
    "Prometheus cannot scrape {{ $labels.instance }}, the LCD writer {{ $labels.node }} local to "
    "datacenter {{ $labels.dc }}: its display and keypad are out of the demo.",
)


def writes_failing(profile: Profile) -> Alert:
    window = profile.writer_failure_window
    writes = f'lcd_writer_requests_total{{{W},operation="write"'
    return Alert(
        "LcdWriterWritesFailing",
        f"(\n"
        f'  sum without (outcome) (rate({writes},outcome!="success"}}[{window}]))\n'
        f"  / (sum without (outcome) (rate({writes}}}[{window}])) > 0)\n"
        f") > {WRITES_FAILING_RATIO}\n"
        f"# only the consistency level currently selected on the keypad\n"
        f"and on (job, instance, cl) "
        f'(lcd_writer_consistency_level{{{W},operation="write"}} == 1)',
        "warning",
        "Writer {{ $labels.node }} ({{ $labels.dc }}): writes at {{ $labels.cl }} are failing",
        "{{ $value | humanizePercentage }} of the writes of writer {{ $labels.node }} (local "
        "datacenter {{ $labels.dc }}) at consistency level {{ $labels.cl }} failed recently: "
        "too few replicas are alive (or answer in time) for that consistency level.",
    )


def local_quorum_at_risk(inv: Inventory) -> list[Alert]:
    """One alert rule per replicated DC: can down replicas leave a partition short of quorum?

    NetworkTopologyStrategy puts a DC's replicas on distinct racks first. With at least as many
    racks as replicas, a partition has at most one replica per rack, so the worst partition has
    as many down replicas as there are racks with a down node; with fewer racks than replicas,
    racks hold several replicas each and any down node may be one of them.
    """
    alerts = []
    for dc_name, rf in inv.keyspace.replication.items():
        racks = len(inv.datacenter(dc_name).racks)
        quorum = rf // 2 + 1
        tolerated = rf - quorum
        selector = f'cassandra:rack_nodes_down:sum{{endpoint_dc="{dc_name}"}}'
        if racks >= rf:
            expr = f"count by (endpoint_dc) ({selector} > 0) > {tolerated}"
            what = "racks with a down node"
            why = f"each partition has one replica in each of {rf} distinct racks"
        else:
            expr = f"sum by (endpoint_dc) ({selector}) > {tolerated}"
            what = "down nodes"
            why = f"{racks} rack(s) hold all {rf} replicas, so any down node may be one of them"
        alerts.append(
            Alert(
                "CassandraLocalQuorumAtRisk",
                expr,
                "critical",
                "LOCAL_QUORUM at risk in {{ $labels.endpoint_dc }}",
                f"Datacenter {{{{ $labels.endpoint_dc }}}} has {{{{ $value }}}} {what}. With "
                f"replication {rf} in {dc_name} ({why}), LOCAL_QUORUM needs {quorum} live local "
                f"replicas and survives only {tolerated} down replica(s) per partition: some "
                f"partitions of keyspace {inv.keyspace.name} can no longer reach LOCAL_QUORUM "
                f"in {dc_name}.",
                labels=(("endpoint_dc", dc_name),),
            )
        )
    return alerts


CASSANDRA_ALERTS = [
    DC_UNAVAILABLE,
    DC_PARTITIONED,
    RACK_DOWN,
    NODE_DOWN,
    EXPORTER_DOWN,
    JVM_HEAP_HIGH,
]


def contract_problems(records: list[Record], alerts: list[Alert]) -> list[str]:
    """Names and series of these rules that the contract does not hold."""
    problems = [
        f"record {r.record}: not in the contract" for r in records if r.record not in record_names()
    ]
    problems += [
        f"alert {a.name}: not in the contract"
        for a in alerts
        if a.name not in contract_alert_names()
    ]
    for rule, expr in [(r.record, r.expr) for r in records] + [(a.name, a.expr) for a in alerts]:
        problems += [f"{rule}: unknown series {name!r}" for name in unknown_series(expr)]
    return problems


def _one_group(
    name: str, records: list[Record], alerts: list[Alert], profile: Profile
) -> dict[str, object]:
    """Records first, then the alerts using them: rules of one group run in order at the same
    timestamp, so an alert sees this evaluation's records, not the previous one's.

    ContractError when a rule records, alerts or reads a name outside the contract."""
    problems = contract_problems(records, alerts)
    if problems:
        raise ContractError(f"rule group {name}:\n  " + "\n  ".join(problems))
    rules = [r.to_yaml() for r in records] + [a.to_yaml(profile) for a in alerts]
    return {"groups": [{"name": name, "rules": rules}]}


def rule_files(inv: Inventory, profile: Profile) -> dict[str, dict[str, object]]:
    """Rule file name (under rules/) -> its YAML document."""
    cassandra_alerts = [*CASSANDRA_ALERTS, *local_quorum_at_risk(inv)]
    writer_alerts = [writes_failing(profile), WRITER_DOWN]
    return {
        "cassandra.yml": _one_group("cassandra", RECORDS, cassandra_alerts, profile),
        "lcd_writer.yml": _one_group("lcd_writer", WRITER_RECORDS, writer_alerts, profile),
    }


def alert_names() -> list[str]:
    """Every alert name the rules can raise: the contract's (rule_files refuses any other)."""
    return [a.name for a in alerts()]

"""``rackpanel-node``: one Cassandra node in depth (variables dc, rack, node).

JVM heap/GC/threads, process RSS and CPU, gossip as this node sees every endpoint (liveness,
heartbeat age, phi), thread pools, clients, hints, and the health of the exporter's sources.
Series are selected by the Prometheus target labels (``dc``, ``rack``, ``node``) of the node's
exporter; ``endpoint*`` labels name the endpoint the node observes.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import QueryVariable
from grafana_foundation_sdk.models import dashboard as models
from grafana_foundation_sdk.models.common import BigValueTextMode

from dashboards import widgets
from dashboards.datasources import PROMETHEUS
from dashboards.layout import GRID_COLUMNS, Box, Canvas
from dashboards.promql import WINDOW
from dashboards.widgets import BLUE, GREEN, ORANGE, RED, Query, thresholds, value_texts
from topology import Inventory

UID = "rackpanel-node"
TITLE = "Rackpanel node"

NODE = '{node="$node"}'
ENDPOINT_LEGEND = "{{endpoint_dc}}/{{endpoint_rack}} {{endpoint}}"
STAT_ROWS, CHART_ROWS = 4, 8


def node_series(metric: str, **labels: str) -> str:
    """``metric{node="$node", ...}``: a series of the selected node's exporter."""
    extra = "".join(f', {k}="{v}"' for k, v in labels.items())
    return f'{metric}{{node="$node"{extra}}}'


def rate(metric: str, **labels: str) -> str:
    return f"rate({node_series(metric, **labels)}[{WINDOW}])"


def variables() -> list[QueryVariable]:
    """dc -> rack -> node, each narrowed by the previous choice (from the exporters' ``up``)."""
    specs = [
        ("dc", "label_values(cassandra_up, dc)"),
        ("rack", 'label_values(cassandra_up{dc="$dc"}, rack)'),
        ("node", 'label_values(cassandra_up{dc="$dc", rack="$rack"}, node)'),
    ]
    return [
        QueryVariable(name)
        .label(name)
        .query(query)
        .datasource(PROMETHEUS)
        .refresh(models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(models.VariableSort.ALPHABETICAL_ASC)
        for name, query in specs
    ]


def summary_panels() -> list[widgets.stat.Panel]:
    return [
        widgets.up_down_panel(
            "CQL answers", [Query(node_series("cassandra_up"), instant=True)], horizontal=False
        ),
        widgets.stat_panel(
            "liveness judged by",
            [Query(node_series("cassandra_endpoint_liveness_exact"), instant=True)],
            text_mode=BigValueTextMode.VALUE,
            mappings=value_texts({0: ("heartbeat age", ORANGE), 1: ("failure detector", GREEN)}),
        ),
        widgets.stat_panel(
            "CQL clients",
            [Query(node_series("cassandra_native_clients"), instant=True)],
            text_mode=BigValueTextMode.VALUE,
        ),
        widgets.stat_panel(
            "heap used",
            [
                Query(
                    f"{node_series('cassandra_jvm_memory_used_bytes', area='heap')}"
                    f" / {node_series('cassandra_jvm_memory_max_bytes', area='heap')}",
                    instant=True,
                )
            ],
            unit="percentunit",
            text_mode=BigValueTextMode.VALUE,
            colour=thresholds((None, GREEN), (0.75, ORANGE), (0.9, RED)),
        ),
        widgets.stat_panel(
            "process RSS",
            [Query(node_series("cassandra_process_resident_memory_bytes"), instant=True)],
            unit="bytes",
            text_mode=BigValueTextMode.VALUE,
        ),
        widgets.stat_panel(
            "process CPU",
            [Query(rate("cassandra_process_cpu_seconds_total"), instant=True)],
            unit="percentunit",
            text_mode=BigValueTextMode.VALUE,
            colour=thresholds((None, BLUE), (0.8, ORANGE)),
        ),
    ]


def sections() -> list[tuple[str, list]]:
    """Titled rows of charts, each row split evenly across the width."""
    jvm = [
        widgets.time_series(
            "heap",
            [
                Query(node_series(f"cassandra_jvm_memory_{kind}_bytes", area="heap"), kind)
                for kind in ("used", "committed", "max")
            ],
            unit="bytes",
            minimum=0,
        ),
        widgets.time_series(
            "GC collections per second",
            [Query(rate("cassandra_jvm_gc_collections_total"), "{{gc}}")],
            unit="ops",
            minimum=0,
        ),
        widgets.time_series(
            "GC time (seconds per second)",
            [Query(rate("cassandra_jvm_gc_collection_seconds_total"), "{{gc}}")],
            unit="percentunit",
            minimum=0,
        ),
        widgets.time_series(
            "JVM threads", [Query(node_series("cassandra_jvm_threads"), "threads")], minimum=0
        ),
    ]
    process = [
        widgets.time_series(
            "resident memory",
            [Query(node_series("cassandra_process_resident_memory_bytes"), "RSS")],
            unit="bytes",
            minimum=0,
        ),
        widgets.time_series(
            "CPU (cores)",
            [Query(rate("cassandra_process_cpu_seconds_total"), "CPU")],
            unit="percentunit",
            minimum=0,
        ),
        widgets.time_series(
            "native clients", [Query(node_series("cassandra_native_clients"), "clients")]
        ),
    ]
    gossip = [
        widgets.state_timeline(
            "endpoints up, as this node judges them",
            [Query(node_series("cassandra_endpoint_up"), ENDPOINT_LEGEND)],
            mappings=widgets.UP_DOWN,
            colour=widgets.UP_DOWN_THRESHOLDS,
        ),
        widgets.time_series(
            "gossip heartbeat age per endpoint",
            [Query(node_series("cassandra_gossip_heartbeat_age_seconds"), ENDPOINT_LEGEND)],
            unit="s",
            minimum=0,
        ),
        widgets.time_series(
            "failure detector phi per endpoint (Jolokia)",
            [Query(node_series("cassandra_endpoint_phi"), ENDPOINT_LEGEND)],
            minimum=0,
        ),
    ]
    pools = [
        widgets.time_series(
            f"thread pools: {kind} tasks",
            [Query(node_series(f"cassandra_thread_pool_{kind}_tasks"), "{{pool}}")],
            minimum=0,
        )
        for kind in ("active", "pending", "blocked")
    ]
    hints_and_exporter = [
        widgets.time_series(
            "hint files held, per target endpoint",
            [Query(node_series("cassandra_pending_hints_files"), ENDPOINT_LEGEND)],
            minimum=0,
        ),
        widgets.state_timeline(
            "exporter sources",
            [Query(node_series("cassandra_exporter_source_up"), "{{source}}")],
            mappings=widgets.UP_DOWN,
            colour=widgets.UP_DOWN_THRESHOLDS,
        ),
        widgets.time_series(
            "exporter collection time",
            [Query(node_series("cassandra_exporter_collect_duration_seconds"), "{{source}}")],
            unit="s",
            minimum=0,
        ),
        widgets.time_series(
            "exporter collection errors per second",
            [Query(rate("cassandra_exporter_collect_errors_total"), "{{source}}")],
            minimum=0,
        ),
    ]
    return [
        ("JVM", jvm),
        ("process", process),
        ("gossip, as this node sees it", gossip),
        ("thread pools", pools),
        ("hints and exporter health", hints_and_exporter),
    ]


def build(inv: Inventory) -> models.Dashboard:
    """The same for every inventory: the variables list what Prometheus scrapes."""
    del inv
    canvas = Canvas()
    summary = summary_panels()
    for panel, box in zip(
        summary, Box(0, 0, GRID_COLUMNS, STAT_ROWS).columns([1] * len(summary)), strict=True
    ):
        canvas.place(panel, box)
    y = STAT_ROWS
    for title, panels in sections():
        canvas.row(title, y)
        row = Box(0, y + 1, GRID_COLUMNS, CHART_ROWS).columns([1] * len(panels))
        for panel, box in zip(panels, row, strict=True):
            canvas.place(panel, box)
        y += 1 + CHART_ROWS
    board = widgets.dashboard(
        UID,
        TITLE,
        "One Cassandra node: JVM, process, gossip view, thread pools, hints, exporter health.",
        refresh="10s",
        time_from="now-30m",
    )
    for variable in variables():
        board = board.with_variable(variable)
    return canvas.into(board)

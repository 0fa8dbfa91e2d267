"""``rackpanel-node``: one Cassandra node in depth (variables dc, rack, node).

JVM heap/GC/threads, process RSS and CPU, gossip as this node sees every endpoint (liveness,
heartbeat age, phi), thread pools, clients, hints, and the health of the exporter's sources.
Series are selected by the Prometheus target labels (``dc``, ``rack``, ``node``) of the node's
exporter; ``endpoint*`` labels name the endpoint the node observes.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import QueryVariable, ThresholdsConfig
from grafana_foundation_sdk.models import dashboard as models
from grafana_foundation_sdk.models.common import BigValueTextMode
from rackpanel.contract import families as m
from rackpanel.dashboards import widgets
from rackpanel.dashboards.datasources import PROMETHEUS
from rackpanel.dashboards.layout import GRID_COLUMNS, Box, Canvas
from rackpanel.dashboards.promql import WINDOW
from rackpanel.dashboards.widgets import BLUE, GREEN, ORANGE, RED, Query, thresholds, value_texts
from rackpanel.topology import Inventory

UID = "rackpanel-node"
TITLE = "Rackpanel node"

NODE = '{node="$node"}'
ENDPOINT_LEGEND = "{{endpoint_dc}}/{{endpoint_rack}} {{endpoint_node}} {{endpoint}}"
STAT_ROWS, CHART_ROWS = 4, 8


def node_series(metric: str, **labels: str) -> str:
    """``metric{node="$node", ...}``: a series of the selected node's exporter."""
    extra = "".join(f', {k}="{v}"' for k, v in labels.items())
    return f'{metric}{{node="$node"{extra}}}'


def endpoint_series(metric: str) -> str:
    """The selected node's per-endpoint series of ``metric``, named (see ``named``)."""
    return named(node_series(metric))


def named(series: str) -> str:
    """Per-endpoint ``series``, each named by the endpoint's inventory node (``endpoint_node``,
    through ``cassandra:endpoint_node:info``); an endpoint no exporter claims keeps its series,
    without the name."""
    names = 'label_replace(cassandra:endpoint_node:info, "endpoint_node", "$1", "node", "(.+)")'
    joined = f"{series} * on (endpoint) group_left (endpoint_node) {names}"
    return f"({joined}) or on (endpoint) {series}"


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


def value_stat(
    title: str,
    expr: str,
    *,
    unit: str = "none",
    colour: ThresholdsConfig | None = None,
    mappings: list[models.ValueMapping] | None = None,
) -> widgets.stat.Panel:
    """A stat of one instant query, showing the value alone."""
    return widgets.stat_panel(
        title,
        [Query(expr, instant=True)],
        unit=unit,
        text_mode=BigValueTextMode.VALUE,
        colour=colour,
        mappings=mappings,
    )


def chart(
    title: str, expr: str, legend: str, *, unit: str = "none", minimum: float | None = 0
) -> widgets.timeseries.Panel:
    """A time series of one query, from zero unless ``minimum`` says otherwise."""
    return widgets.time_series(title, [Query(expr, legend)], unit=unit, minimum=minimum)


def up_down_timeline(title: str, expr: str, legend: str) -> widgets.statetimeline.Panel:
    """A state timeline of one 0/1 query, shown as DOWN/UP."""
    return widgets.state_timeline(
        title,
        [Query(expr, legend)],
        mappings=widgets.UP_DOWN,
        colour=widgets.UP_DOWN_THRESHOLDS,
    )


def summary_panels() -> list[widgets.stat.Panel]:
    return [
        widgets.up_down_panel(
            "CQL answers", [Query(node_series("cassandra_up"), instant=True)], horizontal=False
        ),
        value_stat(
            "liveness judged by",
            node_series("cassandra_endpoint_liveness_exact"),
            mappings=value_texts({0: ("heartbeat age", ORANGE), 1: ("failure detector", GREEN)}),
        ),
        value_stat("CQL clients", node_series("cassandra_native_clients")),
        value_stat(
            "heap used",
            f"{node_series('cassandra_jvm_memory_used_bytes', area='heap')}"
            f" / {node_series('cassandra_jvm_memory_max_bytes', area='heap')}",
            unit="percentunit",
            colour=thresholds((None, GREEN), (0.75, ORANGE), (0.9, RED)),
        ),
        value_stat(
            "process RSS", node_series("cassandra_process_resident_memory_bytes"), unit="bytes"
        ),
        value_stat(
            "process CPU",
            rate("cassandra_process_cpu_seconds_total"),
            unit="percentunit",
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
        chart(
            "GC collections per second",
            rate("cassandra_jvm_gc_collections_total"),
            "{{gc}}",
            unit="ops",
        ),
        chart(
            "GC time (seconds per second)",
            rate("cassandra_jvm_gc_collection_seconds_total"),
            "{{gc}}",
            unit="percentunit",
        ),
        chart("JVM threads", node_series("cassandra_jvm_threads"), "threads"),
        chart(
            "time stopped in safepoints (seconds per second, gc.log)",
            rate("cassandra_jvm_safepoint_seconds_total"),
            "stopped",
            unit="percentunit",
        ),
    ]
    process = [
        chart(
            "resident memory",
            node_series("cassandra_process_resident_memory_bytes"),
            "RSS",
            unit="bytes",
        ),
        chart(
            "CPU (cores)",
            rate("cassandra_process_cpu_seconds_total"),
            "CPU",
            unit="percentunit",
        ),
        chart("native clients", node_series("cassandra_native_clients"), "clients", minimum=None),
    ]
    gossip = [
        up_down_timeline(
            "endpoints up, as this node judges them",
            endpoint_series("cassandra_endpoint_up"),
            ENDPOINT_LEGEND,
        ),
        chart(
            "gossip heartbeat age per endpoint",
            endpoint_series("cassandra_gossip_heartbeat_age_seconds"),
            ENDPOINT_LEGEND,
            unit="s",
        ),
        chart(
            "failure detector phi per endpoint (Jolokia)",
            endpoint_series("cassandra_endpoint_phi"),
            ENDPOINT_LEGEND,
        ),
    ]
    pools = [
        chart(f"thread pools: {kind} tasks", node_series(family.name), "{{pool}}")
        for kind, family in (
            ("active", m.POOL_ACTIVE),
            ("pending", m.POOL_PENDING),
            ("blocked", m.POOL_BLOCKED),
        )
    ]
    hints_and_exporter = [
        widgets.time_series(
            "hints per target endpoint: written while it is down, files awaiting delivery",
            [
                # Jolokia: grows during the outage itself
                Query(
                    named(f"increase({node_series('cassandra_hints_created_total')}[{WINDOW}])"),
                    f"written, {ENDPOINT_LEGEND}",
                ),
                # system_views.pending_hints: only once the target is back, until delivery
                Query(
                    f"{node_series('cassandra_pending_hints_files')} or on () vector(0)",
                    "files awaiting delivery {{endpoint}}",
                ),
            ],
            unit="none",
            minimum=0,
        ),
        # Storage and HintsService beans (Jolokia): the node's hints of every target together
        widgets.time_series(
            "hints of all targets",
            [
                Query(
                    f"increase({node_series('cassandra_hints_written_total')}[{WINDOW}])", "written"
                ),
                Query(node_series("cassandra_hints_in_progress"), "being written"),
                Query(
                    f"increase({node_series('cassandra_hints_delivered_total')}[{WINDOW}])",
                    "delivered: {{result}}",
                ),
            ],
            unit="none",
            minimum=0,
        ),
        up_down_timeline(
            "exporter sources", node_series("cassandra_exporter_source_up"), "{{source}}"
        ),
        chart(
            "exporter collection time",
            node_series("cassandra_exporter_collect_duration_seconds"),
            "{{source}}",
            unit="s",
        ),
        chart(
            "exporter collection errors per second",
            rate("cassandra_exporter_collect_errors_total"),
            "{{source}}",
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

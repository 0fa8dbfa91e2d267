"""``rackpanel-panel``: the kiosk of the panel monitor, laid out from the inventory.

One 1920x1080 screen, read from three metres, no scrolling: the cluster map (DC -> rack ->
node, green/red from ``cassandra:endpoint_up:max``, nodes up per rack, DC availability), one
tile group per writer (write and read CL, last-minute success ratio, latency p50/p99,
coordinator DC share, recent outcomes) and the alerts firing. A different inventory gives a
different map: the racks, nodes and writers are the inventory's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby

from grafana_foundation_sdk.builders.dashboard import ThresholdsConfig
from grafana_foundation_sdk.models import dashboard as models
from grafana_foundation_sdk.models.common import BigValueTextMode
from rackpanel.dashboards import widgets
from rackpanel.dashboards.layout import GRID_COLUMNS, KIOSK_ROWS, Box, Canvas
from rackpanel.dashboards.promql import WINDOW, matchers, writer_selector
from rackpanel.dashboards.widgets import GREEN, ORANGE, OUTCOME_COLOURS, RED, Query, thresholds
from rackpanel.topology import Inventory, NodePlace, WriterPlace

UID = "rackpanel-panel"
TITLE = "Rackpanel panel"

MAX_RACKS_PER_ROW = 8
MAX_WRITERS_PER_ROW = 3
DC_HEADER_ROWS, RACK_SUMMARY_ROWS = 3, 2
WRITER_STATS_ROWS, WRITER_CHARTS_ROWS = 4, 6
MIN_ALERT_ROWS = 4


@dataclass(frozen=True)
class RackView:
    dc: str
    rack: str
    nodes: list[NodePlace]

    @property
    def labels(self) -> dict[str, str]:
        return {"endpoint_dc": self.dc, "endpoint_rack": self.rack}


def racks_of(inv: Inventory) -> list[RackView]:
    keyed = groupby(inv.nodes(), key=lambda p: (p.dc, p.rack))
    return [RackView(dc, rack, list(places)) for (dc, rack), places in keyed]


def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def node_up_query(rack: RackView, place: NodePlace) -> Query:
    """The node's verdict from every observer (max), found by its inventory name.

    Never by address: in compose Docker assigns them, and the simulator and the Pis differ.
    ``cassandra:endpoint_node:info`` ties each observed endpoint to the ``node`` label of the
    exporter that reports it as its own (cassandra_node_info), remembered for an hour so a
    node whose exporter went down with it keeps its tile, red.
    """
    up = f"cassandra:endpoint_up:max{matchers(**rack.labels)}"
    name = f"cassandra:endpoint_node:info{matchers(node=place.name)}"
    expr = f"max by (node) ({up} * on (endpoint) group_left (node) {name})"
    return Query(expr, legend=place.name, instant=True)


def count_colours(expected: int) -> ThresholdsConfig:
    """Red at zero, orange while some are missing, green when all ``expected`` are up."""
    if expected <= 1:
        return thresholds((None, RED), (1, GREEN))
    return thresholds((None, RED), (1, ORANGE), (expected, GREEN))


def place_dc_headers(
    canvas: Canvas, inv: Inventory, row: list[tuple[RackView, Box]], y: int
) -> None:
    for dc, members in groupby(row, key=lambda item: item[0].dc):
        members = list(members)
        first, last = members[0][1], members[-1][1]
        expected = sum(1 for p in inv.nodes() if p.dc == dc)
        selector = matchers(endpoint_dc=dc)
        panel = widgets.stat_panel(
            f"{dc}: nodes up, availability",
            [
                Query(f"cassandra:dc_nodes_up:sum{selector}", legend="nodes up", instant=True),
                Query(
                    f"cassandra:dc_nodes_up:sum{selector} / cassandra:dc_nodes:count{selector}",
                    legend="available",
                    instant=True,
                ),
            ],
            colour=count_colours(expected),
        ).override_by_query(
            "B",
            [
                models.DynamicConfigValue(id_val="unit", value="percentunit"),
                models.DynamicConfigValue(
                    id_val="thresholds",
                    value={
                        "mode": "absolute",
                        "steps": [
                            {"value": None, "color": RED},
                            {"value": 0.5, "color": ORANGE},
                            {"value": 1, "color": GREEN},
                        ],
                    },
                ),
            ],
        )
        canvas.place(panel, Box(first.x, y, last.right - first.x, DC_HEADER_ROWS))


def place_map(canvas: Canvas, inv: Inventory, y: int) -> int:
    """The cluster map, rows of racks under their DC headers; returns the next free row."""
    racks = racks_of(inv)
    tallest = max(len(r.nodes) for r in racks)
    node_rows = max(4, 2 * tallest)
    for row_racks in chunks(racks, MAX_RACKS_PER_ROW):
        columns = Box(0, y + DC_HEADER_ROWS, GRID_COLUMNS, node_rows).columns([1] * len(row_racks))
        row = list(zip(row_racks, columns, strict=True))
        place_dc_headers(canvas, inv, row, y)
        for rack, box in row:
            title = f"{rack.dc} / {rack.rack}"
            nodes = [node_up_query(rack, place) for place in rack.nodes]
            canvas.place(widgets.up_down_panel(title, nodes), box)
            summary = widgets.stat_panel(
                f"{title}: nodes up",
                [Query(f"cassandra:rack_nodes_up:sum{matchers(**rack.labels)}", instant=True)],
                text_mode=BigValueTextMode.VALUE,
                colour=count_colours(len(rack.nodes)),
            )
            canvas.place(summary, box.below(RACK_SUMMARY_ROWS))
        y += DC_HEADER_ROWS + node_rows + RACK_SUMMARY_ROWS
    return y


def selected_cl(writer: WriterPlace, **extra: str) -> str:
    """The writer's consistency levels; the one selected on the keypad has the value 1."""
    return f"lcd_writer_consistency_level{writer_selector(writer, **extra)}"


def selected_cl_query(writer: WriterPlace, operation: str) -> Query:
    return Query(f"{selected_cl(writer, operation=operation)} == 1", "{{cl}}", instant=True)


def latency_query(writer: WriterPlace, quantile: float) -> Query:
    selector = writer_selector(writer, operation="write")
    buckets = f"rate(lcd_writer_request_duration_seconds_bucket{selector}[{WINDOW}])"
    return Query(
        f"histogram_quantile({quantile}, sum by (le) ({buckets}))",
        legend=f"p{round(quantile * 100)}",
        instant=True,
    )


def coordinator_share_query(writer: WriterPlace) -> Query:
    served = f"increase(lcd_writer_coordinator_requests_total{writer_selector(writer)}[{WINDOW}])"
    return Query(
        f"sum by (coordinator_dc) ({served})"
        f" / ignoring (coordinator_dc) group_left () sum ({served})",
        legend="{{coordinator_dc}}",
        instant=True,
    )


def outcomes_query(writer: WriterPlace) -> Query:
    requests = f"increase(lcd_writer_requests_total{writer_selector(writer)}[{WINDOW}])"
    return Query(f"sum by (outcome) ({requests}) > 0", legend="{{outcome}}")


def place_writer(canvas: Canvas, writer: WriterPlace, box: Box) -> None:
    name = writer.name
    stats = box.columns([1, 1, 1, 1], h=WRITER_STATS_ROWS)
    canvas.place(
        widgets.name_panel(f"{name}: write CL", [selected_cl_query(writer, "write")]), stats[0]
    )
    canvas.place(
        widgets.name_panel(f"{name}: read CL", [selected_cl_query(writer, "read")]), stats[1]
    )
    success = widgets.stat_panel(
        f"{name}: success 1m",
        [
            Query(
                f"(lcd_writer:success_ratio:rate1m{writer_selector(writer)} >= 0)"
                f" and on (instance, operation, cl) ({selected_cl(writer)} == 1)",
                "{{operation}} {{cl}}",
                instant=True,
            )
        ],
        unit="percentunit",
        decimals=0,
        colour=thresholds((None, RED), (0.9, ORANGE), (0.999, GREEN)),
    )
    canvas.place(success, stats[2])
    latency = widgets.stat_panel(
        f"{name}: write latency",
        [latency_query(writer, 0.5), latency_query(writer, 0.99)],
        unit="s",
        colour=thresholds((None, GREEN), (0.1, ORANGE), (0.5, RED)),
    )
    canvas.place(latency, stats[3])
    charts = Box(box.x, box.y + WRITER_STATS_ROWS, box.w, WRITER_CHARTS_ROWS).columns([1, 2])
    share = widgets.share_gauge(f"{name}: coordinator DC", [coordinator_share_query(writer)])
    canvas.place(share, charts[0])
    outcomes = widgets.time_series(
        f"{name}: requests per minute by outcome",
        [outcomes_query(writer)],
        stacked=True,
        bars=True,
        minimum=0,
    )
    canvas.place(widgets.colour_series(outcomes, OUTCOME_COLOURS), charts[1])


def place_writers(canvas: Canvas, inv: Inventory, y: int) -> int:
    writers = list(inv.writer_places())
    height = WRITER_STATS_ROWS + WRITER_CHARTS_ROWS
    for row in chunks(writers, MAX_WRITERS_PER_ROW):
        boxes = Box(0, y, GRID_COLUMNS, height).columns([1] * len(row))
        for writer, box in zip(row, boxes, strict=True):
            place_writer(canvas, writer, box)
        y += height
    return y


FIRING = 'ALERTS{alertstate="firing"}'
HIDDEN_ALERT_COLUMNS = ("Time", "Value", "__name__", "alertstate", "job", "instance", "cluster")


def place_alerts(canvas: Canvas, y: int) -> None:
    height = max(MIN_ALERT_ROWS, KIOSK_ROWS - y)
    count_box, table_box = Box(0, y, GRID_COLUMNS, height).columns([1, 5])
    count = widgets.stat_panel(
        "alerts firing",
        [Query(f"count({FIRING}) or vector(0)", instant=True)],
        text_mode=BigValueTextMode.VALUE,
        colour=thresholds((None, GREEN), (1, RED)),
    )
    canvas.place(count, count_box)
    organize = models.DataTransformerConfig(
        id_val="organize",
        options={"excludeByName": dict.fromkeys(HIDDEN_ALERT_COLUMNS, True)},
    )
    table = widgets.table_panel(
        "alerts firing",
        [Query(FIRING, table=True)],
        transformations=[organize],
        no_value="no alert firing",
    )
    canvas.place(table, table_box)


def build(inv: Inventory) -> models.Dashboard:
    canvas = Canvas()
    y = place_map(canvas, inv, 0)
    y = place_writers(canvas, inv, y)
    place_alerts(canvas, y)
    return canvas.into(
        widgets.dashboard(
            UID,
            TITLE,
            "The panel monitor's kiosk: cluster map, writers, alerts (1920x1080, no scrolling).",
            refresh="5s",
            time_from="now-10m",
        )
    )

"""``rackpanel-consistency``: the consistency lab, what each CL did while racks went down.

Outcomes per CL over time (stacked by outcome), the latency distribution of the chosen CL
(heatmap) and its quantiles for every CL, which DC coordinated each writer's requests, and a
CL x outcome table over the dashboard's time range. One coordinator-DC panel per writer of the
inventory.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import QueryVariable
from grafana_foundation_sdk.models import dashboard as models
from rackpanel.dashboards import widgets
from rackpanel.dashboards.datasources import PROMETHEUS
from rackpanel.dashboards.layout import GRID_COLUMNS, Box, Canvas
from rackpanel.dashboards.promql import WINDOW, writer_selector
from rackpanel.dashboards.widgets import OUTCOME_COLOURS, Query
from rackpanel.topology import Inventory, WriterPlace

UID = "rackpanel-consistency"
TITLE = "Rackpanel consistency lab"

REQUESTS = "lcd_writer_requests_total"
BUCKETS = "lcd_writer_request_duration_seconds_bucket"
CHART_ROWS, TABLE_ROWS = 9, 9


def cl_variable() -> QueryVariable:
    """The CLs that served requests in the time range (every CL has series, most stay at 0)."""
    return (
        QueryVariable("cl")
        .label("CL (heatmap)")
        .query(f"query_result(sum by (cl) (increase({REQUESTS}[$__range])) > 0)")
        .regex('/cl="([^"]+)"/')
        .datasource(PROMETHEUS)
        .refresh(models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(models.VariableSort.ALPHABETICAL_ASC)
    )


def outcomes_panel() -> widgets.timeseries.Panel:
    per_cl = f"sum by (operation, cl, outcome) (increase({REQUESTS}[{WINDOW}])) > 0"
    panel = widgets.time_series(
        "requests per minute per CL, stacked by outcome",
        [Query(per_cl, "{{operation}} {{cl}}: {{outcome}}")],
        stacked=True,
        minimum=0,
        legend_right=True,
    )
    return widgets.colour_series(
        panel, {f".*: {outcome}": colour for outcome, colour in OUTCOME_COLOURS.items()}
    )


def latency_panels() -> list:
    heat = widgets.latency_heatmap(
        "latency distribution at $cl (all writers, all outcomes)",
        [Query(f'sum by (le) (increase({BUCKETS}{{cl="$cl"}}[{WINDOW}]))', "{{le}}")],
    )
    quantiles = widgets.time_series(
        "latency p50 / p99 per CL",
        [
            Query(
                f"histogram_quantile({q}, sum by (le, operation, cl) (rate({BUCKETS}[{WINDOW}])))",
                f"{{{{operation}}}} {{{{cl}}}} p{round(q * 100)}",
            )
            for q in (0.5, 0.99)
        ],
        unit="s",
        minimum=0,
        legend_right=True,
    )
    return [heat, quantiles]


def coordinator_panel(writer: WriterPlace) -> widgets.timeseries.Panel:
    served = f"increase(lcd_writer_coordinator_requests_total{writer_selector(writer)}[{WINDOW}])"
    return widgets.time_series(
        f"{writer.name} (local {writer.local_dc}): requests per minute by coordinator DC",
        [Query(f"sum by (coordinator_dc) ({served})", "{{coordinator_dc}}")],
        stacked=True,
        minimum=0,
    )


def outcome_table() -> widgets.table.Panel:
    totals = f"sum by (operation, cl, outcome) (round(increase({REQUESTS}[$__range]))) > 0"
    matrix = models.DataTransformerConfig(
        id_val="groupingToMatrix",
        options={"columnField": "outcome", "rowField": "cl", "valueField": "Value"},
    )
    return widgets.table_panel(
        "requests over the time range: CL x outcome",
        [Query(totals, table=True)],
        transformations=[matrix],
    )


def build(inv: Inventory) -> models.Dashboard:
    canvas = Canvas()
    y = 0
    canvas.place(outcomes_panel(), Box(0, y, GRID_COLUMNS, CHART_ROWS))
    y += CHART_ROWS
    for panel, box in zip(
        latency_panels(), Box(0, y, GRID_COLUMNS, CHART_ROWS).columns([1, 1]), strict=True
    ):
        canvas.place(panel, box)
    y += CHART_ROWS
    writers = list(inv.writer_places())
    if writers:
        row = Box(0, y, GRID_COLUMNS, CHART_ROWS).columns([1] * len(writers))
        for writer, box in zip(writers, row, strict=True):
            canvas.place(coordinator_panel(writer), box)
        y += CHART_ROWS
    canvas.place(outcome_table(), Box(0, y, GRID_COLUMNS, TABLE_ROWS))
    board = widgets.dashboard(
        UID,
        TITLE,
        "Consistency levels at work: outcomes, latency and coordinators per CL and writer.",
        refresh="5s",
        time_from="now-15m",
    ).with_variable(cl_variable())
    return canvas.into(board)

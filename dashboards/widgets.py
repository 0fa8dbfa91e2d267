"""Small panel factories on top of grafana-foundation-sdk, shared by every dashboard.

Each factory returns an SDK builder with its queries set; positions are given later by
:mod:`dashboards.layout`. Queries always carry a ``ref_id`` and the Prometheus datasource.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders import (
    bargauge,
    heatmap,
    stat,
    statetimeline,
    table,
    timeseries,
)
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.builders import prometheus as prometheus_builders
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as models
from grafana_foundation_sdk.models.heatmap import HeatmapColorMode
from grafana_foundation_sdk.models.prometheus import PromQueryFormat
from rackpanel.dashboards.datasources import PROMETHEUS

REF_IDS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

GREEN, RED, ORANGE, YELLOW, BLUE, GREY = "green", "red", "orange", "yellow", "blue", "text"

# Series colours by writer outcome (regexes on the series name), the same on every dashboard.
OUTCOME_COLOURS = {
    "success": GREEN,
    "unavailable": RED,
    ".*timeout": ORANGE,
    "no_host": "purple",
    "error": "dark-red",
}


@dataclass(frozen=True)
class Query:
    """One PromQL query of a panel: the expression and its legend."""

    expr: str
    legend: str = ""
    instant: bool = False
    table: bool = False


def _targets(queries: Sequence[Query]) -> list[prometheus_builders.Dataquery]:
    if len(queries) > len(REF_IDS):
        raise ValueError(f"a panel takes at most {len(REF_IDS)} queries, got {len(queries)}")
    targets = []
    for ref, q in zip(REF_IDS, queries, strict=False):
        target = prometheus_builders.Dataquery().expr(q.expr).ref_id(ref).datasource(PROMETHEUS)
        if q.legend:
            target = target.legend_format(q.legend)
        if q.table:
            target = target.format(PromQueryFormat.TABLE)
        target = target.instant() if q.instant or q.table else target.range()
        targets.append(target)
    return targets


def thresholds(*steps: tuple[float | None, str]) -> dashboard_builders.ThresholdsConfig:
    """Absolute thresholds; the first step's value is ``None`` (the base colour)."""
    return (
        dashboard_builders.ThresholdsConfig()
        .mode(models.ThresholdsMode.ABSOLUTE)
        .steps([models.Threshold(value=v, color=c) for v, c in steps])
    )


def value_texts(mapping: dict[int, tuple[str, str]]) -> list[models.ValueMapping]:
    """Value mappings ``{value: (text, colour)}``, e.g. ``{0: ("DOWN", "red")}``."""
    options = {
        str(value): models.ValueMappingResult(text=text, color=color)
        for value, (text, color) in mapping.items()
    }
    return [models.ValueMap(options=options)]


UP_DOWN = value_texts({0: ("DOWN", RED), 1: ("UP", GREEN)})
UP_DOWN_THRESHOLDS = thresholds((None, RED), (1, GREEN))


def _last_value() -> common_builders.ReduceDataOptions:
    return common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False)


def stat_panel(
    title: str,
    queries: Sequence[Query],
    *,
    unit: str = "none",
    text_mode: common.BigValueTextMode = common.BigValueTextMode.VALUE_AND_NAME,
    colour: dashboard_builders.ThresholdsConfig | None = None,
    mappings: list[models.ValueMapping] | None = None,
    horizontal: bool = False,
    decimals: int | None = None,
    no_value: str = "no data",
) -> stat.Panel:
    """A stat panel: the last value of each series, coloured by thresholds, no sparkline."""
    panel = (
        stat.Panel()
        .title(title)
        .datasource(PROMETHEUS)
        .targets(_targets(queries))
        .unit(unit)
        .text_mode(text_mode)
        .graph_mode(common.BigValueGraphMode.NONE)
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .justify_mode(common.BigValueJustifyMode.CENTER)
        .reduce_options(_last_value())
        .thresholds(colour or thresholds((None, BLUE)))
        .no_value(no_value)
        .orientation(common.VizOrientation.HORIZONTAL if horizontal else common.VizOrientation.AUTO)
    )
    if mappings:
        panel = panel.mappings(mappings)
    if decimals is not None:
        panel = panel.decimals(decimals)
    return panel


def up_down_panel(title: str, queries: Sequence[Query], *, horizontal: bool = True) -> stat.Panel:
    """Green UP / red DOWN tiles, one per query (e.g. one per node of a rack)."""
    return stat_panel(
        title,
        queries,
        colour=UP_DOWN_THRESHOLDS,
        mappings=UP_DOWN,
        horizontal=horizontal,
        no_value="?",
    )


def name_panel(title: str, queries: Sequence[Query]) -> stat.Panel:
    """Shows the legend of the series whose value is 1 (e.g. the selected consistency level)."""
    return stat_panel(
        title, queries, text_mode=common.BigValueTextMode.NAME, colour=thresholds((None, BLUE))
    )


def time_series(
    title: str,
    queries: Sequence[Query],
    *,
    unit: str = "none",
    stacked: bool = False,
    bars: bool = False,
    minimum: float | None = None,
    legend_right: bool = False,
) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .title(title)
        .datasource(PROMETHEUS)
        .targets(_targets(queries))
        .unit(unit)
        .fill_opacity(60 if stacked or bars else 10)
        .line_width(1)
        .legend(
            common_builders.VizLegendOptions()
            .show_legend(True)
            .display_mode(common.LegendDisplayMode.LIST)
            .placement(
                common.LegendPlacement.RIGHT if legend_right else common.LegendPlacement.BOTTOM
            )
        )
    )
    if stacked:
        panel = panel.stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL))
    if bars:
        panel = panel.draw_style(common.GraphDrawStyle.BARS)
    if minimum is not None:
        panel = panel.min(minimum)
    return panel


def colour_series(panel: timeseries.Panel, colours: dict[str, str]) -> timeseries.Panel:
    """Fix the colour of series whose name matches each regex (e.g. outcomes)."""
    for regex, colour in colours.items():
        panel = panel.override_by_regexp(
            regex,
            [
                models.DynamicConfigValue(
                    id_val="color", value={"mode": "fixed", "fixedColor": colour}
                )
            ],
        )
    return panel


def state_timeline(
    title: str,
    queries: Sequence[Query],
    *,
    mappings: list[models.ValueMapping],
    colour: dashboard_builders.ThresholdsConfig,
) -> statetimeline.Panel:
    return (
        statetimeline.Panel()
        .title(title)
        .datasource(PROMETHEUS)
        .targets(_targets(queries))
        .mappings(mappings)
        .thresholds(colour)
        .color_scheme(dashboard_builders.FieldColor().mode(models.FieldColorModeId.THRESHOLDS))
        .show_value(common.VisibilityMode.NEVER)
        .merge_values(True)
        .fill_opacity(80)
    )


def share_gauge(title: str, queries: Sequence[Query]) -> bargauge.Panel:
    """Horizontal bars of fractions in 0..1 (e.g. the share of coordinators per DC)."""
    return (
        bargauge.Panel()
        .title(title)
        .datasource(PROMETHEUS)
        .targets(_targets(queries))
        .unit("percentunit")
        .min(0)
        .max(1)
        .decimals(0)
        .orientation(common.VizOrientation.HORIZONTAL)
        .display_mode(common.BarGaugeDisplayMode.BASIC)
        .reduce_options(_last_value())
        .thresholds(thresholds((None, BLUE)))
        .no_value("none")
    )


def table_panel(
    title: str,
    queries: Sequence[Query],
    *,
    transformations: list[models.DataTransformerConfig] | None = None,
    no_value: str = "none",
) -> table.Panel:
    panel = (
        table.Panel()
        .title(title)
        .datasource(PROMETHEUS)
        .targets(_targets(queries))
        .no_value(no_value)
        .align(common.FieldTextAlignment.AUTO)
        .inspect(False)
    )
    for transformation in transformations or []:
        panel = panel.with_transformation(transformation)
    return panel


def latency_heatmap(title: str, queries: Sequence[Query]) -> heatmap.Panel:
    """A heatmap of pre-bucketed Prometheus histogram series (``le`` buckets, not recomputed)."""
    targets = [t.format(PromQueryFormat.HEATMAP) for t in _targets(queries)]
    return (
        heatmap.Panel()
        .title(title)
        .datasource(PROMETHEUS)
        .targets(targets)
        .calculate(False)
        .cell_gap(1)
        .y_axis(heatmap.YAxisConfig().unit("s"))
        .color(
            heatmap.HeatmapColorOptions().mode(HeatmapColorMode.SCHEME).scheme("Oranges").steps(64)
        )
    )


def dashboard(
    uid: str, title: str, description: str, *, refresh: str, time_from: str
) -> dashboard_builders.Dashboard:
    """A read-only rackpanel dashboard with a stable uid (provisioned, so URLs never change)."""
    return (
        dashboard_builders.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["rackpanel"])
        .readonly()
        .refresh(refresh)
        .time(time_from, "now")
        .timezone("browser")
        .tooltip(models.DashboardCursorSync.CROSSHAIR)
        .timepicker(
            dashboard_builders.TimePicker().refresh_intervals(["5s", "10s", "30s", "1m", "5m"])
        )
    )

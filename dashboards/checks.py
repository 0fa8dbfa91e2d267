"""Offline checks of a dashboard's JSON: SDK round trip, queries, series names, variables.

Grafana itself is not installable everywhere (no Debian, PyPI or npm package), so the
dashboards are validated structurally here and their queries are run against a real
Prometheus by the tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from grafana_foundation_sdk.cog import plugins
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard, Panel
from rackpanel.dashboards.promql import known_series, series_names

_registered = False


@dataclass(frozen=True)
class PanelQuery:
    panel_id: int
    title: str
    ref_id: str
    expr: str

    def __str__(self) -> str:
        return f"panel {self.panel_id} {self.title!r} query {self.ref_id}"


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, including those nested in collapsed rows."""
    found = []
    for panel in board.get("panels") or []:
        found.append(panel)
        found.extend(panel.get("panels") or [])
    return found


def panel_queries(board: dict[str, Any]) -> list[PanelQuery]:
    return [
        PanelQuery(panel["id"], panel.get("title", ""), target.get("refId", "?"), target["expr"])
        for panel in panels(board)
        for target in panel.get("targets") or []
        if "expr" in target
    ]


def variable_queries(board: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, query) of the dashboard's query variables, in dependency order."""
    return [
        (v["name"], v["query"] if isinstance(v["query"], str) else v["query"]["query"])
        for v in (board.get("templating") or {}).get("list") or []
        if v.get("type") == "query"
    ]


def unknown_series(board: dict[str, Any]) -> list[str]:
    """Queries naming a series that metrics.md (metrics and recording rules) does not define."""
    return [
        f"{q}: unknown series {name!r}"
        for q in panel_queries(board)
        for name in sorted(series_names(q.expr))
        if not known_series(name)
    ]


def round_trip_problems(board: dict[str, Any]) -> list[str]:
    """Load the JSON into the SDK's models and back: anything lost or untyped is a problem."""
    global _registered
    if not _registered:
        plugins.register_default_plugins()
        _registered = True
    model = Dashboard.from_json(json.loads(json.dumps(board)))
    problems = []
    again = json.loads(json.dumps(model, cls=JSONEncoder))
    if again != board:
        problems.append("the JSON does not survive a round trip through the SDK's Dashboard model")
    for panel in model.panels or []:
        if isinstance(panel, Panel) and isinstance(panel.options, dict):
            problems.append(
                f"panel {panel.id_val} {panel.title!r}: type {panel.type_val!r} unknown to the SDK"
            )
    return problems

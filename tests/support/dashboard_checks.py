"""Offline checks of a dashboard's JSON: the SDK round trip (queries: dashboards.queries).

Grafana itself is not installable everywhere (no Debian, PyPI or npm package), so the
dashboards are validated structurally here and their queries are run against a real
Prometheus by the tests.
"""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.cog import plugins
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard, Panel
from rackpanel.dashboards.queries import PanelQuery, panel_queries, panels, unknown_series

_registered = False


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


__all__ = ["PanelQuery", "panel_queries", "panels", "round_trip_problems", "unknown_series"]

"""The PromQL queries of a dashboard's JSON, and the ones naming a series the contract lacks.

Generation refuses a dashboard that asks for a series the exporter, the writer or the rules
do not produce (:func:`unknown_series`), so a change to the contract that a dashboard does not
follow fails ``rackpanel generate``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rackpanel.contract import unknown_series as unknown_names


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


def unknown_series(board: dict[str, Any]) -> list[str]:
    """Queries naming a series that the contract (families and recording rules) does not hold."""
    return [
        f"{board.get('uid', '?')} {q}: unknown series {name!r}"
        for q in panel_queries(board)
        for name in unknown_names(q.expr)
    ]

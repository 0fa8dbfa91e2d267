"""Every rackpanel dashboard, built from an inventory and rendered as stable JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard
from rackpanel.contract import ContractError
from rackpanel.dashboards import consistency, kiosk, node
from rackpanel.dashboards.queries import unknown_series
from rackpanel.topology import Inventory

JSON_DIR = "dashboards/json"

BUILDERS: dict[str, Callable[[Inventory], Dashboard]] = {
    kiosk.UID: kiosk.build,
    node.UID: node.build,
    consistency.UID: consistency.build,
}


def render(board: Dashboard) -> str:
    """The dashboard as Grafana JSON: sorted keys, two-space indent, one trailing newline."""
    return json.dumps(board, cls=JSONEncoder, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def dashboards(inv: Inventory) -> dict[str, dict[str, Any]]:
    """uid → the dashboard's JSON object."""
    return {uid: json.loads(render(build(inv))) for uid, build in BUILDERS.items()}


def json_files(inv: Inventory) -> dict[str, str]:
    """``dashboards/json/<uid>.json`` → text, for every dashboard.

    ContractError when a query names a series the contract does not hold.
    """
    out = {f"{JSON_DIR}/{uid}.json": render(build(inv)) for uid, build in BUILDERS.items()}
    problems = [p for text in out.values() for p in unknown_series(json.loads(text))]
    if problems:
        raise ContractError(
            "dashboards use series outside the contract:\n  " + "\n  ".join(problems)
        )
    return out

"""Generator of the committed monitoring files: the ``pi`` placement under ``prometheus/``.

These are what deploy copies to the monitor host; `rackpanel generate --check` fails when they
no longer match the inventory.
"""

from __future__ import annotations

from rackpanel.prometheus.config import render
from rackpanel.topology import Inventory

ROOT = "prometheus"

OWNED_GLOBS = [f"{ROOT}/targets/*.json", f"{ROOT}/rules/*.yml"]


def files(inv: Inventory) -> dict[str, str]:
    return {f"{ROOT}/{rel}": text for rel, text in render(inv, "pi").items()}

"""Shared fixtures. Everything runs on loopback (127.0.0.0/8) only."""

from __future__ import annotations

from pathlib import Path

import pytest

from topology import Inventory, load_inventory

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def demo_inventory() -> Inventory:
    return load_inventory(REPO / "inventory.yml")

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


# ---- the simulator (tests/support/sim.py) -----------------------------------------------------


@pytest.fixture(scope="session")
def simulator():
    """The demo inventory's simulator, fast failure detector, admin on 127.0.0.1:9499."""
    from tests.support.sim import running_simulator

    with running_simulator(REPO / "inventory.yml", failure_detector="fast") as handle:
        yield handle


@pytest.fixture
def sim(simulator):
    """The session simulator, reset: every node powered, links up, every view UP."""
    simulator.reset()
    return simulator

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
def simulator(tmp_path_factory):
    """The demo inventory's simulator, fast failure detector, admin on 127.0.0.1:9499.

    ``RACKPANEL_TEST_SIM_OCTET=k`` moves it to a shifted copy (127.k.x.y, admin
    127.k.0.1:9499), for running tests beside another session's simulator.
    """
    import os

    from tests.support.inventories import shifted_inventory
    from tests.support.sim import running_simulator

    path, admin = REPO / "inventory.yml", None
    octet = os.environ.get("RACKPANEL_TEST_SIM_OCTET")
    if octet:
        path = shifted_inventory(tmp_path_factory.mktemp("sim"), int(octet))
        admin = f"127.{int(octet)}.0.1:9499"
    with running_simulator(path, failure_detector="fast", admin=admin) as handle:
        yield handle


@pytest.fixture
def sim(simulator):
    """The session simulator, reset: every node powered, links up, every view UP."""
    simulator.reset()
    return simulator

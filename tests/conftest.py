"""Shared fixtures. Everything runs on loopback (127.0.0.0/8) only."""

from __future__ import annotations

from pathlib import Path

import pytest
from rackpanel.topology import Inventory, load_inventory

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
    """The demo inventory's simulator, fast failure detector, in a loopback range of its own.

    The range (127.k.x.y, admin 127.k.0.1:9499) comes from the test lab, never the demo's
    127.0.x.y, so the suite runs beside ``./dev.sh demo`` and beside other test sessions.
    """
    from tests.support.inventories import shifted_inventory
    from tests.support.lab import loopback_octet
    from tests.support.sim import running_simulator

    k = loopback_octet()
    path = shifted_inventory(tmp_path_factory.mktemp("sim"), k)
    with running_simulator(path, failure_detector="fast", admin=f"127.{k}.0.1:9499") as handle:
        yield handle


@pytest.fixture
def sim(simulator):
    """The session simulator, reset: every node powered, links up, every view UP."""
    simulator.reset()
    return simulator


# The fast local loop (`./dev.sh test --fast`) leaves out the `live` tests: those that start
# real servers (the simulator, Prometheus, sshd, a JDK, Chromium, the CLI as a process). The
# full suite (`./dev.sh test`, what CI runs) keeps them all.
LIVE_FIXTURES = {"simulator", "sim"}
LIVE_MODULES = {
    "test_dashboards_live",
    "test_demo",
    "test_deploy_sim",
    "test_deploy_ssh",
    "test_exporter_gclog",
    "test_exporter_http",
    "test_exporter_sim",
    "test_panel_web",
    "test_prometheus_e2e",
    "test_sim_cli",
    "test_sim_cluster_http",
    "test_sim_cql_driver",
    "test_sim_driver",
    "test_sim_events",
    "test_writer_sim",
    "test_writer_terminal",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        fixtures = set(getattr(item, "fixturenames", ()))
        if module in LIVE_MODULES or fixtures & LIVE_FIXTURES:
            item.add_marker(pytest.mark.live)
    # The full suite runs its modules on parallel workers (`./dev.sh test`: pytest-xdist, one
    # module per worker at a time): the slow modules go out first so none of them is left
    # running alone at the end. Tests keep their order within a module.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)

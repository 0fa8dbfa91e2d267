"""Every panel query against a real Prometheus scraping the simulated demo, with a rack cut.

`rackpanel demo --no-ui` runs the simulator, the nine exporters, both writers and Prometheus
(demo profile, with the project's rules) on 127.71.x.y. After DC1/RAC1 loses power, so that
alerts fire and coordinators hold hints, every query of every dashboard must return data;
an empty one fails the test, naming the dashboard, the panel and the query.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from rackpanel.dashboards import kiosk
from rackpanel.dashboards.catalog import dashboards
from rackpanel.dashboards.node import endpoint_series
from rackpanel.topology import load_inventory

from tests.support.binaries import require_binary
from tests.support.inventories import shifted_inventory
from tests.support.lab import loopback_octet
from tests.support.probe import Prometheus, probe
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow
K = loopback_octet()
CUT = ("DC1", "RAC1")
# Panels fed by one exporter source only; the simulator has no process of its own per node
# and no gc.log, so the exporters report the `proc` and `gclog` sources down and those panels
# are rightly empty there.
SOURCE_OF = {"cassandra_process_": "proc", "cassandra_jvm_safepoint": "gclog"}
RACKPANEL_DEMO = [sys.executable, "-m", "rackpanel", "demo", "--no-ui", "--no-grafana"]


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


@pytest.fixture
def demo_stack(tmp_path: Path):
    require_binary("prometheus")
    inventory = shifted_inventory(
        tmp_path, K, simulator={"admin_address": f"127.{K}.0.1:9499", "failure_detector": "fast"}
    )
    run_dir = tmp_path / "run"
    demo = subprocess.Popen(
        [*RACKPANEL_DEMO, "--inventory", str(inventory), "--run-dir", str(run_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        endpoints = run_dir / "endpoints.json"
        wait_for(endpoints.exists, 60, what="the demo's endpoints.json")
        services = json.loads(endpoints.read_text())["services"]
        prometheus = next(s["url"] for s in services if s["kind"] == "prometheus")
        yield load_inventory(inventory), Prometheus(prometheus)
    finally:
        demo.send_signal(signal.SIGTERM)
        try:
            demo.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.communicate()


def sources_down(prom: Prometheus) -> set[str]:
    """Exporter sources that no exporter could read."""
    by_source = prom.query("max by (source) (cassandra_exporter_source_up)")
    return {s["metric"]["source"] for s in by_source if float(s["value"][1]) == 0}


def test_every_panel_query_returns_data_from_the_simulated_demo(demo_stack, tmp_path) -> None:
    inv, prom = demo_stack
    boards = dashboards(inv)
    writers = [w.name for w in inv.writer_places()]

    def writers_flowing() -> bool:
        served = prom.query("sum by (node) (lcd_writer_coordinator_requests_total)")
        return {s["metric"]["node"] for s in served} >= set(writers)

    wait_for(writers_flowing, 60, what="both writers' requests in Prometheus")
    admin = f"http://{inv.simulator.admin_address}"
    post(f"{admin}/power", {"action": "off", "target": "/".join(CUT), "crash": False})

    def rack_alert() -> bool:
        firing = prom.query('ALERTS{alertname="CassandraRackDown", alertstate="firing"}')
        return any(
            (a["metric"]["endpoint_dc"], a["metric"]["endpoint_rack"]) == CUT for a in firing
        )

    wait_for(rack_alert, 60, what=f"CassandraRackDown for {'/'.join(CUT)}")

    def excused(expr: str, down: set[str]) -> bool:
        return any(prefix in expr and SOURCE_OF[prefix] in down for prefix in SOURCE_OF)

    def empty_panels() -> list[str]:
        down = sources_down(prom)
        return [
            f"{uid}: {r.query} is empty ({r.error or r.query.expr}) with {r.values}"
            for uid, board in boards.items()
            for r in probe(prom, board)
            if not r.ok and not excused(r.query.expr, down)
        ]

    deadline = time.monotonic() + 60
    while (empty := empty_panels()) and time.monotonic() < deadline:
        time.sleep(2)
    assert not empty, "panels without data:\n" + "\n".join(empty)

    # The map tells the truth: the cut rack's nodes are DOWN, the others UP.
    assert_map_tells_the_truth(prom, boards[kiosk.UID])
    # Nodes are found by name, never by address: a kiosk built from an inventory whose
    # simulated and real addresses name none of the running endpoints shows the same map.
    elsewhere = load_inventory(shifted_inventory(tmp_path, K % 254 + 1))
    running = {str(p.sim_address) for p in inv.nodes()}
    assert not running & {str(a) for p in elsewhere.nodes() for a in (p.sim_address, p.address)}
    assert_map_tells_the_truth(prom, dashboards(elsewhere)[kiosk.UID])
    # The node dashboard names each observed endpoint by its inventory node, cut ones included
    observer = next(p.name for p in inv.nodes() if (p.dc, p.rack) != CUT)
    expr = endpoint_series("cassandra_endpoint_up").replace("$node", observer)
    named = {s["metric"].get("endpoint_node") for s in prom.query(expr)}
    assert named == {p.name for p in inv.nodes()}, named


def assert_map_tells_the_truth(prom: Prometheus, board: dict) -> None:
    """Each node tile of the kiosk shows DOWN for the cut rack's nodes and UP for the others."""
    tiles = 0
    for panel in board["panels"]:
        if panel["title"].count("/") != 1 or ":" in panel["title"]:
            continue
        rack_is_cut = tuple(panel["title"].split(" / ")) == CUT
        for target in panel["targets"]:
            values = {float(s["value"][1]) for s in prom.query(target["expr"])}
            assert values == {0.0 if rack_is_cut else 1.0}, (panel["title"], target["legendFormat"])
            tiles += 1
    assert tiles == 9  # every node of the demo inventory has its tile

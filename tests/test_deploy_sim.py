"""The rolling restart waits for the cluster itself: Cassandra restarts power-cycle simulated
nodes, and the up check reads each observer's failure-detector view from the simulator.

The lab's SSH hosts and the simulator's nodes share addresses (127.<82..84>.x.y): sshd on its own
port, the simulated node on 9042, as one Pi runs both. ``simctl`` plays the two host-side
parts deploy calls: the service manager (a Cassandra restart = crash, back after a delay, as a
JVM takes a while to start) and ``nodetool status`` (UN/DN as that node's failure detector
sees the others; failing while the node itself is down, like nodetool against a dead JVM).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rackpanel.cli import main
from tests.support.inventories import shifted_inventory
from tests.support.lab import loopback_octet
from tests.support.sim import running_simulator
from tests.support.sshd import free_port, lab_hosts, lab_inventory, sshd_fleet

DOWN_SECONDS = 5.5  # longer than the fast failure detector's ≈ 4.6 s: peers do convict

SIMCTL = """\
import json, subprocess, sys, time, urllib.request

admin, command = sys.argv[1], sys.argv[2]


def call(method, path, payload=None):
    data = json.dumps(payload).encode() if payload is not None else None
    headers = {"Content-Type": "application/json"}  # the admin API refuses other writes
    request = urllib.request.Request(admin + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def log(path, *words):
    with open(path, "a") as handle:
        handle.write(" ".join([f"{time.time():.3f}", *words]) + "\\n")


if command == "nodetool":
    observer = sys.argv[3]
    nodes = call("GET", "/state")["nodes"]
    me = next(n for n in nodes if n["name"] == observer)
    if not me["powered"]:
        sys.exit("nodetool: Failed to connect to '127.0.0.1:7199' - ConnectException")
    for n in nodes:
        up = n is me or n["views"][observer] == "UP"
        print(("UN" if up else "DN"), n["address"], "100 KiB", "16", "?", n["host_id"], n["rack"])
elif command == "service":
    path, delay, host, verb, target = (sys.argv[3:8] + [""])[:5]
    log(path, host, verb, target)
    if (verb, target) == ("restart", "cassandra"):
        call("POST", "/power", {"action": "off", "target": host, "crash": True})
        subprocess.Popen(
            [sys.executable, __file__, admin, "power-on-later", path, host, delay],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
elif command == "power-on-later":
    path, host, delay = sys.argv[3], sys.argv[4], float(sys.argv[5])
    time.sleep(delay)
    call("POST", "/power", {"action": "on", "target": host})
    log(path, host, "powered-on", "cassandra")
"""


@pytest.fixture
def sim_lab(tmp_path: Path):
    octet = loopback_octet()
    admin = f"127.0.0.1:{free_port('127.0.0.1')}"
    hosts = lab_hosts(octet)
    with (
        running_simulator(shifted_inventory(tmp_path, octet), admin=admin) as sim,
        sshd_fleet(tmp_path / "sshd", hosts) as fleet,
    ):
        yield tmp_path, sim, fleet, hosts


def test_rolling_restart_waits_until_peers_see_each_node_up(sim_lab, capsys):
    directory, sim, fleet, hosts = sim_lab
    simctl = directory / "simctl.py"
    simctl.write_text(SIMCTL)
    log = directory / "sim-actions.log"
    command = f"{sys.executable} {simctl} {sim.admin_url}"
    inventory = lab_inventory(
        directory,
        fleet,
        hosts,
        service_manager=f"{command} service {log} {DOWN_SECONDS} {{host}}",
        up_check=f"{command} nodetool {{host}}",
        up_timeout_seconds=30,
    )
    fleet.write_known_hosts(directory / "known_hosts")

    code = main(["deploy", "apply", "--limit", "DC1", "--inventory", str(inventory)])
    out = capsys.readouterr().out
    assert code == 0, out

    events = [line.split() for line in log.read_text().splitlines()]
    cassandra = [(float(t), host, verb) for t, host, verb, *rest in events if rest == ["cassandra"]]
    assert [(h, v) for _, h, v in cassandra] == [
        ("rpidc1r1n1", "restart"),
        ("rpidc1r1n1", "powered-on"),
        ("rpidc1r2n1", "restart"),
        ("rpidc1r2n1", "powered-on"),
    ]
    # each node was down for the whole delay, and the next one waited for it
    assert cassandra[1][0] - cassandra[0][0] >= DOWN_SECONDS
    assert cassandra[2][0] > cassandra[1][0]
    # rpidc2r1n1 is not restarted by this run: it judges the first; the first judges the next
    assert "rpidc1r1n1: seen up by rpidc2r1n1" in out
    assert "rpidc1r2n1: seen up by rpidc1r1n1" in out
    state = {n["name"]: n for n in sim.state()["nodes"]}
    assert state["rpidc1r1n1"]["powered"] and state["rpidc1r2n1"]["powered"]
    assert state["rpidc1r1n1"]["views"]["rpidc2r1n1"] == "UP"

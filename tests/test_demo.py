"""`rackpanel demo` end to end: real processes on loopback, started and stopped as a user would."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from rackpanel.topology import load_inventory

from rackpanel.demo.ports import is_free
from tests.support.binaries import require_binary
from tests.support.demo import (
    RACKPANEL,
    demo_inventory,
    get,
    start_demo,
    stop_demo,
    wait_ready,
)
from tests.support.lab import loopback_octet
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow


def endpoint_up(exporter_url: str) -> dict[tuple[str, str], float]:
    from prometheus_client.parser import text_string_to_metric_families

    out = {}
    for family in text_string_to_metric_families(get(exporter_url).decode()):
        if family.name == "cassandra_endpoint_up":
            for s in family.samples:
                out[
                    (
                        s.labels["endpoint_dc"] + "/" + s.labels["endpoint_rack"],
                        s.labels["endpoint"],
                    )
                ] = s.value
    return out


def writer_hosts_up(writer_metrics_url: str, dc: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(get(writer_metrics_url).decode()):
        if family.name == "lcd_writer_cluster_hosts_up":
            for s in family.samples:
                if s.labels.get("host_dc") == dc:
                    return s.value
    raise ValueError("no lcd_writer_cluster_hosts_up sample")


def test_headless_demo_runs_reacts_to_a_rack_cut_and_stops_clean(tmp_path):
    inventory = demo_inventory(tmp_path, loopback_octet())
    inv = load_inventory(inventory)
    run_dir = tmp_path / "run"
    began = time.monotonic()
    demo = start_demo(inventory, run_dir, "--no-prometheus")
    try:
        endpoints_file = run_dir / "endpoints.json"
        wait_ready(demo, endpoints_file)
        startup = time.monotonic() - began
        services = json.loads(endpoints_file.read_text())["services"]
        kinds = [s["kind"] for s in services]
        assert kinds.count("exporter") == 9 and kinds.count("writer") == 2
        assert kinds.count("simulator") == 1
        for service in services:
            assert get(service["url"]), service["name"]
        exporters = [s["url"] for s in services if s["kind"] == "exporter"]
        writers = [s["url"].rsplit("/", 1)[0] for s in services if s["kind"] == "writer"]

        # Every exporter sees the nine nodes up, and the DC1 writer's driver sees six DC1 hosts.
        wait_for(lambda: all(len(endpoint_up(u)) == 9 for u in exporters), 20, what="9 endpoints")
        wait_for(lambda: writer_hosts_up(writers[0] + "/metrics", "DC1") == 6, 30, what="6 hosts")

        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "rackpanel",
                "power",
                "off",
                "DC1/RAC1",
                "--inventory",
                str(inventory),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert out.returncode == 0, out.stdout + out.stderr
        cut = {str(p.sim_address) for p in inv.nodes() if (p.dc, p.rack) == ("DC1", "RAC1")}
        survivors = [u for u in exporters if urllib.parse.urlsplit(u).hostname not in cut]

        def rack_seen_down() -> bool:
            for url in survivors:
                for (_, endpoint), value in endpoint_up(url).items():
                    if endpoint in cut and value != 0:
                        return False
            return True

        wait_for(rack_seen_down, 30, what="surviving exporters to see DC1/RAC1 down")
        wait_for(
            lambda: writer_hosts_up(writers[0] + "/metrics", "DC1") == 4,
            60,
            what="the DC1 writer to drop the two cut hosts",
        )
    finally:
        output = stop_demo(demo)
    assert demo.returncode == 0, output
    assert "stopped" in output
    # Nothing left behind: every port the demo used is free again.
    for place in inv.nodes():
        assert is_free(str(place.sim_address), inv.ports.cql)
        assert is_free(str(place.sim_address), inv.ports.exporter)
    for place in inv.writer_places():
        assert is_free(str(place.sim_address), inv.ports.writer)
    print(f"demo ready in {startup:.1f} s")


def test_port_in_use_is_reported_with_the_process_to_blame(tmp_path):
    inventory = demo_inventory(tmp_path, k := loopback_octet())
    blocker = socket.socket()
    blocker.bind((f"127.{k}.12.1", 9042))
    blocker.listen()
    try:
        demo = start_demo(inventory, tmp_path / "run")
        output, _ = demo.communicate(timeout=60)
    finally:
        blocker.close()
    assert demo.returncode == 2, output
    assert f"127.{k}.12.1:9042 is already in use" in output
    assert f"pid {os.getpid()}" in output


def test_terminal_panel_shows_both_lcds_and_a_key_cuts_a_rack(tmp_path):
    tmux = require_binary("tmux")
    inventory = demo_inventory(tmp_path, loopback_octet())
    inv = load_inventory(inventory)
    session = f"rackpanel-test-{os.getpid()}"
    command = (
        f"cd {Path.cwd()} && {sys.executable} -m rackpanel demo --no-prometheus "
        f"--inventory {inventory} --run-dir {tmp_path / 'run'}"
    )
    subprocess.run(
        [tmux, "new-session", "-d", "-s", session, "-x", "160", "-y", "45", command], check=True
    )

    def screen() -> str:
        return subprocess.run(
            [tmux, "capture-pane", "-p", "-t", session], capture_output=True, text=True
        ).stdout

    try:
        wait_for(
            lambda: all(w.name in screen() for w in inv.writers) and "emergency stops" in screen(),
            60,
            what="the panel with both LCDs",
        )
        admin = f"http://{inv.simulator.admin_address}/state"
        subprocess.run([tmux, "send-keys", "-t", session, "1"], check=True)

        def rack_off() -> bool:
            state = json.loads(get(admin))
            return all(
                not n["powered"] for n in state["nodes"] if (n["dc"], n["rack"]) == ("DC1", "RAC1")
            )

        wait_for(rack_off, 15, what="key 1 to power off DC1/RAC1")
        wait_for(lambda: "OFF DC1/RAC1" in screen(), 10, what="the stop button to show OFF")
        subprocess.run([tmux, "send-keys", "-t", session, "q"], check=True)
        wait_for(
            lambda: (
                is_free(str(inv.node("rpidc1r1n1").sim_address), inv.ports.cql)
                and is_free(str(inv.node("rpidc2r1n1").sim_address), inv.ports.cql)
            ),
            30,
            what="q to stop the simulator",
        )
    finally:
        subprocess.run([tmux, "kill-session", "-t", session], capture_output=True)


def test_a_killed_demo_takes_its_services_with_it(tmp_path):
    """Even a SIGKILLed demo (no chance to clean up) leaves no process and no port behind."""
    inventory = demo_inventory(tmp_path, loopback_octet())
    inv = load_inventory(inventory)
    run_dir = tmp_path / "run"
    demo = start_demo(inventory, run_dir, "--no-prometheus")
    try:
        wait_ready(demo, run_dir / "endpoints.json")
        out = subprocess.run(
            [*RACKPANEL, "power", "off", "DC1/RAC2", "--inventory", str(inventory)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert out.returncode == 0, out.stderr
        time.sleep(1.5)  # the power follower freezes the cut nodes' exporters
    finally:
        os.kill(demo.pid, signal.SIGKILL)
        demo.communicate(timeout=30)
    hosts = [(str(p.sim_address), inv.ports.exporter) for p in inv.nodes()]
    hosts += [(str(p.sim_address), inv.ports.cql) for p in inv.nodes()]
    wait_for(lambda: all(is_free(h, port) for h, port in hosts), 15, what="every port freed")


def test_a_crashed_exporter_comes_back_and_a_dead_simulator_stops_the_demo(tmp_path):
    inventory = demo_inventory(tmp_path, loopback_octet())
    run_dir = tmp_path / "run"
    demo = start_demo(inventory, run_dir, "--no-prometheus")
    try:
        wait_ready(demo, run_dir / "endpoints.json")
        services = json.loads((run_dir / "endpoints.json").read_text())["services"]
        exporter = next(s for s in services if s["kind"] == "exporter")
        pids = subprocess.run(
            ["pgrep", "-f", "--", f"--listen {urllib.parse.urlsplit(exporter['url']).netloc}"],
            capture_output=True, text=True, check=False,
        ).stdout.split()  # fmt: skip
        assert len(pids) == 1, pids
        os.kill(int(pids[0]), signal.SIGKILL)  # the demo's own child, found by its address
        wait_for(lambda: get(exporter["url"]), 30, what="the exporter back after its crash")
        simulator_pid = int((run_dir / "simulator.pid").read_text())
        os.kill(simulator_pid, signal.SIGKILL)
        output, _ = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.communicate()
    assert f"{exporter['name']} exited with status -9; restarting in 1 s" in output
    assert f"{exporter['name']} restarted" in output
    assert demo.returncode == 1
    assert "the simulator exited with status -9; the demo cannot go on" in output
    assert "stopped: every process of the demo has exited" in output

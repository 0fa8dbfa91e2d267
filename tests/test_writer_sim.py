"""The writer as a real process against the simulator, driven like the demo drives it.

Each test starts ``rackpanel writer`` (DC1, fast heartbeat, a write every 0.2 s) against this
module's own simulator (shifted inventory, 127.51.x.y, so it never meets the session one),
cuts power like the emergency stops do, and reads what a visitor would see (GET /lcd) and
what Prometheus would scrape (/metrics).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rackpanel.lcd_writer.client import WriterClient

from tests.support.inventories import shifted_inventory
from tests.support.lab import free_port, loopback_octet
from tests.support.processes import stop_process
from tests.support.sim import running_simulator
from tests.support.waiting import wait_for

REPO = Path(__file__).resolve().parent.parent
OCTET = loopback_octet()  # a loopback range of its own (tests/support/lab.py)
HOST = f"127.{OCTET}.10.1"  # the DC1 writer's simulator address in the shifted inventory
REQUESTS = "lcd_writer_requests_total"
COORDINATORS = "lcd_writer_coordinator_requests_total"


wait_until = wait_for  # (check, timeout, what)


@pytest.fixture(scope="module")
def writer_simulator(tmp_path_factory):
    inventory = shifted_inventory(tmp_path_factory.mktemp("writer-sim"), OCTET)
    with running_simulator(inventory, failure_detector="fast", admin=f"127.{OCTET}.0.1:9499") as s:
        yield s


@pytest.fixture
def sim(writer_simulator):
    writer_simulator.reset()
    return writer_simulator


@pytest.fixture
def start_writer(sim, tmp_path) -> Iterator[Callable[..., WriterClient]]:
    processes: list[subprocess.Popen] = []

    def start(*extra: str, dc: str = "DC1") -> WriterClient:
        port = free_port(HOST)
        log = open(tmp_path / f"writer-{port}.log", "wb")  # noqa: SIM115  (closed with the process)
        command = [
            sys.executable, "-m", "rackpanel", "writer", "--name", f"test{dc.lower()}user",
            "--local-dc", dc, "--contact-points", *sim.contact_points(dc),
            "--listen", f"{HOST}:{port}", "--keypad-api", "--interval", "0.2",
            "--heartbeat-interval", "1", "--connect-timeout", "1", "--source-address", HOST,
            *extra,
        ]  # fmt: skip
        processes.append(subprocess.Popen(command, cwd=REPO, stdout=log, stderr=log))
        client = WriterClient(f"http://{HOST}:{port}")
        wait_until(lambda: _answers(client), 20, "the writer's HTTP port")
        return client

    yield start
    for process in processes:
        stop_process(process)


def _answers(client: WriterClient) -> bool:
    try:
        client.lcd()
    except OSError:
        return False
    return True


def successes(client: WriterClient, **labels: str) -> float:
    return client.sample(REQUESTS, outcome="success", **labels)


def connected_clients(node: str) -> set[str]:
    """Client addresses a node's system_views.clients lists."""
    from cassandra.cluster import Cluster

    cluster = Cluster([node], protocol_version=4, connect_timeout=2)
    try:
        rows = cluster.connect().execute("SELECT address FROM system_views.clients")
        return {str(row.address) for row in rows}
    finally:
        cluster.shutdown()


def select_cl(client: WriterClient, operation: str, level: str) -> None:
    """Hold SELECT, go to the operation's menu, step RIGHT until ``level`` shows, SELECT."""
    state = client.press("select", hold=2)
    if operation == "read":
        state = client.press("down")
    for _ in range(12):
        if state["lines"][1].strip() == f"< {level} >":
            break
        state = client.press("right")
    state = client.press("select")
    assert state[f"{operation}_cl"] == level and state["menu"] is None


def test_writes_locally_and_keypad_changes_the_cl(sim, start_writer):
    writer = start_writer("--read")
    wait_until(lambda: successes(writer, operation="read") >= 2, 30, "writes and read-backs")
    shown = writer.lcd()  # with --read: the write on line 1, its read-back on line 2
    assert shown["lines"][0].startswith("W:L1 DC1R"), shown
    assert shown["lines"][1].startswith("R:1 DC1R"), shown
    assert shown["color"] == [0, 1, 0]  # DC1 coordinator: green
    assert writer.sample(COORDINATORS, coordinator_dc="DC2") == 0
    assert writer.sample("lcd_writer_cluster_hosts_up", host_dc="DC1") == 6
    assert writer.sample("lcd_writer_cluster_hosts_up", host_dc="DC2") == 3
    assert HOST in connected_clients(sim.contact_points("DC1")[0])  # --source-address
    select_cl(writer, "write", "EACH_QUORUM")
    select_cl(writer, "read", "LOCAL_QUORUM")
    assert writer.sample("lcd_writer_consistency_level", operation="write", cl="EACH_QUORUM") == 1
    assert writer.sample("lcd_writer_consistency_level", operation="write", cl="LOCAL_ONE") == 0
    assert writer.sample("lcd_writer_consistency_level", operation="read", cl="LOCAL_QUORUM") == 1
    wait_until(
        lambda: (
            successes(writer, operation="write", cl="EACH_QUORUM") >= 2
            and successes(writer, operation="read", cl="LOCAL_QUORUM") >= 2
        ),
        10,
        "requests at the new levels",
    )


def test_two_racks_off_local_quorum_is_unavailable_but_one_succeeds(sim, start_writer):
    writer = start_writer("--write-cl", "LOCAL_QUORUM", "--read", "--read-cl", "LOCAL_QUORUM")
    wait_until(lambda: successes(writer, operation="read") >= 2, 30, "first writes and reads")
    sim.power("off", "DC1/RAC1")
    sim.power("off", "DC1/RAC2")
    wait_until(
        lambda: writer.sample(REQUESTS, cl="LOCAL_QUORUM", outcome="unavailable") >= 2,
        30,
        "LOCAL_QUORUM writes failing as Unavailable",
    )
    shown = wait_until(
        lambda: (s := writer.lcd())["lines"][0].startswith("W:LQ UNAVAIL") and s, 5, "the LCD"
    )
    assert shown["lines"][0] == "W:LQ UNAVAIL 2/1"  # 2 replicas required, 1 alive
    assert shown["color"] == [1, 0, 0]
    select_cl(writer, "write", "ONE")
    wait_until(lambda: successes(writer, cl="ONE") >= 3, 10, "writes at ONE")
    wait_until(  # the read-back of each acknowledged row cannot reach its quorum either
        lambda: writer.sample(REQUESTS, operation="read", cl="LOCAL_QUORUM", outcome="unavailable"),
        10,
        "read-backs at LOCAL_QUORUM failing",
    )

    def write_ok_read_unavailable() -> bool:
        line1, line2 = writer.lcd()["lines"]  # RAC3 holds the only live DC1 coordinators
        return line1.startswith("W:1 DC1R3N") and line2 == "R:LQ UNAVAIL 2/1"

    wait_until(write_ok_read_unavailable, 5, "the write at ONE, the read-back unavailable")


def test_dc1_off_moves_the_coordinator_to_dc2_and_back(sim, start_writer):
    writer = start_writer()
    wait_until(lambda: successes(writer) >= 2, 30, "first writes")
    sim.power("off", "DC1")
    wait_until(
        lambda: writer.sample(COORDINATORS, coordinator_dc="DC2", cl="LOCAL_ONE") >= 3,
        30,
        "DC2 coordinators after DC1 went dark",
    )
    shown = wait_until(lambda: (s := writer.lcd())["lines"][1].startswith("DC2") and s, 5, "LCD")
    assert shown["color"] == [0, 0, 1]  # DC2 coordinator: blue
    wait_until(
        lambda: writer.sample("lcd_writer_cluster_hosts_up", host_dc="DC1") == 0,
        15,
        "the driver to see DC1 down",
    )
    sim.power("on", "DC1")
    wait_until(lambda: writer.lcd()["lines"][1].startswith("DC1"), 40, "DC1 coordinators again")


def test_everything_off_shows_no_host_and_recovers_without_restart(sim, start_writer):
    writer = start_writer()
    wait_until(lambda: successes(writer) >= 2, 30, "first writes")
    sim.power("off", "DC1")
    sim.power("off", "DC2")
    wait_until(
        lambda: writer.sample(REQUESTS, outcome="no_host") >= 2, 30, "NO HOST once all are gone"
    )
    wait_until(lambda: writer.lcd()["lines"][1] == "NO HOST         ", 5, "NO HOST on the LCD")
    assert writer.sample(REQUESTS, outcome="client_timeout") >= 1  # honest until detected
    # the UI keeps answering at once while the cluster is gone
    start = time.perf_counter()
    writer.press("select", hold=2)
    writer.press("select")
    assert time.perf_counter() - start < 0.2
    sim.power("on", "DC1")
    sim.power("on", "DC2")
    before = successes(writer)
    wait_until(lambda: successes(writer) >= before + 3, 60, "writes after power came back")
    # DC2 was lost once: the writer must still fail over to it (lcd_writer.policy)
    wait_until(
        lambda: writer.sample("lcd_writer_cluster_hosts_up", host_dc="DC2") == 3,
        20,
        "the driver to reconnect DC2",
    )
    sim.power("off", "DC1")
    wait_until(lambda: writer.sample(COORDINATORS, coordinator_dc="DC2") >= 2, 30, "DC2 failover")


def test_dc_link_cut_keeps_the_writer_from_failing_over(sim, start_writer):
    """The writer sits in DC1: with the DC link cut and DC1 dark, DC2 is out of its reach;
    once the link heals the writer uses DC2 again (the stock DCAwareRoundRobinPolicy would
    never reconnect a remote host it lost: see lcd_writer.policy)."""
    writer = start_writer()
    wait_until(lambda: successes(writer) >= 2, 30, "first writes")
    sim.power("off", "link:DC1-DC2")
    sim.power("off", "DC1")
    wait_until(lambda: writer.sample(REQUESTS, outcome="no_host") >= 2, 12, "NO HOST")
    assert writer.sample(COORDINATORS, coordinator_dc="DC2") == 0
    sim.power("on", "link:DC1-DC2")
    wait_until(lambda: writer.sample(COORDINATORS, coordinator_dc="DC2") >= 2, 40, "DC2 again")


def test_conditional_writes_offer_serial_levels_and_follow_paxos_quorums(sim, start_writer):
    """Paxos with DC1/RAC1 and DC1/RAC2 off: LOCAL_SERIAL needs 2 of DC1's 3 replicas (1
    alive): unavailable; SERIAL needs 4 of all 6 (1 + DC2's 3): it succeeds."""
    writer = start_writer("--conditional")
    wait_until(lambda: successes(writer, cl="LOCAL_SERIAL") >= 2, 30, "conditional writes")
    assert writer.sample("lcd_writer_consistency_level", operation="write", cl="SERIAL") == 0
    gauges = writer.samples("lcd_writer_consistency_level")
    assert {labels["cl"] for labels, _ in gauges if labels["operation"] == "write"} == {
        "SERIAL",
        "LOCAL_SERIAL",
    }
    sim.power("off", "DC1/RAC1")
    sim.power("off", "DC1/RAC2")
    wait_until(
        lambda: writer.sample(REQUESTS, cl="LOCAL_SERIAL", outcome="unavailable") >= 2,
        30,
        "LOCAL_SERIAL writes failing as Unavailable",
    )
    select_cl(writer, "write", "SERIAL")
    wait_until(lambda: successes(writer, cl="SERIAL") >= 3, 15, "writes at SERIAL")


def test_a_writer_of_the_inventory_needs_only_its_name(sim, tmp_path):
    """Issue 15: `rackpanel writer --local-dc DC1 --display terminal` exited 2; with an
    inventory, --name of one of its writers gives the DC, the contact points and the addresses."""
    place = next(sim.inventory.writer_places())
    log = open(tmp_path / "writer.log", "wb")  # noqa: SIM115  (closed with the process)
    command = [
        sys.executable, "-m", "rackpanel", "writer", "--name", place.name,
        "--inventory", str(sim.inventory_path), "--keypad-api", "--interval", "0.2",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=tmp_path, stdout=log, stderr=log)
    try:
        client = WriterClient(f"http://{place.sim_address}:{sim.inventory.ports.writer}")
        wait_until(lambda: _answers(client), 20, "the writer on its inventory address")
        wait_until(
            lambda: client.lcd()["lines"][1].startswith(place.local_dc), 20, "a DC1 coordinator"
        )
        clients = connected_clients(str(sim.inventory.node(place.contact_points[0]).sim_address))
        assert str(place.sim_address) in clients  # connected from its own address
    finally:
        stop_process(process)
        log.close()


def test_a_name_the_inventory_does_not_know_is_a_clear_error(sim, tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "rackpanel", "writer", "--name", "rpidc9user",
         "--inventory", str(sim.inventory_path)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 2
    assert "--name rpidc9user: no such writer in" in run.stderr
    assert "rpidc1user, rpidc2user" in run.stderr

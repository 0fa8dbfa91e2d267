"""`rackpanel sim` as a user runs it: contact points, the ready line, clean stop on Ctrl-C,
and a clear error when an address is taken."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

from tests.support.inventories import shifted_inventory
from tests.support.lab import loopback_octet

REPO_ARGS = [sys.executable, "-m", "rackpanel", "sim"]


def start(path, admin: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*REPO_ARGS, "--inventory", str(path), "--failure-detector", "fast", "--admin", admin],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_until_ready(process: subprocess.Popen, timeout: float = 30) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("rackpanel sim: ready"):
            return lines
    raise AssertionError(f"no ready line: {lines} {process.stderr.read()}")


def test_sim_prints_contact_points_serves_and_stops_on_ctrl_c(tmp_path):
    path = shifted_inventory(tmp_path, k := loopback_octet())
    process = start(path, f"127.{k}.0.1:9499")
    try:
        lines = read_until_ready(process)
        text = "\n".join(lines)
        assert f"contact points DC1: 127.{k}.11.1,127.{k}.11.2,127.{k}.12.1" in text
        assert f"contact points DC2: 127.{k}.21.1,127.{k}.21.2,127.{k}.21.3" in text
        assert f"http://127.{k}.0.1:9499/state" in text
        with socket.create_connection((f"127.{k}.21.3", 9042), timeout=5):
            pass
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
        assert "rackpanel sim: stopped" in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_sim_names_the_address_already_in_use(tmp_path):
    path = shifted_inventory(tmp_path, k := loopback_octet())
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind((f"127.{k}.12.2", 9042))
        squatter.listen()
        process = start(path, f"127.{k}.0.1:9499")
        out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert f"127.{k}.12.2:9042" in err and "in use" in err
    assert "ready" not in out


def _tables(sim) -> set[str]:  # type: ignore[no-untyped-def]
    from tests.support.sim import driver_cluster

    cluster = driver_cluster(sim, "DC1")
    try:
        session = cluster.connect()
        rows = session.execute("SELECT keyspace_name, table_name FROM system_schema.tables")
        tables = {f"{r.keyspace_name}.{r.table_name}" for r in rows}
        if "demorpi.messages" in tables:  # and it answers queries at once
            assert list(session.execute("SELECT id FROM demorpi.messages LIMIT 1")) == []
        return tables
    finally:
        cluster.shutdown()


def test_sim_alone_has_the_inventorys_keyspace_and_table(simulator):
    """Issue 15: `rackpanel sim` alone had no demorpi.messages until a writer ran."""
    assert "demorpi.messages" in _tables(simulator)


def test_no_schema_starts_an_empty_cluster(tmp_path):
    from tests.support.sim import running_simulator

    k = loopback_octet()
    path = shifted_inventory(tmp_path, k)
    with running_simulator(path, admin=f"127.{k}.0.1:9499", extra_args=["--no-schema"]) as sim:
        assert not any(t.startswith("demorpi.") for t in _tables(sim))

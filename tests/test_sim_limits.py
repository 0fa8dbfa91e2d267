"""The simulator's resource limits (docs/simulator.md), each against a real simulator process
over raw sockets or the driver: open-files limit, frame cap, batch thresholds, statement size,
connection cap, read timeouts, back-pressure. This module runs its own simulator with a 2 s read
timeout and 40 connections per node, so the limits show quickly, started with an open-files
soft limit below the hard one, so its raising the soft limit shows."""

from __future__ import annotations

import resource
import socket
import time
from pathlib import Path

import pytest
from cassandra import InvalidRequest
from cassandra.cluster import Cluster
from cassandra.query import BatchStatement, BatchType

from tests.support.inventories import shifted_inventory
from tests.support.lab import loopback_octet
from tests.support.sim import create_keyspace, running_simulator
from tests.test_sim_protocol import (
    ERROR,
    OPTIONS,
    QUERY,
    READY,
    RESULT,
    STARTUP,
    SUPPORTED,
    error_of,
    frame,
    query_body,
    read_frame,
    startup_body,
)

MAX_CONNECTIONS = 40
READ_TIMEOUT = 2.0
STARTING_OPEN_FILES = 1024  # the soft limit the simulator starts with, when the hard one is above


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    k = loopback_octet()
    path = shifted_inventory(tmp_path_factory.mktemp("limits"), k)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RACKPANEL_SIM_MAX_CONNECTIONS", str(MAX_CONNECTIONS))
        env.setenv("RACKPANEL_SIM_READ_TIMEOUT", str(READ_TIMEOUT))
        with running_simulator(
            path, admin=f"127.{k}.0.1:9499", open_files_soft_limit=starting_open_files()
        ) as handle:
            yield handle


def starting_open_files() -> int:
    return min(STARTING_OPEN_FILES, resource.getrlimit(resource.RLIMIT_NOFILE)[1])


def open_files_limits(pid: int) -> tuple[int, int]:
    """(soft, hard) "Max open files" of a process, as the kernel shows it in /proc/<pid>/limits."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = (
                resource.RLIM_INFINITY if word == "unlimited" else int(word)
                for word in line.split()[3:5]
            )
            return soft, hard
    raise AssertionError(f"no 'Max open files' line in /proc/{pid}/limits")


def node(handle, index: int = 0) -> tuple[str, int]:
    return handle.contact_points()[index], handle.inventory.ports.cql


def ready(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=10)
    sock.sendall(frame(STARTUP, startup_body()))
    assert read_frame(sock)[2] == READY
    return sock


def options_round_trip(address: tuple[str, int]) -> None:
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(frame(OPTIONS))
        assert read_frame(sock)[2] == SUPPORTED


def closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_the_open_files_soft_limit_is_raised_to_the_hard_limit_at_start(limited):
    """Started with a soft limit of 1024, the simulator runs with its hard limit (its
    per-node connection budget is a share of that)."""
    if starting_open_files() == resource.getrlimit(resource.RLIMIT_NOFILE)[1]:
        pytest.skip("the hard open-files limit is not above 1024: nothing to raise")
    soft, hard = open_files_limits(limited.process.pid)
    assert soft == hard > STARTING_OPEN_FILES


def test_a_frame_over_16_mib_is_refused_and_the_connection_stays(limited):
    """Envelope.Decoder: InvalidRequest on the frame's stream, its bytes skipped."""
    sock = ready(node(limited))
    length = 16 * 1024 * 1024
    header = frame(QUERY, b"", stream=3)[:5] + length.to_bytes(4, "big")
    sock.sendall(header)
    _, stream, opcode, body = read_frame(sock)
    assert (stream, opcode) == (3, ERROR)
    assert error_of(body) == (
        0x2200,
        f"Request is too big: length {length + 9} exceeds maximum allowed length 16777216.",
    )
    chunk = b"\0" * (1024 * 1024)
    for _ in range(16):
        sock.sendall(chunk)
    sock.sendall(frame(QUERY, query_body("SELECT key FROM system.local"), stream=4))
    assert read_frame(sock)[1:3] == (4, RESULT)


def test_a_statement_of_too_many_tokens_is_refused(limited):
    sock = ready(node(limited))
    text = "SELECT " + ",".join(["key"] * 300_000) + " FROM system.local"
    sock.settimeout(180)  # half a million tokens are scanned (on the heavy lane) before refusal
    sock.sendall(frame(QUERY, query_body(text), stream=5))
    _, stream, opcode, body = read_frame(sock)
    assert (stream, opcode) == (5, ERROR)
    assert "Statement too large for the simulator" in error_of(body)[1]


def test_batches_warn_over_5_kib_and_fail_over_50_kib(limited):
    """BatchStatement.verifyBatchSize: a client warning, then InvalidRequest 'Batch too large'."""
    cluster = Cluster(limited.contact_points("DC1"), port=limited.inventory.ports.cql)
    try:
        session = cluster.connect()
        create_keyspace(session, "limits", "kv (k int PRIMARY KEY, v text)")
        insert = session.prepare("INSERT INTO limits.kv (k, v) VALUES (?, ?)")

        def batch(partitions: int, size: int) -> BatchStatement:
            statement = BatchStatement(batch_type=BatchType.UNLOGGED)
            for k in range(partitions):
                statement.add(insert, (k, "x" * size))
            return statement

        assert session.execute(batch(1, 60_000)).response_future.warnings is None
        future = session.execute_async(batch(4, 2000))
        future.result()
        assert future.warnings == [
            f"Batch for [limits.kv] is of size {4 * (2000 + 8 + 8)}, exceeding specified "
            f"threshold of 5120 by {4 * 2016 - 5120}."
        ]
        with pytest.raises(InvalidRequest, match="Batch too large"):
            session.execute(batch(3000, 20), timeout=60)
        future = session.execute_async("SELECT count(*) FROM limits.kv")
        future.result()
        assert future.warnings == ["Aggregation query used without partition key"]
    finally:
        cluster.shutdown()


def test_connections_over_the_cap_are_closed_and_said_once(limited):
    address = node(limited, 1)
    held = [socket.create_connection(address, timeout=10) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.5)
        extra = [socket.create_connection(address, timeout=10) for _ in range(20)]
        assert all(closed_by_server(sock, 5.0) for sock in extra)
        options_round_trip(node(limited, 2))  # the other nodes serve on
    finally:
        for sock in held + extra:
            sock.close()
    log = limited.log_tail(200)
    assert log.count("exceeded maximum native connection limit of 40") == 1


def test_half_sent_frames_and_idle_handshakes_are_closed_after_the_read_timeout(limited):
    address = node(limited, 3)
    half = ready(address)
    half.sendall(frame(QUERY, query_body("SELECT key FROM system.local"))[:12])
    idle = socket.create_connection(address, timeout=10)  # never sends STARTUP
    busy = ready(address)
    assert closed_by_server(half, READ_TIMEOUT + 5) and closed_by_server(idle, 5)
    busy.sendall(frame(QUERY, query_body("SELECT key FROM system.local")))
    assert read_frame(busy)[2] == RESULT  # a ready connection that sent whole frames stays


def test_a_client_that_does_not_read_is_no_longer_read(limited):
    """Back-pressure: answers pile up unread, the server stops reading, so the client's
    sends block; the node and its neighbours keep serving others."""
    address = node(limited, 4)
    greedy = ready(address)
    greedy.setblocking(False)
    request = frame(QUERY, query_body("SELECT * FROM system.local"))
    sent, deadline = 0, time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            sent += greedy.send(request * 64)
        except BlockingIOError:
            time.sleep(0.5)
            try:
                sent += greedy.send(request)
            except BlockingIOError:
                break
    else:
        pytest.fail(f"the server kept reading: {sent} bytes accepted in 60 s")
    assert sent < 200 * 1024 * 1024
    options_round_trip(address)
    greedy.close()

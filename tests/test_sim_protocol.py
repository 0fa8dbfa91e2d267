"""The simulator's native protocol at the byte level: handshake, versions, malformed input,
power physics (silent cut vs crash), many connections. Raw sockets, no driver."""

from __future__ import annotations

import random
import socket
import struct
import time

import pytest

NODE_NAME = "rpidc1r2n1"
NODE = ""  # its simulator address, set by the autouse fixture below
PORT = 9042
HEADER = struct.Struct(">BBhBi")
OPTIONS, STARTUP, READY, SUPPORTED, QUERY, RESULT, ERROR, EXECUTE = 5, 1, 2, 6, 7, 8, 0, 10


def frame(opcode: int, body: bytes = b"", stream: int = 1, version: int = 4) -> bytes:
    return HEADER.pack(version, 0, stream, opcode, len(body)) + body


def string(s: str) -> bytes:
    raw = s.encode()
    return struct.pack(">H", len(raw)) + raw


def startup_body() -> bytes:
    return struct.pack(">H", 1) + string("CQL_VERSION") + string("3.4.6")


def query_body(text: str) -> bytes:
    raw = text.encode()
    return struct.pack(">i", len(raw)) + raw + struct.pack(">HB", 1, 0)


def connect(host: str | None = None, timeout: float = 5.0) -> socket.socket:
    sock = socket.create_connection((host or NODE, PORT), timeout=timeout)
    sock.settimeout(timeout)
    return sock


def recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    return data


def read_frame(sock: socket.socket) -> tuple[int, int, int, bytes]:
    version, _flags, stream, opcode, length = HEADER.unpack(recv_exact(sock, HEADER.size))
    return version, stream, opcode, recv_exact(sock, length)


def ready_connection(host: str | None = None) -> socket.socket:
    sock = connect(host)
    sock.sendall(frame(STARTUP, startup_body()))
    assert read_frame(sock)[2] == READY
    return sock


def error_of(body: bytes) -> tuple[int, str]:
    code = struct.unpack(">i", body[:4])[0]
    (length,) = struct.unpack(">H", body[4:6])
    return code, body[6 : 6 + length].decode()


def assert_serving(host: str | None = None) -> None:
    sock = ready_connection(host)
    sock.sendall(frame(QUERY, query_body("SELECT cluster_name FROM system.local"), stream=9))
    _, stream, opcode, _ = read_frame(sock)
    assert (stream, opcode) == (9, RESULT)
    sock.close()


@pytest.fixture(autouse=True)
def node_address(simulator):
    global NODE
    NODE = str(simulator.inventory.node(NODE_NAME).sim_address)


def test_options_lists_cql_version_and_compression(sim):
    sock = connect()
    sock.sendall(frame(OPTIONS, stream=3))
    version, stream, opcode, body = read_frame(sock)
    assert (version, stream, opcode) == (0x84, 3, SUPPORTED)
    (count,) = struct.unpack(">H", body[:2])
    text = body.decode("latin-1")
    assert count >= 2 and "CQL_VERSION" in text and "COMPRESSION" in text


@pytest.mark.parametrize("version", [0x42, 0x41, 6, 2])
def test_unsupported_version_gets_the_downgrade_error(sim, version):
    sock = connect()
    sock.sendall(frame(OPTIONS, stream=7, version=version))
    _, stream, opcode, body = read_frame(sock)
    code, message = error_of(body)
    assert (stream, opcode, code) == (7, ERROR, 0x000A)
    assert f"unsupported protocol version ({version})" in message
    assert "(3/v3, 4/v4, 5/v5)" in message


def test_query_before_startup_is_a_protocol_error(sim):
    sock = connect()
    sock.sendall(frame(QUERY, query_body("SELECT * FROM system.local")))
    _, _, opcode, body = read_frame(sock)
    assert opcode == ERROR and error_of(body)[0] == 0x000A


def test_unknown_prepared_id_is_unprepared(sim):
    sock = ready_connection()
    unknown = b"\x01" * 16
    body = struct.pack(">H", 16) + unknown + struct.pack(">HB", 1, 0)
    sock.sendall(frame(EXECUTE, body, stream=4))
    _, stream, opcode, answer = read_frame(sock)
    assert (stream, opcode) == (4, ERROR)
    assert error_of(answer)[0] == 0x2500
    assert answer.endswith(struct.pack(">H", 16) + unknown)


def test_malformed_frame_closes_only_that_connection(sim):
    bystander = ready_connection()
    victim = ready_connection()
    # a QUERY whose [long string] claims more bytes than the body holds
    victim.sendall(frame(QUERY, struct.pack(">i", 1000) + b"SELECT"))
    _, _, opcode, body = read_frame(victim)
    assert opcode == ERROR and error_of(body)[0] == 0x000A
    assert victim.recv(100) == b""  # then closed
    bystander.sendall(frame(QUERY, query_body("SELECT key FROM system.local"), stream=2))
    assert read_frame(bystander)[2] == RESULT


def test_random_bytes_never_stop_the_simulator(sim):
    rng = random.Random(42)
    for _ in range(150):
        sock = connect(timeout=2)
        payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 400)))
        if rng.random() < 0.5:  # a valid header in front of random junk reaches the decoders
            payload = frame(rng.choice([1, 5, 7, 9, 10, 11, 13, 0x7F]), payload[:200]) + payload
        try:
            sock.sendall(payload)
            sock.settimeout(0.05)
            sock.recv(4096)
        except (TimeoutError, ConnectionError):
            pass
        finally:
            sock.close()
    assert_serving()


def test_thousands_of_connections(sim):
    socks = []
    try:
        for _ in range(2000):
            sock = socket.create_connection((NODE, PORT), timeout=10)
            sock.sendall(frame(OPTIONS))
            socks.append(sock)
        for sock in socks:
            assert read_frame(sock)[2] == SUPPORTED
    finally:
        for sock in socks:
            sock.close()
    assert_serving()


def test_power_cut_is_silent_and_power_on_resets(sim):
    established = ready_connection()
    sim.power("off", NODE_NAME)
    established.settimeout(1.0)
    established.sendall(frame(QUERY, query_body("SELECT key FROM system.local")))
    with pytest.raises(TimeoutError):  # no answer, and no FIN/RST either (recv would return)
        established.recv(100)
    fresh = connect(timeout=2.0)  # the kernel still completes the handshake...
    fresh.sendall(frame(OPTIONS))
    fresh.settimeout(1.0)
    with pytest.raises(TimeoutError):  # ...but nobody answers
        fresh.recv(100)
    sim.power("on", NODE_NAME)
    established.settimeout(5.0)
    with pytest.raises((ConnectionResetError, EOFError)):
        data = established.recv(100)
        if not data:
            raise EOFError
    assert_serving()


def test_crash_resets_connections_and_refuses_new_ones(sim):
    established = ready_connection()
    sim.power("off", NODE_NAME, crash=True)
    established.settimeout(5.0)
    started = time.monotonic()
    with pytest.raises((ConnectionResetError, EOFError)):
        data = established.recv(100)
        if not data:
            raise EOFError
    assert time.monotonic() - started < 2
    with pytest.raises(ConnectionRefusedError):
        connect(timeout=2.0)
    sim.power("on", NODE_NAME)
    assert_serving()


def test_a_cut_dc_link_separates_a_writer_from_the_other_dc(sim):
    writer = next(w for w in sim.inventory.writer_places() if w.local_dc == "DC1")
    remote = str(sim.inventory.node("rpidc2r1n1").sim_address)
    local = str(sim.inventory.node("rpidc1r1n1").sim_address)

    def from_writer(host: str) -> socket.socket:
        sock = socket.create_connection(
            (host, PORT), timeout=5, source_address=(str(writer.sim_address), 0)
        )
        sock.settimeout(5)
        return sock

    to_remote, to_local = from_writer(remote), from_writer(local)
    sim.power("off", "link:DC1-DC2")
    time.sleep(0.3)  # the servers re-check the links every 0.1 s
    to_remote.sendall(frame(OPTIONS, stream=5))
    to_local.sendall(frame(OPTIONS, stream=6))
    assert read_frame(to_local)[1:3] == (6, SUPPORTED)  # its own DC still answers
    to_remote.settimeout(1.0)
    with pytest.raises(TimeoutError):
        to_remote.recv(100)
    assert_serving(remote)  # a client that is no writer is not behind the cut link
    sim.power("on", "link:DC1-DC2")
    to_remote.settimeout(5.0)
    assert read_frame(to_remote)[1:3] == (5, SUPPORTED)  # delivered once the link heals


def test_v5_switches_to_crc_checked_segments_after_ready(sim):
    from rackpanel.simulator.protocol import segments

    sock = connect()
    sock.sendall(frame(STARTUP, startup_body(), version=5))
    assert read_frame(sock)[:3] == (0x85, 1, READY)  # READY itself is a plain frame
    text = b"SELECT key FROM system.local"
    body = struct.pack(">i", len(text)) + text + struct.pack(">Hi", 1, 0)  # v5 flags: [int]
    v5_query = frame(QUERY, body, stream=3, version=5)
    sock.sendall(segments.encode(v5_query))
    header = recv_exact(sock, 6)
    length = int.from_bytes(header[:3], "little") & segments.MAX_PAYLOAD
    payload = recv_exact(sock, length + 4)[:length]
    assert payload[0] == 0x85 and payload[4] == RESULT
    corrupt = bytearray(segments.encode(v5_query))
    corrupt[-1] ^= 0xFF  # a wrong payload CRC closes the connection
    sock.sendall(bytes(corrupt))
    with pytest.raises((EOFError, ConnectionResetError)):
        while True:
            recv_exact(sock, 1)
    assert_serving()

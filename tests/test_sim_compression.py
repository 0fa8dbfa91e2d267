"""Compression and protocol versions as Cassandra 5.0 offers them: SUPPORTED lists lz4 and
snappy and the versions 3/v3, 4/v4, 5/v5 (``OptionsMessage``/``StartupMessage``); frames are
compressed both ways once STARTUP asked for it (v3/v4 frame bodies, v5 lz4 segments); an
unknown algorithm or version gets Cassandra's ProtocolError."""

from __future__ import annotations

import socket
import struct
import uuid

import lz4.block
import pytest
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.policies import RoundRobinPolicy

from tests.support.sim import DEMO_REPLICATION
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
    string,
)


def address(sim) -> tuple[str, int]:
    return sim.contact_points()[0], sim.inventory.ports.cql


def string_multimap(body: bytes) -> dict[str, list[str]]:
    def take_string(pos: int) -> tuple[str, int]:
        (n,) = struct.unpack_from(">H", body, pos)
        return body[pos + 2 : pos + 2 + n].decode(), pos + 2 + n

    (count,) = struct.unpack_from(">H", body, 0)
    pos, out = 2, {}
    for _ in range(count):
        key, pos = take_string(pos)
        (items,) = struct.unpack_from(">H", body, pos)
        pos += 2
        values = []
        for _ in range(items):
            value, pos = take_string(pos)
            values.append(value)
        out[key] = values
    return out


def test_supported_offers_lz4_snappy_and_v3_to_v5(sim):
    with socket.create_connection(address(sim), timeout=10) as sock:
        sock.sendall(frame(OPTIONS))
        _, _, opcode, body = read_frame(sock)
    assert opcode == SUPPORTED
    options = string_multimap(body)
    assert options["COMPRESSION"] == ["lz4", "snappy"]
    assert options["PROTOCOL_VERSIONS"] == ["3/v3", "4/v4", "5/v5"]


@pytest.mark.parametrize(
    ("version", "compression"),
    [(3, "lz4"), (3, "snappy"), (4, "lz4"), (4, "snappy"), (5, "lz4"), (None, True)],
)
def test_the_driver_works_compressed_on_every_version(sim, version, compression):
    kwargs = {} if version is None else {"protocol_version": version}
    cluster = Cluster(
        [address(sim)[0]],
        port=address(sim)[1],
        compression=compression,
        execution_profiles={
            EXEC_PROFILE_DEFAULT: ExecutionProfile(load_balancing_policy=RoundRobinPolicy())
        },
        **kwargs,
    )
    try:
        session = cluster.connect()
        assert cluster.protocol_version == (version or 5)
        assert len(list(session.execute("SELECT * FROM system_schema.columns"))) > 100
        lookup = session.prepare("SELECT key FROM system.local WHERE key = ?")
        assert session.execute(lookup, ["local"]).one().key == "local"
        # a prepared INSERT of a new partition: the simulator's plain-write lane, compressed
        session.execute(
            f"CREATE KEYSPACE IF NOT EXISTS squeezed WITH replication = {DEMO_REPLICATION}"
        )
        session.execute("CREATE TABLE IF NOT EXISTS squeezed.kv (k text PRIMARY KEY, v text)")
        key = f"{version}-{compression}-{uuid.uuid4()}"
        session.execute(session.prepare("INSERT INTO squeezed.kv (k, v) VALUES (?, ?)"), [key, "x"])
        assert session.execute("SELECT v FROM squeezed.kv WHERE k = %s", [key]).one().v == "x"
    finally:
        cluster.shutdown()


def lz4_body(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + lz4.block.compress(data, store_size=False)


def test_v4_lz4_frames_are_compressed_both_ways(sim):
    with socket.create_connection(address(sim), timeout=10) as sock:
        options = struct.pack(">H", 2) + string("CQL_VERSION") + string("3.4.6")
        options += string("COMPRESSION") + string("lz4")
        sock.sendall(frame(STARTUP, options))
        assert read_frame(sock)[2] == READY  # READY itself is never compressed
        body = lz4_body(query_body("SELECT cluster_name FROM system.local"))
        sock.sendall(struct.pack(">BBhBi", 4, 0x01, 7, QUERY, len(body)) + body)
        header = sock.recv(9, socket.MSG_WAITALL)
        version, flags, stream, opcode, length = struct.unpack(">BBhBi", header)
        assert (version, flags & 0x01, stream, opcode) == (0x84, 0x01, 7, RESULT)
        packed = sock.recv(length, socket.MSG_WAITALL)
        plain = lz4.block.decompress(packed[4:], uncompressed_size=int.from_bytes(packed[:4]))
        assert b"BlaBlaRpi Cluster" in plain


@pytest.mark.parametrize(
    ("options", "version", "message"),
    [
        ({"COMPRESSION": "zstd"}, 4, "Unknown compression algorithm: zstd"),
        ({}, 2, "Invalid or unsupported protocol version (2); supported versions are "
                "(3/v3, 4/v4, 5/v5)"),
    ],
)  # fmt: skip
def test_unknown_compression_or_version_is_a_protocol_error(sim, options, version, message):
    body = struct.pack(">H", 1 + len(options)) + string("CQL_VERSION") + string("3.4.6")
    for key, value in options.items():
        body += string(key) + string(value)
    with socket.create_connection(address(sim), timeout=10) as sock:
        sock.sendall(frame(STARTUP, body, version=version))
        _, _, opcode, answer = read_frame(sock)
    assert opcode == ERROR
    assert error_of(answer) == (0x000A, message)

"""The 9-node simulator's write path against a do-nothing CQL echo server, on the same raw
client; then a long write run: worst-case latency and memory per stored key.

    .venv/bin/python -m benchmarks.sim_echo [--requests 60000] [--in-flight 32] [--bulk 240000]
                                            [--rounds 5]

1. Raw client: one TCP connection speaking native protocol v4 by hand (pre-encoded EXECUTE
   frames of a prepared ``INSERT INTO bench.kv (k, v) VALUES (?, ?)`` at LOCAL_QUORUM, a new
   key each, ``--in-flight`` outstanding). Against (a) the echo server (a separate process
   that answers OPTIONS/STARTUP and every other request with RESULT Void: framing only) and
   (b) one node of a running 9-node simulator, measured in the same run: requests/s and
   the server's CPU per request (/proc). ``--rounds`` pairs, echo then simulator, so that both
   meet the same spells of a noisy box; the ratio is the median pair's. Target (issue):
   simulator >= 0.35 of the echo server.
2. Bulk: ``--bulk`` distinct keys written through one cassandra-driver session (token-aware,
   LOCAL_QUORUM, 8 in flight): the worst round trip (target < 50 ms) and the simulator's RSS
   before and after, as MB per million distinct keys (target < 1 GB; six replicas each).

Results: benchmarks/results/sim_echo.json; docs/benchmarks.md (## Simulator at scale).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import selectors
import socket
import struct
import subprocess
import sys
import tempfile
import time
from array import array
from pathlib import Path

from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy

from benchmarks.exporter_bench import proc_figures
from benchmarks.harness import machine, write_results
from benchmarks.sim_writes import run_writes
from tests.support.inventories import shifted_inventory
from tests.support.lab import loopback_octet
from tests.support.sim import create_keyspace, running_simulator

REPO = Path(__file__).resolve().parent.parent

RESULTS = REPO / "benchmarks" / "results" / "sim_echo.json"
HEADER = struct.Struct(">BBhBi")
LOCAL_QUORUM = 0x0006
OPCODES = {"ERROR": 0x00, "STARTUP": 0x01, "READY": 0x02, "OPTIONS": 0x05, "SUPPORTED": 0x06}
OPCODES |= {"RESULT": 0x08, "PREPARE": 0x09, "EXECUTE": 0x0A}


def frame(stream: int, opcode: int, body: bytes, response: bool = False) -> bytes:
    return HEADER.pack(0x84 if response else 0x04, 0, stream, opcode, len(body)) + body


def string(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">H", len(data)) + data


def startup_body() -> bytes:
    return struct.pack(">H", 1) + string("CQL_VERSION") + string("3.0.0")


def execute_body(statement_id: bytes, key: bytes, value: int) -> bytes:
    values = struct.pack(">i", len(key)) + key + struct.pack(">ii", 4, value)
    return (
        struct.pack(">H", len(statement_id))
        + statement_id
        + struct.pack(">HBH", LOCAL_QUORUM, 0x01, 2)
        + values
    )


def answered_streams(data: bytes) -> tuple[list[int], bytes]:
    """The stream ids of the whole response frames at the start of ``data``, and the rest;
    an ERROR frame raises."""
    streams = []
    offset = 0
    while len(data) - offset >= HEADER.size:
        _, _, stream, opcode, length = HEADER.unpack_from(data, offset)
        if len(data) - offset < HEADER.size + length:
            break
        if opcode == OPCODES["ERROR"]:
            raise RuntimeError(f"server error: {data[offset + 15 : offset + 200]!r}")
        streams.append(stream)
        offset += HEADER.size + length
    return streams, data[offset:]


class RawClient:
    """A blocking socket speaking just enough protocol v4 to pipeline EXECUTE frames."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.request(OPCODES["STARTUP"], startup_body())

    def _read_frame(self) -> tuple[int, int, bytes]:
        while True:
            if len(self.buffer) >= HEADER.size:
                _, _, stream, opcode, length = HEADER.unpack_from(self.buffer)
                end = HEADER.size + length
                if len(self.buffer) >= end:
                    body = self.buffer[HEADER.size : end]
                    self.buffer = self.buffer[end:]
                    return stream, opcode, body
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buffer += chunk

    def request(self, opcode: int, body: bytes) -> tuple[int, bytes]:
        self.sock.sendall(frame(0, opcode, body))
        _, answer, data = self._read_frame()
        if answer == OPCODES["ERROR"]:
            raise RuntimeError(f"server error: {data[6:]!r}")
        return answer, data

    def prepare(self, query: str) -> bytes:
        _, body = self.request(OPCODES["PREPARE"], struct.pack(">i", len(query)) + query.encode())
        (length,) = struct.unpack_from(">H", body, 4)
        return body[6 : 6 + length]

    def pipeline(self, statement_id: bytes, count: int, in_flight: int, prefix: str) -> float:
        """``count`` EXECUTEs with ``in_flight`` outstanding; seconds taken."""
        bodies = [
            frame(
                i % in_flight,
                OPCODES["EXECUTE"],
                execute_body(statement_id, f"{prefix}{i}".encode(), i),
            )
            for i in range(count)
        ]
        started = time.perf_counter()
        sent = min(in_flight, count)
        self.sock.sendall(b"".join(bodies[:sent]))
        done = 0
        data = b""
        while done < count:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("server closed the connection")
            streams, data = answered_streams(data + chunk)
            finished = len(streams)
            done += finished
            more = min(finished, count - sent)
            if more:
                self.sock.sendall(b"".join(bodies[sent : sent + more]))
                sent += more
        return time.perf_counter() - started


def paced(hosts: list[str], statement_id: bytes, rate: float, seconds: float, tag: str) -> dict:
    """Open loop: EXECUTEs at ``rate`` a second spread over one raw connection to each of
    ``hosts``, each timed from when it was due (not when it left), so a simulator that
    falls behind shows it in the latencies instead of slowing the client down.
    Requests/s achieved, median / p99 / worst, and how many were still unanswered."""
    clients = [RawClient(host, 9042) for host in hosts]
    selector = selectors.DefaultSelector()
    for index, client in enumerate(clients):
        selector.register(client.sock, selectors.EVENT_READ, index)
    pending: list[dict[int, float]] = [{} for _ in clients]
    buffers = [b""] * len(clients)
    latencies = array("d")
    count = int(rate * seconds)
    gc.collect()
    gc.disable()  # the client's own collections would show as the simulator's latencies
    started = time.perf_counter()
    sent = 0
    while sent < count or any(pending):
        now = time.perf_counter()
        if now - started > seconds + 10:
            break  # whatever is still pending now is reported as unanswered
        due = min(count, int((now - started) * rate) + 1)
        while sent < due:
            index = sent % len(clients)
            stream = (sent // len(clients)) % 32768
            body = execute_body(statement_id, f"{tag}{sent}".encode(), sent)
            clients[index].sock.sendall(frame(stream, OPCODES["EXECUTE"], body))
            pending[index][stream] = started + sent / rate
            sent += 1
        wait = started + sent / rate - time.perf_counter() if sent < count else 0.05
        for key, _ in selector.select(timeout=max(0.0, wait)):
            index = key.data
            chunk = clients[index].sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("server closed the connection")
            arrived = time.perf_counter()
            streams, buffers[index] = answered_streams(buffers[index] + chunk)
            for stream in streams:
                latencies.append(arrived - pending[index].pop(stream))
    wall = time.perf_counter() - started
    gc.enable()
    for client in clients:
        client.sock.close()
    ordered = sorted(latencies)
    return {
        "connections": len(clients),
        "offered_per_s": rate,
        "answered_per_s": round(len(latencies) / wall),
        "unanswered": sum(len(p) for p in pending),
        "median_ms": round(ordered[len(ordered) // 2] * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
        "over_5ms": sum(1 for latency in ordered if latency > 0.005),
    }


# ---- the echo server ---------------------------------------------------------------------------

SUPPORTED = struct.pack(">H", 2) + string("CQL_VERSION") + struct.pack(">H", 1) + string("3.0.0")
SUPPORTED += string("COMPRESSION") + struct.pack(">H", 0)
VOID = struct.pack(">i", 0x0001)


class Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.data = b""

    def data_received(self, data: bytes) -> None:
        self.data += data
        out = []
        offset = 0
        while len(self.data) - offset >= HEADER.size:
            _, _, stream, opcode, length = HEADER.unpack_from(self.data, offset)
            if len(self.data) - offset < HEADER.size + length:
                break
            offset += HEADER.size + length
            if opcode == OPCODES["OPTIONS"]:
                out.append(frame(stream, OPCODES["SUPPORTED"], SUPPORTED, True))
            elif opcode == OPCODES["STARTUP"]:
                out.append(frame(stream, OPCODES["READY"], b"", True))
            else:
                out.append(frame(stream, OPCODES["RESULT"], VOID, True))
        self.data = self.data[offset:]
        self.transport.write(b"".join(out))


async def serve_echo(host: str, port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Echo, host, port)
    async with server:
        await server.serve_forever()


# ---- the runs ---------------------------------------------------------------------------------


def raw_rate(host: str, pid: int, statement_id: bytes, count: int, in_flight: int, tag: str):
    client = RawClient(host, 9042)
    client.pipeline(statement_id, 2000, in_flight, f"warm-{tag}-")
    cpu0 = proc_figures(pid)[0]
    seconds = client.pipeline(statement_id, count, in_flight, f"{tag}-")
    cpu = proc_figures(pid)[0] - cpu0
    client.sock.close()
    return {
        "requests_per_s": round(count / seconds),
        "server_cpu_us_per_request": round(cpu / count * 1e6, 1),
    }


def bulk(sim, count: int) -> dict:
    profile = ExecutionProfile(
        load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy("DC1")),
        consistency_level=ConsistencyLevel.LOCAL_QUORUM,
        request_timeout=10,
    )
    cluster = Cluster(
        sim.contact_points("DC1"),
        protocol_version=4,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
    )
    session = cluster.connect()
    try:
        insert = session.prepare("INSERT INTO bench.kv (k, v) VALUES (?, ?)")
        run_writes(session, insert, 2000, 8, offset=10**9)
        gc.collect()
        gc.freeze()  # as the simulator does: the client's own full collections of its start-up
        # objects (driver, metadata: 30-80 ms each here) are not the simulator's round trips
        before = proc_figures(sim.process.pid)[1]
        result = run_writes(session, insert, count, 8, offset=2 * 10**9)
        after = proc_figures(sim.process.pid)[1]
    finally:
        cluster.shutdown()
    per_million = (after - before) / count * 1e6 / 1024 / 1024
    return {
        **result,
        "rss_before_mb": round(before / 1024 / 1024, 1),
        "rss_after_mb": round(after / 1024 / 1024, 1),
        "rss_mb_per_million_keys": round(per_million, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60000)
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument("--bulk", type=int, default=240000)
    parser.add_argument(
        "--rounds", type=int, default=5, help="echo/simulator pairs, alternated; the median counts"
    )
    args = parser.parse_args()
    octet = loopback_octet()
    echo_host = f"127.{octet}.0.7"
    echo = (
        subprocess.Popen(
            [sys.executable, "-m", "benchmarks.sim_echo", "--serve-echo", echo_host], cwd=REPO
        )
        if "--serve-echo" not in sys.argv
        else None
    )
    result: dict = {
        "benchmark": "sim_echo",
        "machine": machine(load_average_before=os.getloadavg()[0]),
        "setup": {
            "requests": args.requests,
            "in_flight": args.in_flight,
            "bulk": args.bulk,
            "rounds": args.rounds,
        },
    }
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = shifted_inventory(Path(tmp), octet)
            # every key written stays stored: the bulk's memory per key counts no eviction
            written = args.rounds * (args.requests + 2000) + args.bulk + 2000
            keep = ["--max-partitions", str(max(500_000, written + 10_000))]
            with running_simulator(path, admin=f"127.{octet}.0.1:9499", extra_args=keep) as sim:
                cluster = Cluster(sim.contact_points("DC1"), protocol_version=4)
                session = cluster.connect()
                create_keyspace(session, "bench", "kv (k text PRIMARY KEY, v int)")
                cluster.shutdown()
                node = sim.contact_points("DC1")[0]
                statement_id = RawClient(node, 9042).prepare(
                    "INSERT INTO bench.kv (k, v) VALUES (?, ?)"
                )
                time.sleep(0.5)
                rounds = []
                for i in range(args.rounds):  # alternated: both see the same spells of the box
                    echoed = raw_rate(
                        echo_host, echo.pid, b"echo", args.requests, args.in_flight, f"e{i}"
                    )
                    simulated = raw_rate(
                        node, sim.process.pid, statement_id, args.requests, args.in_flight, f"s{i}"
                    )
                    ratio = round(simulated["requests_per_s"] / echoed["requests_per_s"], 3)
                    rounds.append({"echo": echoed, "simulator": simulated, "ratio": ratio})
                result["rounds"] = rounds
                middle = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
                result["echo"], result["simulator"] = middle["echo"], middle["simulator"]
                result["ratio"] = middle["ratio"]  # the median round's
                result["bulk"] = bulk(sim, args.bulk)
    finally:
        echo.terminate()
        echo.wait(10)
    result["targets"] = {"ratio": 0.35, "bulk_max_ms": 50.0, "rss_mb_per_million_keys": 1024}
    result["machine"]["load_average_after"] = os.getloadavg()[0]
    write_results(RESULTS, result)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-echo":
        asyncio.run(serve_echo(sys.argv[2], 9042))
        sys.exit(0)
    sys.exit(main())

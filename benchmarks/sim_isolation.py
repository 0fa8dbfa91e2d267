"""Simulator isolation benchmark: one huge request on one node must not stall the others.

Starts its own 9-node simulator (shifted inventory in a free loopback range, fast failure
detector) as a real process, connects one cassandra-driver session to the whole cluster (to
see whether it marks any host down), then, on node A, sends one QUERY whose IN list of
integers is about 800 KB of text (issue 14's measurement) over a raw socket, while a second
raw socket sends OPTIONS to node B every 10 ms and times each round trip. The same is done
for a 10 MB statement (a SELECT list of ~2.5 M columns).
Target (issue 14): OPTIONS p99 on the other node < 50 ms, no host marked down.

    .venv/bin/python -m benchmarks.sim_isolation
Writes benchmarks/results/sim_isolation.json.
"""

from __future__ import annotations

import json
import platform
import socket
import struct
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from cassandra.cluster import Cluster
from cassandra.policies import RoundRobinPolicy

from benchmarks.harness import write_results
from tests.support.inventories import shifted_inventory
from tests.support.lab import loopback_octet
from tests.support.sim import create_keyspace, running_simulator
from tests.test_sim_protocol import read_frame as read_raw_frame

REPO = Path(__file__).resolve().parent.parent

OCTET = loopback_octet()
ADMIN = f"127.{OCTET}.0.1:9499"
RESULTS = REPO / "benchmarks" / "results"
TARGET_P99_MS = 50.0
HEADER = struct.Struct(">BBhBi")
OPTIONS, STARTUP, QUERY = 0x05, 0x01, 0x07


def frame(opcode: int, body: bytes = b"", stream: int = 0) -> bytes:
    return HEADER.pack(4, 0, stream, opcode, len(body)) + body


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    _, _, opcode, body = read_raw_frame(sock)
    return opcode, body


def ready(address: str, port: int) -> socket.socket:
    sock = socket.create_connection((address, port), timeout=300)
    options = {"CQL_VERSION": "3.0.0"}
    body = struct.pack(">H", len(options))
    for k, v in options.items():
        body += struct.pack(">H", len(k)) + k.encode() + struct.pack(">H", len(v)) + v.encode()
    sock.sendall(frame(STARTUP, body))
    read_frame(sock)
    return sock


def query_body(text: str) -> bytes:
    raw = text.encode()
    return struct.pack(">i", len(raw)) + raw + struct.pack(">HB", 1, 0)


def in_list_query(target_bytes: int) -> str:
    values, size, i = [], 0, 0
    while size < target_bytes:
        values.append(str(i))
        size += len(values[-1]) + 1
        i += 1
    return f"SELECT * FROM bench.kv WHERE k IN ({','.join(values)})"


def wide_select(target_bytes: int) -> str:
    count = target_bytes // 2  # "v," per column
    return "SELECT " + ",".join(["v"] * count) + " FROM bench.kv WHERE k = 1"


class Pinger(threading.Thread):
    """OPTIONS round trips to one node every 10 ms until stopped."""

    def __init__(self, address: str, port: int) -> None:
        super().__init__(daemon=True)
        self.sock = ready(address, port)
        self.rtts: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        self.error = ""
        while not self.stop.is_set():
            began = time.perf_counter()
            try:
                self.sock.sendall(frame(OPTIONS))
                read_frame(self.sock)
            except OSError as exc:
                self.error = repr(exc)
                return
            self.rtts.append((time.perf_counter() - began) * 1000)
            time.sleep(0.01)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(name: str, text: str, node_a: str, node_b: str, port: int, cluster) -> dict:
    pinger = Pinger(node_b, port)
    pinger.start()
    time.sleep(0.5)
    sock = ready(node_a, port)
    began = time.perf_counter()
    sock.sendall(frame(QUERY, query_body(text)))
    opcode, body = read_frame(sock)
    took = time.perf_counter() - began
    time.sleep(0.5)
    pinger.stop.set()
    pinger.join()
    sock.close()
    down = [str(h.endpoint) for h in cluster.metadata.all_hosts() if h.is_up is False]
    answer = "RESULT" if opcode == 0x08 else f"ERROR {body[6 : 6 + 200]!r}"
    result = {
        "request": name,
        "request_bytes": len(text),
        "answer": answer,
        "request_seconds": round(took, 2),
        "options_round_trips": len(pinger.rtts),
        "options_p50_ms": round(percentile(pinger.rtts, 0.5), 2),
        "options_p99_ms": round(percentile(pinger.rtts, 0.99), 2),
        "options_max_ms": round(max(pinger.rtts), 2),
        "hosts_marked_down": down,
        "options_error": pinger.error,
    }
    print(json.dumps(result), flush=True)
    return result


def main() -> int:
    path = shifted_inventory(Path(tempfile.mkdtemp(prefix="rackpanel-iso-")), OCTET)
    with running_simulator(path, admin=ADMIN) as sim:
        points = sim.contact_points()
        port = sim.inventory.ports.cql
        # every host in the local DC of the driver's policy, so it watches all nine
        cluster = Cluster(
            points, port=port, protocol_version=4, load_balancing_policy=RoundRobinPolicy()
        )
        session = cluster.connect()
        create_keyspace(session, "bench", "kv (k int PRIMARY KEY, v int)")
        for i in range(100):
            session.execute("INSERT INTO bench.kv (k, v) VALUES (%s, %s)", (i, i))
        runs = [
            measure("IN list, 800 KB", in_list_query(800 * 1024), points[0], points[4], port,
                    cluster),
            measure("SELECT list, 10 MB", wide_select(10 * 1024 * 1024), points[0], points[4],
                    port, cluster),
        ]  # fmt: skip
        cluster.shutdown()
    met = all(r["options_p99_ms"] < TARGET_P99_MS and not r["hosts_marked_down"] for r in runs)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "target_p99_ms": TARGET_P99_MS,
        "runs": runs,
        "met": met,
    }
    write_results(RESULTS / "sim_isolation.json", result)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

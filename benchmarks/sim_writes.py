"""Simulator benchmark: prepared INSERTs per second the 9-node simulator sustains at
LOCAL_QUORUM from one async cassandra-driver client, and the round-trip median / p99.

Starts its own simulator (shifted inventory, addresses 127.57.x.y, fast failure detector) as
a real process, connects one driver client (protocol v4 by default, ``--protocol 5`` for
checksummed v5 segments; token-aware, DC-aware on DC1, libev reactor) and runs:
- sustained phases: ``--writes`` prepared INSERTs with at most N requests outstanding
  (execute_async + callbacks) for each N of ``--in-flight`` (a sweep, the levels
  interleaved over ``--rounds`` rounds to cancel drift), each request's round trip measured
  from submit to callback; the headline is ``--headline`` requests in flight;
- an unloaded phase: one request at a time, for the bare round trip.
Targets (issue): >= 3,000 writes/s and p99 < 5 ms on a 2-core machine.

    .venv/bin/python -m benchmarks.sim_writes [--writes 20000] [--in-flight 4,8,16,32]
Writes benchmarks/results/sim_writes.json (v4) or sim_writes_v5.json (v5).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from array import array
from collections.abc import Sequence
from pathlib import Path

from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy

from benchmarks.harness import machine, write_results
from tests.support.inventories import shifted_inventory
from tests.support.lab import loopback_octet
from tests.support.sim import create_keyspace, running_simulator

REPO = Path(__file__).resolve().parent.parent

OCTET = loopback_octet()  # a loopback range of its own (tests/support/lab.py)
ADMIN = f"127.{OCTET}.0.1:9499"
RESULTS = REPO / "benchmarks" / "results"
TARGET_WRITES_PER_S = 3000
TARGET_P99_MS = 5.0


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Tally:
    """The writes of one run as their callbacks settle them: round trips (seconds; the caller's
    ``latencies`` when given), failures, and an event set once all ``count`` are settled."""

    def __init__(self, count: int, latencies: array | None = None) -> None:
        # not a list of floats: the client's full collections would visit each
        self.latencies = array("d") if latencies is None else latencies
        self.failures: list[str] = []
        self.remaining = count
        self.finished = threading.Event()
        self.lock = threading.Lock()
        self.began = time.perf_counter()

    def settle(self, started: float, error: BaseException | None = None) -> bool:
        """Record one write; whether writes remain outstanding or unsent."""
        elapsed = time.perf_counter() - started
        with self.lock:
            if error is None:
                self.latencies.append(elapsed)
            else:
                self.failures.append(repr(error))
            self.remaining -= 1
            if self.remaining == 0:
                self.finished.set()
            return self.remaining > 0

    def figures(self) -> dict:
        self.finished.wait()
        wall, count = time.perf_counter() - self.began, len(self.latencies) + len(self.failures)
        return {
            "writes": count,
            "failures": len(self.failures),
            "first_failure": self.failures[0] if self.failures else None,
            "seconds": round(wall, 3),
            "writes_per_s": round(len(self.latencies) / wall, 1),
            "median_ms": round(statistics.median(self.latencies) * 1000, 3),
            "p99_ms": round(percentile(self.latencies, 0.99) * 1000, 3),
            "max_ms": round(max(self.latencies) * 1000, 3),
        }


def send(session, insert, offset: int, i: int, done) -> None:
    """The ``i``-th INSERT of a run (key ``key-<offset + i>``, value ``i``), async:
    ``done(started)`` on success and ``done(started, error)`` on failure, ``started`` its
    submit time."""
    started = time.perf_counter()
    future = session.execute_async(insert, (f"key-{offset + i}", i))
    future.add_callbacks(lambda _rows: done(started), lambda exc: done(started, exc))


def run_writes(
    session, insert, count: int, in_flight: int, offset: int, latencies: array | None = None
) -> dict:
    """``count`` async INSERTs submitted from this (the application's) thread, at most
    ``in_flight`` outstanding; rate and round trips (each round trip, in seconds, is also left
    in ``latencies`` when one is given)."""
    slots = threading.Semaphore(in_flight)
    tally = Tally(count, latencies)

    def done(started: float, error: BaseException | None = None) -> None:
        tally.settle(started, error)
        slots.release()

    for i in range(count):
        slots.acquire()
        send(session, insert, offset, i, done)
    return tally.figures()


def chained_writes(
    session, insert, count: int, chains: int, offset: int, latencies: array | None = None
) -> dict:
    """``count`` async INSERTs as ``chains`` callback chains: each write's callback submits the
    next, so ``chains`` are in flight and every submit after the first runs on the driver's
    event loop thread. The driver documents this as its fastest pattern ("Callback Chaining",
    docs/performance.rst of datastax/python-driver): no hand-over between the application's
    thread and the loop's for each write. Same figures as :func:`run_writes`."""
    tally = Tally(count, latencies)
    numbers = iter(range(count))  # next() on a range iterator is atomic under the GIL

    def submit() -> None:
        i = next(numbers, None)
        if i is None:
            return
        send(session, insert, offset, i, done)

    def done(started: float, error: BaseException | None = None) -> None:
        if tally.settle(started, error):
            submit()

    for _ in range(min(chains, count)):
        submit()
    return tally.figures()


def summarise(level_runs: list[dict]) -> dict:
    """Median over the rounds of one in-flight level."""
    return {
        key: round(statistics.median(r[key] for r in level_runs), 3)
        for key in ("writes_per_s", "median_ms", "p99_ms")
    } | {"failures": sum(r["failures"] for r in level_runs)}


def run_sequential(session, insert, count: int, offset: int) -> dict:
    latencies = []
    for i in range(count):
        started = time.perf_counter()
        session.execute(insert, (f"seq-{offset + i}", i))
        latencies.append(time.perf_counter() - started)
    return {
        "writes": count,
        "median_ms": round(statistics.median(latencies) * 1000, 3),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=20000)
    parser.add_argument("--in-flight", default="4,8,16,32", help="comma-separated levels")
    parser.add_argument("--headline", type=int, default=8, help="in-flight level summarised")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sequential", type=int, default=2000)
    parser.add_argument("--protocol", type=int, choices=[4, 5], default=4)
    args = parser.parse_args()

    load_average = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        path = shifted_inventory(Path(tmp), OCTET)
        with running_simulator(path, admin=ADMIN) as sim:
            profile = ExecutionProfile(
                load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy("DC1")),
                consistency_level=ConsistencyLevel.LOCAL_QUORUM,
                request_timeout=10,
            )
            cluster = Cluster(
                sim.contact_points("DC1"),
                protocol_version=args.protocol,
                execution_profiles={EXEC_PROFILE_DEFAULT: profile},
            )
            session = cluster.connect()
            create_keyspace(session, "bench", "kv (k text PRIMARY KEY, v int)")
            insert = session.prepare("INSERT INTO bench.kv (k, v) VALUES (?, ?)")
            levels = [int(level) for level in args.in_flight.split(",")]
            if args.headline not in levels:
                levels.append(args.headline)
            run_writes(session, insert, 3000, args.headline, offset=10**8)  # warm-up
            runs: dict[int, list[dict]] = {level: [] for level in levels}
            offset = 0
            for _ in range(args.rounds):
                for level in levels:
                    runs[level].append(run_writes(session, insert, args.writes, level, offset))
                    offset += args.writes
            sequential = run_sequential(session, insert, args.sequential, offset=0)
            cluster.shutdown()
    load_average.append(os.getloadavg()[0])

    sweep = {level: summarise(level_runs) for level, level_runs in runs.items()}
    summary = {"in_flight": args.headline, **sweep[args.headline]}
    result = {
        "benchmark": "sim_writes",
        "machine": machine(),
        "setup": {
            "nodes": 9,
            "replication": {"DC1": 3, "DC2": 3},
            "consistency": "LOCAL_QUORUM",
            "client": "one cassandra-driver 3.30.1 session, libev, token-aware DC1",
            "protocol_version": args.protocol,
            "in_flight_levels": levels,
            "headline_in_flight": args.headline,
            "writes_per_run": args.writes,
            "rounds": args.rounds,
            "load_average_before_after": load_average,
        },
        "targets": {"writes_per_s": TARGET_WRITES_PER_S, "p99_ms": TARGET_P99_MS},
        "summary": summary,
        "met": {
            "writes_per_s": summary["writes_per_s"] >= TARGET_WRITES_PER_S,
            "p99_ms": summary["p99_ms"] < TARGET_P99_MS,
        },
        "sweep": {str(level): s for level, s in sweep.items()},
        "runs": {str(level): level_runs for level, level_runs in runs.items()},
        "sequential": sequential,
    }
    result_file = RESULTS / ("sim_writes.json" if args.protocol == 4 else "sim_writes_v5.json")
    write_results(result_file, result)
    print(json.dumps({"sweep": result["sweep"], "sequential": sequential, "met": result["met"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The cluster model's own costs, without the network: coordinator writes and reads at
LOCAL_QUORUM on the 9-node demo cluster (RF DC1:3, DC2:3), and the failure detector's
conviction delay with the fast and realistic settings at 1 s gossip (real clock).

Run: ``.venv/bin/python benchmarks/sim_cluster.py`` → ``benchmarks/results/sim_cluster.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

from rackpanel.simulator.cluster import SimCluster
from rackpanel.simulator.core import Cell, Mutation
from rackpanel.simulator.core import ConsistencyLevel as CL
from rackpanel.topology import load_inventory

from benchmarks.harness import write_results

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "sim_cluster.json"
REPLICATION = {"class": "NetworkTopologyStrategy", "DC1": "3", "DC2": "3"}


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def coordinator_costs(operations: int) -> dict[str, dict[str, float]]:
    cluster = SimCluster.from_inventory(load_inventory(REPO / "inventory.yml"))
    coordinator = cluster.node("rpidc1r1n1")
    keys = [f"user-{i}".encode() for i in range(operations)]
    results = {}

    async def write(i: int) -> None:
        cell = {"v": Cell(b"payload-of-some-bytes", i + 1)}
        mutation = Mutation("bench", "t", keys[i], (), cell, row_marker=i + 1)
        await cluster.write(coordinator, REPLICATION, [mutation], CL.LOCAL_QUORUM)

    async def read(i: int) -> None:
        await cluster.read(coordinator, REPLICATION, "bench", "t", keys[i], CL.LOCAL_QUORUM)

    for name, op in (("write_local_quorum", write), ("read_local_quorum", read)):
        samples = []
        started = time.perf_counter()
        for i in range(operations):
            t0 = time.perf_counter()
            await op(i)
            samples.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
        results[name] = {
            "operations": operations,
            "per_second": round(operations / elapsed),
            "median_us": round(statistics.median(samples) * 1e6, 1),
            "p99_us": round(percentile(samples, 99) * 1e6, 1),
        }
    return results


async def conviction_delay(detector: str) -> dict[str, float]:
    """Seconds from a power cut until every live peer has convicted the node."""
    inv = load_inventory(REPO / "inventory.yml")
    cluster = SimCluster.from_inventory(inv, failure_detector=detector)
    await cluster.start()
    try:
        await asyncio.sleep(5 * cluster.gossip_interval)  # let the arrival windows fill
        victim = cluster.node("rpidc1r2n1")
        peers = [n for n in cluster.nodes if n is not victim]
        cluster.power_off(victim.name)
        cut = time.monotonic()
        first = None
        while any(cluster.is_alive(p, victim) for p in peers):
            if first is None and not all(cluster.is_alive(p, victim) for p in peers):
                first = time.monotonic() - cut
            await asyncio.sleep(0.05)
        last = time.monotonic() - cut
        return {
            "phi_convict_threshold": cluster.phi_convict_threshold,
            "gossip_interval_seconds": cluster.gossip_interval,
            "expected_seconds": round(cluster.convict_delay(), 2),
            "first_peer_seconds": round(first if first is not None else last, 2),
            "all_peers_seconds": round(last, 2),
        }
    finally:
        await cluster.stop()


async def main(operations: int) -> dict[str, object]:
    costs = await coordinator_costs(operations)
    fast, realistic = await asyncio.gather(conviction_delay("fast"), conviction_delay("realistic"))
    return {"coordinator": costs, "conviction": {"fast": fast, "realistic": realistic}}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=20000)
    args = parser.parse_args()
    results = asyncio.run(main(args.operations))
    write_results(RESULTS, results)
    print(json.dumps(results, indent=2))

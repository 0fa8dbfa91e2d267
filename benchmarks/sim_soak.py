"""The demo left running: the memory of the simulator, a writer and an exporter over a long
window at a steady write rate, with racks cut and restored on a cycle, past the storage bound.

    .venv/bin/python -m benchmarks.sim_soak [--minutes 12] [--rate 1000] [--max-partitions 100000]
                                            [--cycle 60] [--cut 20]

A real ``rackpanel sim`` (shifted demo inventory, fast failure detector) stores at most
``--max-partitions`` partitions (the oldest written are dropped from every replica); a real
``rackpanel writer --rate`` writes a new partition each request at LOCAL_QUORUM, so the bound is
reached after ``max-partitions / rate`` seconds and eviction runs from then on. Every
``--cycle`` seconds one rack of DC1 (RAC1, RAC2, RAC3 in turn) is powered off for ``--cut``
seconds: hints are written for its nodes and replayed when they return, as in a demo. One
``rackpanel exporter`` (1 s, Jolokia) watches a DC2 node throughout. Sampled every 10 s: RSS
and CPU of the three processes, whether the exporter's last collection reached its node
(``cassandra_up``), the writer's successes and failures. Reported: the
RSS at the start, halfway and at the end, and the least-squares slope of each process's RSS over
the second half of the window (past the bound and the high water of the first cuts' hints), in
MB per hour; a demo that can run for days needs those slopes near 0.

Results: benchmarks/results/sim_soak.json; docs/benchmarks.md (## Simulator at scale).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rackpanel.lcd_writer.client import WriterClient

from benchmarks.exporter_bench import proc_figures
from benchmarks.harness import machine, write_results
from benchmarks.sim_scale import exporter_for, page
from benchmarks.writer_throughput import WRITER_HTTP, start_writer, wait_for_successes
from tests.support.contract import parse_page
from tests.support.inventories import shifted_inventory
from tests.support.lab import loopback_octet
from tests.support.processes import stop_process
from tests.support.sim import running_simulator

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "sim_soak.json"
RACKS = ["DC1/RAC1", "DC1/RAC2", "DC1/RAC3"]
SAMPLE_S = 10.0
WRITER_PORT = 9631


def exporter_up(url: str) -> float | None:
    """The exporter's ``cassandra_up`` (1 when its last collection reached the node)."""
    text = page(url)
    return parse_page(text)[1].get("cassandra_up", {}).get((), None) if text else None


def sample(pids: dict[str, int], client: WriterClient, exporter_url: str, began: float) -> dict:
    """RSS (MB) and CPU (s) of each process of ``pids`` (name -> pid), whether the exporter
    reaches its node, and the writer's successes and failures so far."""
    figures: dict = {
        "t": round(time.monotonic() - began, 1),
        "exporter_up": exporter_up(exporter_url),
    }
    for name, pid in pids.items():
        cpu, rss, _ = proc_figures(pid)
        figures |= {f"{name}_rss_mb": round(rss / 2**20, 1), f"{name}_cpu_s": round(cpu, 2)}
    outcomes: dict[str, float] = {}
    for labels, value in client.samples("lcd_writer_requests_total"):  # per CL and outcome
        outcome = labels.get("outcome", "")
        outcomes[outcome] = outcomes.get(outcome, 0.0) + value
    successes = outcomes.pop("success", 0.0)
    return figures | {"successes": successes, "failures": sum(outcomes.values())}


def slope_mb_per_hour(samples: list[dict], key: str) -> float:
    """Least-squares slope of ``key`` (MB) against time, per hour."""
    if len(samples) < 3:
        return float("nan")
    t = np.array([s["t"] for s in samples])
    y = np.array([s[key] for s in samples])
    return round(float(np.polyfit(t, y, 1)[0]) * 3600, 1)


def soak(minutes: float, rate: float, max_partitions: int, cycle: float, cut: float) -> dict:
    octet = loopback_octet()
    samples: list[dict] = []
    cuts: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        inventory = shifted_inventory(Path(tmp), octet)
        keep = ["--max-partitions", str(max_partitions)]
        with running_simulator(inventory, admin=f"127.{octet}.0.1:9499", extra_args=keep) as sim:
            contacts = sim.contact_points("DC1")
            writer = start_writer(contacts, WRITER_PORT, "--rate", str(rate))
            client = WriterClient(f"http://{WRITER_HTTP}:{WRITER_PORT}")
            listen = f"127.{octet}.0.3:9500"
            exporter = exporter_for(sim, sim.contact_points("DC2")[0], listen)
            url = f"http://{listen}/metrics"
            pids = {"sim": sim.process.pid, "writer": writer.pid, "exporter": exporter.pid}
            try:
                wait_for_successes(client, writer, 60)
                began = time.monotonic()
                end = began + minutes * 60
                next_sample, next_cut, rack, back_at = began, began + cycle, 0, None
                while (now := time.monotonic()) < end:
                    if writer.poll() is not None or exporter.poll() is not None:
                        codes = f"writer {writer.poll()}, exporter {exporter.poll()}"
                        raise RuntimeError(f"a process exited ({codes})")
                    if now >= next_sample:
                        samples.append(sample(pids, client, url, began))
                        next_sample += SAMPLE_S
                    target = RACKS[rack % len(RACKS)]
                    if back_at is None and now >= next_cut and now + cut < end:
                        sim.power("off", target)
                        back_at = now + cut
                        cuts.append({"rack": target, "off_at_s": round(now - began, 1)})
                    elif back_at is not None and now >= back_at:
                        sim.power("on", target)
                        cuts[-1]["on_at_s"] = round(now - began, 1)
                        rack, next_cut, back_at = rack + 1, next_cut + cycle, None
                    due = min(next_sample, back_at or next_cut, end)
                    time.sleep(max(0.05, due - time.monotonic()))
                samples.append(sample(pids, client, url, began))
            finally:
                stop_process(writer)
                stop_process(exporter)
    return summarise(samples, cuts, rate, max_partitions)


def rss(samples: list[dict], steady: list[dict], key: str) -> dict:
    """First, last and highest RSS, and the slope over ``steady`` (the second half)."""
    return {
        "first": samples[0][key],
        "steady_from": steady[0][key] if steady else None,
        "last": samples[-1][key],
        "max": max(s[key] for s in samples),
        "slope_mb_per_h": slope_mb_per_hour(steady, key),
    }


def cpu_pct(first: dict, last: dict, key: str) -> float:
    return round((last[key] - first[key]) / (last["t"] - first["t"]) * 100, 1)


def summarise(samples: list[dict], cuts: list[dict], rate: float, max_partitions: int) -> dict:
    first, last = samples[0], samples[-1]
    seconds = last["t"] - first["t"]
    bounded = [s for s in samples if s["successes"] >= max_partitions]
    steady = samples[len(samples) // 2 :]  # past the bound and the first cuts' high water
    return {
        "samples": samples,
        "cuts": cuts,
        "window_s": seconds,
        "writes_per_s": round((last["successes"] - first["successes"]) / seconds, 1),
        "failures": last["failures"] - first["failures"],
        "exporter_up_samples": f"{sum(s['exporter_up'] == 1 for s in samples)} of {len(samples)}",
        "bound_reached_at_s": bounded[0]["t"] if bounded else None,
        "sim_rss_mb": rss(samples, steady, "sim_rss_mb"),
        "writer_rss_mb": rss(samples, steady, "writer_rss_mb"),
        "exporter_rss_mb": rss(samples, steady, "exporter_rss_mb"),
        "sim_cpu_pct": cpu_pct(first, last, "sim_cpu_s"),
        "writer_cpu_pct": cpu_pct(first, last, "writer_cpu_s"),
        "exporter_cpu_pct": cpu_pct(first, last, "exporter_cpu_s"),
        "rate_asked": rate,
        "max_partitions": max_partitions,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=12.0)
    parser.add_argument("--rate", type=float, default=1000.0, help="the writer's --rate")
    parser.add_argument("--max-partitions", type=int, default=100_000)
    parser.add_argument("--cycle", type=float, default=60.0, help="seconds between rack cuts")
    parser.add_argument("--cut", type=float, default=20.0, help="seconds a rack stays off")
    args = parser.parse_args()
    load = [os.getloadavg()[0]]
    figures = soak(args.minutes, args.rate, args.max_partitions, args.cycle, args.cut)
    load.append(os.getloadavg()[0])
    result = {
        "benchmark": "sim_soak",
        "machine": machine(load_average_before_after=load),
        "setup": vars(args),
        **figures,
    }
    write_results(RESULTS, result)
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

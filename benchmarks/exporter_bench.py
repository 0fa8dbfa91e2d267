"""Exporter benchmark: scrape latency, collection cost vs. bare round trips, RSS and CPU.

    .venv/bin/python -m benchmarks.exporter_bench [--sizes 9,200] [--seconds 15]

For each cluster size a simulator runs on a loopback range of its own (tests/support/lab.py: the
demo inventory, then a generated 200-node inventory, two DCs of four racks of 25) and one
real ``rackpanel exporter`` process watches its first node (interval 1 s, Jolokia on). Measured:

- scrape latency: sequential GET /metrics (a new connection each, as Prometheus' scrapes
  without keep-alive), plain and gzip; median and p99;
- collection cost: in this process, ``CqlSource.collect()`` and ``JolokiaSource.collect()``
  alternated with the bare round trips they need (the same CQL statements through the same
  driver session, all in flight at once, rows materialised; the same bulk POST, JSON decoded);
  ratio of medians;
- the exporter process: CPU seconds per collection round over ``--seconds`` without scrapes,
  and its resident memory (VmRSS, peak VmHWM) at the end;
- (9 nodes) seconds from powering DC2/RAC1 off (and on) until an exporter on rpidc1r1n1 with
  Jolokia, and one without (inferred from heartbeats), show all three nodes 0 (then 1),
  three times; the fast failure detector convicts after ≈ 4.6 s, the interval is 1 s.

Results go to benchmarks/results/exporter.json; docs/benchmarks.md (## Exporter) summarises.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml
from rackpanel.exporter.sources.cql import CqlSource
from rackpanel.exporter.sources.jolokia import REQUESTS, JolokiaSource

from benchmarks.harness import machine, write_results
from tests.support.inventories import shifted_inventory
from tests.support.lab import loopback_octet
from tests.support.sim import running_simulator

REPO = Path(__file__).resolve().parents[1]

RESULTS = REPO / "benchmarks" / "results" / "exporter.json"
TARGETS = {"scrape_p99_ms": 10.0, "collection_ratio": 1.5, "rss_mb": 60.0}


def big_inventory(directory: Path, octet: int, racks: int = 4, per_rack: int = 25) -> Path:
    datacenters = []
    for dc in (1, 2):
        datacenters.append(
            {
                "name": f"DC{dc}",
                "racks": [
                    {
                        "name": f"RAC{r}",
                        "nodes": [
                            {
                                "name": f"bench{dc}r{r}n{n}",
                                "address": f"10.{dc}.{r}.{n}",  # never contacted
                                "sim_address": f"127.{octet}.{dc}{r}.{n}",
                            }
                            for n in range(1, per_rack + 1)
                        ],
                    }
                    for r in range(1, racks + 1)
                ],
            }
        )
    inventory = {
        "cluster": {"name": "Bench Cluster", "cassandra_version": "4.1.7", "num_tokens": 4},
        "datacenters": datacenters,
        "seeds": ["bench1r1n1", "bench2r1n1"],
        "keyspace": {"name": "bench", "replication": {"DC1": 3, "DC2": 3}},
        "writers": [],
        "monitor": {"name": "benchmon", "address": "10.0.0.1", "sim_address": f"127.{octet}.0.1"},
    }
    path = directory / f"inventory-{racks * per_rack * 2}.yml"
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    return path


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary_ms(values: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(values) * 1000, 3),
        "p99_ms": round(percentile(values, 0.99) * 1000, 3),
        "max_ms": round(max(values) * 1000, 3),
        "n": len(values),
    }


def scrape(url: str, gzip: bool) -> float:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"} if gzip else {})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
    return time.perf_counter() - started


def proc_figures(pid: int) -> tuple[float, int, int]:
    """(cpu seconds, VmRSS bytes, VmHWM bytes) of ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    kib = lambda key: int(status[key].split()[0]) * 1024  # noqa: E731
    return cpu, kib("VmRSS"), kib("VmHWM")


def wait_ready(url: str, timeout: float = 60, jolokia: bool = True) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                page = response.read().decode()
            if "cassandra_up 1.0" in page and (
                not jolokia or 'cassandra_exporter_source_up{source="jolokia"} 1.0' in page
            ):
                return page
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"exporter at {url} not ready")


def bare_and_exporter(host: str, rounds: int) -> dict[str, object]:
    """Alternate each source's collect() with the bare round trips it needs."""
    cql = CqlSource(host, 9042, timeout=5.0)
    cql.collect()  # connect, discover the views' columns
    queries = list(cql.queries(cql.view_columns()).values())
    session = cql.session
    url = f"http://{host}:8778/jolokia/"
    jolokia = JolokiaSource(url, timeout=5.0)
    body = json.dumps(REQUESTS)
    times: dict[str, list[float]] = {k: [] for k in ("cql", "cql_bare", "jolokia", "jolokia_bare")}
    for _ in range(rounds):
        started = time.perf_counter()
        futures = [session.execute_async(q, timeout=5.0) for q in queries]
        for future in futures:
            list(future.result())
        times["cql_bare"].append(time.perf_counter() - started)
        started = time.perf_counter()
        cql.collect()
        times["cql"].append(time.perf_counter() - started)
        started = time.perf_counter()
        request = urllib.request.Request(
            url, data=body.encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            json.loads(response.read())
        times["jolokia_bare"].append(time.perf_counter() - started)
        started = time.perf_counter()
        jolokia.collect()
        times["jolokia"].append(time.perf_counter() - started)
    cql.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "statements": len(queries),
        **{k: summary_ms(v) for k, v in times.items()},
        "cql_ratio": round(med["cql"] / med["cql_bare"], 3),
        "jolokia_ratio": round(med["jolokia"] / med["jolokia_bare"], 3),
        "total_ratio": round(
            (med["cql"] + med["jolokia"]) / (med["cql_bare"] + med["jolokia_bare"]), 3
        ),
    }


def rack_verdicts(url: str, rack: list[str]) -> set[float]:
    page = urllib.request.urlopen(url, timeout=5).read().decode()
    return {
        float(line.rsplit(" ", 1)[1])
        for line in page.splitlines()
        if line.startswith("cassandra_endpoint_up{")
        and any(f'endpoint="{a}"' in line for a in rack)
    }


def detection(sim, urls: dict[str, str], target: str, repeats: int = 3) -> dict[str, object]:
    """Seconds from power off/on of ``target`` until each exporter shows all its nodes 0/1."""
    dc, rack_name = target.split("/")
    rack = [str(p.sim_address) for p in sim.inventory.nodes() if (p.dc, p.rack) == (dc, rack_name)]
    out: dict[str, dict[str, list[float]]] = {k: {"down": [], "up": []} for k in urls}
    for _ in range(repeats):
        for action, want in (("off", {0.0}), ("on", {1.0})):
            sim.power(action, target)
            started = time.monotonic()
            pending = set(urls)
            while pending and time.monotonic() - started < 60:
                for name in list(pending):
                    if rack_verdicts(urls[name], rack) == want:
                        out[name]["down" if action == "off" else "up"].append(
                            round(time.monotonic() - started, 2)
                        )
                        pending.discard(name)
                time.sleep(0.05)
            time.sleep(2)
    return {"target": target, **out}


def measure(inventory: Path, octet: int, seconds: float) -> dict[str, object]:
    with running_simulator(
        inventory, failure_detector="fast", admin=f"127.{octet}.0.1:9499"
    ) as sim:
        nodes = list(sim.inventory.nodes())
        host = str(nodes[0].sim_address)
        url = f"http://{host}:9500/metrics"
        log = (Path(tempfile.mkdtemp(prefix="exporter-bench-")) / "exporter.log").open("wb")
        exporter = subprocess.Popen(
            [sys.executable, "-m", "rackpanel", "exporter", "--cassandra", host,
             "--listen", f"{host}:9500", "--jolokia", f"http://{host}:8778/jolokia/",
             "--interval", "1", "--process-pattern", "none"],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            page = wait_ready(url)
            time.sleep(3)
            cpu0, _, _ = proc_figures(exporter.pid)
            started = time.monotonic()
            time.sleep(seconds)
            cpu1, _, _ = proc_figures(exporter.pid)
            rounds = (time.monotonic() - started) / 1.0
            plain = [scrape(url, gzip=False) for _ in range(1000)]
            gzipped = [scrape(url, gzip=True) for _ in range(1000)]
            collection = bare_and_exporter(host, rounds=100)
            _, rss, hwm = proc_figures(exporter.pid)
            page = urllib.request.urlopen(url, timeout=5).read().decode()
            liveness = None
            if len(nodes) <= 9:  # the demo topology: how fast a rack cut shows, both paths
                inferred = subprocess.Popen(
                    [sys.executable, "-m", "rackpanel", "exporter", "--cassandra", host,
                     "--listen", f"{host}:9501", "--jolokia", "none", "--interval", "1",
                     "--process-pattern", "none"],
                    cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                )  # fmt: skip
                try:
                    wait_ready(f"http://{host}:9501/metrics", jolokia=False)
                    time.sleep(3)  # heartbeats seen advancing at least once
                    urls = {"jolokia": url, "inferred": f"http://{host}:9501/metrics"}
                    liveness = detection(sim, urls, "DC2/RAC1")
                finally:
                    inferred.terminate()
                    inferred.wait(timeout=15)
        finally:
            exporter.terminate()
            exporter.wait(timeout=15)
            log.close()
        return {
            "nodes": len(nodes),
            "load_average_1m_at_end": os.getloadavg()[0],
            "page_bytes": len(page.encode()),
            "page_series": sum(1 for line in page.splitlines() if line and line[0] != "#"),
            "scrape_plain": summary_ms(plain),
            "scrape_gzip": summary_ms(gzipped),
            "collection": collection,
            "exporter_cpu_ms_per_collection": round((cpu1 - cpu0) / rounds * 1000, 2),
            "exporter_rss_mb": round(rss / 2**20, 1),
            "exporter_peak_rss_mb": round(hwm / 2**20, 1),
            "rack_cut_detection_seconds": liveness,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="9,200")
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="exporter-bench-"))
    results: dict[str, object] = {
        "machine": machine(),
        "targets": TARGETS,
        "runs": [],
    }
    for size in (int(s) for s in args.sizes.split(",")):
        octet = loopback_octet()  # a range of its own, beside a demo or a test run
        if size == 9:
            inventory = shifted_inventory(directory, octet)
        else:
            inventory = big_inventory(directory, octet, racks=4, per_rack=size // 8)
        print(f"== {size} nodes", flush=True)
        run = measure(inventory, octet, args.seconds)
        print(json.dumps(run, indent=2), flush=True)
        results["runs"].append(run)  # type: ignore[union-attr]
    write_results(RESULTS, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())

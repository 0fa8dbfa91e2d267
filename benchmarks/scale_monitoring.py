"""The exporter and the Prometheus rules on the 1,000-node simulator: one exporter per rack.

    .venv/bin/python -m benchmarks.scale_monitoring [--window 60] [--interval 10] [--timeout 8]
                                                    [--failure-detector realistic]

A real ``rackpanel sim`` of 1,000 nodes (two DCs of 20 racks x 25, ``sim_scale``'s generated
inventory) on a loopback range of its own; one real ``rackpanel exporter`` per rack (40), each
beside the first node of its rack with the demo's options (``exporter_options(..., "sim")``:
the node's simulator address, :9500, Jolokia on; ``--interval`` 10 s by default: one simulator
process serves all 40, ≈ 57 ms of its CPU per collection at 1,000 nodes, mostly the 1,000 rows
of system_views.gossip_info, so the demo's 1 s would need 2.3 cores and even 5 s starves it on
a shared 2-core machine); Debian's ``prometheus`` on the project's own configuration for that
inventory (``prometheus.config.render``, placement ``sim``, profile ``demo``: 2 s scrape and
evaluation), its ``cassandra`` file_sd list cut down to the 40 running exporters (same
addresses and ``cluster``/``dc``/``rack``/``node`` labels). No Alertmanager: alert states are
read from Prometheus' ``/api/v1/alerts``. Measured:

- steady state over ``--window`` seconds: each exporter's ``scrape_duration_seconds`` and
  ``scrape_samples_scraped`` (as Prometheus records them), each exporter's RSS and CPU, the
  simulator's CPU; Prometheus' rule-group evaluation time
  (``prometheus_rule_group_last_duration_seconds``, sampled from its own /metrics every 2 s)
  and the slowest rules (``/api/v1/rules`` evaluationTime), evaluation failures, missed
  iterations, head series, RSS and CPU;
- a rack cut (DC1/RAC2 powered off): seconds until ``cassandra:rack_nodes_up:sum`` of that rack
  is 0 and until ``CassandraRackDown`` for it is firing; every other Cassandra alert seen
  pending or firing meanwhile (another rack's RackDown, a DC alert, a LOCAL_QUORUM alert would
  be wrong); then power on, seconds until the rack is counted up again and until the alert is
  gone (the demo profile keeps RackDown firing 15 s after its condition clears).

Results: benchmarks/results/scale_monitoring.json; docs/benchmarks.md (## Simulator at scale,
"Monitoring 1,000 nodes").
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from rackpanel.prometheus.client import PrometheusClient
from rackpanel.prometheus.config import render
from rackpanel.prometheus.jobs import CASSANDRA_JOB
from rackpanel.prometheus.targets import cassandra_targets
from rackpanel.prometheus.yamltext import to_json
from rackpanel.topology import Inventory, NodePlace
from rackpanel.topology.placement import monitor_address
from rackpanel.topology.service_options import as_argv, exporter_options

from benchmarks.exporter_bench import proc_figures, wait_ready
from benchmarks.harness import machine, write_results
from benchmarks.sim_scale import inventory_for
from tests.support.lab import loopback_octet
from tests.support.promstack import http_json, running_prometheus
from tests.support.sim import SimHandle, running_simulator
from tests.support.waiting import wait_for

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "scale_monitoring.json"
NODES = 1000
PROFILE = "demo"
RACK = ("DC1", "RAC2")
RACK_DOWN = "CassandraRackDown"
MB = 1024 * 1024


# ---- the stack -----------------------------------------------------------------------------
def watchers(inv: Inventory) -> list[NodePlace]:
    """The first node of each rack: where that rack's exporter runs."""
    first: dict[tuple[str, str], NodePlace] = {}
    for place in inv.nodes():
        first.setdefault((place.dc, place.rack), place)
    return list(first.values())


@contextlib.contextmanager
def running_exporters(
    inv: Inventory, places: list[NodePlace], interval: float, timeout: float, log_dir: Path
) -> Iterator[dict[str, subprocess.Popen]]:
    """One ``rackpanel exporter`` beside each of ``places`` (the demo's options), started all
    at once; node name -> process once every page shows CQL and Jolokia up."""
    processes: dict[str, subprocess.Popen] = {}
    try:
        for place in places:
            argv = [sys.executable, "-m", "rackpanel", "exporter"]
            argv += as_argv(exporter_options(inv, place, "sim"))
            argv += ["--interval", str(interval), "--timeout", str(timeout)]
            argv += ["--process-pattern", "none"]
            with (log_dir / f"exporter-{place.name}.log").open("wb") as log:
                processes[place.name] = subprocess.Popen(
                    argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
                )
        for place in places:
            host = exporter_options(inv, place, "sim")["listen"]
            try:
                wait_ready(f"http://{host}/metrics", timeout=180)
            except RuntimeError:
                tail = (log_dir / f"exporter-{place.name}.log").read_text(errors="replace")
                raise RuntimeError(f"exporter of {place.name} not ready:\n{tail[-3000:]}") from None
        yield processes
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def write_config(inv: Inventory, places: list[NodePlace], directory: Path) -> Path:
    """The project's rendered configuration for ``inv`` (sim placement, demo profile), its
    cassandra target list cut down to the exporters that run."""
    names = {p.name for p in places}
    files = render(inv, "sim", PROFILE)
    targets = [t for t in cassandra_targets(inv, "sim") if t["labels"]["node"] in names]  # type: ignore[index]
    files[f"targets/{CASSANDRA_JOB}.json"] = to_json(targets)
    for relative, text in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return directory


# ---- what Prometheus says about itself -------------------------------------------------------
def self_metrics(url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Prometheus' own /metrics: family name -> [(labels, value)] (it does not scrape itself
    in this configuration)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        text = response.read().decode()
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((dict(sample.labels), float(sample.value)))
    return out


def by_group(metrics: dict[str, list[tuple[dict[str, str], float]]], name: str) -> dict[str, float]:
    """``name``'s value per rule group (the file path's group name)."""
    return {labels["rule_group"].rsplit(";", 1)[-1]: v for labels, v in metrics.get(name, [])}


def total(metrics: dict[str, list[tuple[dict[str, str], float]]], name: str) -> float:
    return sum(v for _, v in metrics.get(name, []))


def stats(values: list[float], scale: float = 1.0, digits: int = 1) -> dict[str, float]:
    return {
        "min": round(min(values) * scale, digits),
        "median": round(statistics.median(values) * scale, digits),
        "max": round(max(values) * scale, digits),
    }


def rule_seconds(prom: PrometheusClient) -> dict[str, float]:
    """The last evaluation time of every rule (``/api/v1/rules``), keyed group/rule name."""
    out = {}
    answer = http_json(f"{prom.url}/api/v1/rules")
    assert isinstance(answer, dict)
    for group in answer["data"]["groups"]:
        for rule in group["rules"]:
            dc = rule.get("labels", {}).get("endpoint_dc")
            name = f"{group['name']}/{rule['name']}" + (f"{{{dc}}}" if dc else "")
            out[name] = float(rule["evaluationTime"])
    return out


def per_target(prom: PrometheusClient, expr: str) -> list[float]:
    return list(prom.value(expr).values())


# ---- measurements ---------------------------------------------------------------------------
def rack_counts(prom: PrometheusClient) -> dict[tuple[str, str], float]:
    return {
        (dict(k)["endpoint_dc"], dict(k)["endpoint_rack"]): v
        for k, v in prom.value("cassandra:rack_nodes_up:sum").items()
    }


def cassandra_alerts(prom: PrometheusClient) -> list[dict]:
    return [a for a in prom.alerts() if a["labels"]["alertname"].startswith("Cassandra")]


def healthy(prom: PrometheusClient, exporters: int, racks: int, per_rack: int) -> bool:
    up = per_target(prom, f'up{{job="{CASSANDRA_JOB}"}}')
    counts = rack_counts(prom)
    return (
        len(up) == exporters
        and all(v == 1 for v in up)
        and len(counts) == racks
        and all(v == per_rack for v in counts.values())
        and not cassandra_alerts(prom)
    )


def steady(
    prom: PrometheusClient, sim: SimHandle, exporters: dict[str, subprocess.Popen], window: float
) -> dict[str, object]:
    pids = {name: p.pid for name, p in exporters.items()}
    before = {name: proc_figures(pid) for name, pid in pids.items()}
    sim_before = proc_figures(sim.process.pid)
    first = self_metrics(prom.url)
    durations: dict[str, list[float]] = {}
    rules: dict[str, list[float]] = {}
    started = time.monotonic()
    while time.monotonic() - started < window:
        for group, value in by_group(
            self_metrics(prom.url), "prometheus_rule_group_last_duration_seconds"
        ).items():
            durations.setdefault(group, []).append(value)
        for rule, value in rule_seconds(prom).items():
            rules.setdefault(rule, []).append(value)
        time.sleep(2.0)
    elapsed = time.monotonic() - started
    after = {name: proc_figures(pid) for name, pid in pids.items()}
    sim_after = proc_figures(sim.process.pid)
    last = self_metrics(prom.url)
    span = f"{round(elapsed)}s"
    job = f'job="{CASSANDRA_JOB}"'
    cpu_pct = [(after[n][0] - before[n][0]) / elapsed * 100 for n in pids]
    rss = [after[n][1] / MB for n in pids]

    def grew(name: str) -> float:
        return total(last, name) - total(first, name)

    return {
        "window_s": round(elapsed, 1),
        "exporters": {
            "count": len(pids),
            # per exporter: its mean and its worst scrape over the window
            "scrape_duration_ms_mean": stats(
                per_target(prom, f"avg_over_time(scrape_duration_seconds{{{job}}}[{span}])"), 1000
            ),
            "scrape_duration_ms_max": stats(
                per_target(prom, f"max_over_time(scrape_duration_seconds{{{job}}}[{span}])"), 1000
            ),
            "samples_per_scrape": stats(
                per_target(prom, f"max_over_time(scrape_samples_scraped{{{job}}}[{span}])"), 1, 0
            ),
            "page_bytes_one": len(_page(prom)),
            "scrapes_failed": sum(
                per_target(prom, f"count_over_time((up{{{job}}} == 0)[{span}:])") or [0.0]
            ),
            "rss_mb": stats(rss),
            "rss_mb_sum": round(sum(rss), 1),
            "cpu_pct": stats(cpu_pct),
            "cpu_pct_sum": round(sum(cpu_pct), 1),
        },
        "simulator": {
            "cpu_pct": round((sim_after[0] - sim_before[0]) / elapsed * 100, 1),
            "rss_mb": round(sim_after[1] / MB, 1),
        },
        "prometheus": {
            "rule_group_duration_ms": {
                group: stats(values, 1000, 2) for group, values in sorted(durations.items())
            },
            # the five slowest rules (their last evaluation time, sampled every 2 s)
            "slowest_rules_ms": dict(
                sorted(
                    ((rule, stats(v, 1000, 2)) for rule, v in rules.items()),
                    key=lambda item: -item[1]["median"],
                )[:5]
            ),
            "rule_group_interval_s": by_group(last, "prometheus_rule_group_interval_seconds"),
            "rule_group_rules": by_group(last, "prometheus_rule_group_rules"),
            "rule_evaluation_failures_total": total(
                last, "prometheus_rule_evaluation_failures_total"
            ),
            "rule_evaluation_failures_in_window": grew("prometheus_rule_evaluation_failures_total"),
            "rule_group_iterations_missed_in_window": grew(
                "prometheus_rule_group_iterations_missed_total"
            ),
            "head_series": total(last, "prometheus_tsdb_head_series"),
            "rss_mb": round(total(last, "process_resident_memory_bytes") / MB, 1),
            "cpu_pct": round(
                (
                    total(last, "process_cpu_seconds_total")
                    - total(first, "process_cpu_seconds_total")
                )
                / elapsed
                * 100,
                1,
            ),
        },
    }


def _page(prom: PrometheusClient) -> bytes:
    """One exporter's /metrics page as scraped (the first target Prometheus knows)."""
    answer = http_json(f"{prom.url}/api/v1/targets?state=active")
    assert isinstance(answer, dict)
    target = answer["data"]["activeTargets"][0]
    with urllib.request.urlopen(target["scrapeUrl"], timeout=10) as response:
        return response.read()


def power(sim: SimHandle, action: str, target: str) -> float:
    """Seconds the admin API took to accept ``action`` (idempotent, so retried while a starved
    simulator lets the request time out)."""
    started = time.monotonic()
    wait_for(lambda: sim.power(action, target) or True, 120, what=f"power {action} {target}")
    return round(time.monotonic() - started, 1)


def rack_cut(prom: PrometheusClient, sim: SimHandle, per_rack: int) -> dict[str, object]:
    """Power ``RACK`` off, then on; time what Prometheus records and alerts."""
    dc, rack = RACK
    seen: dict[str, float] = {}
    others: dict[str, dict[str, object]] = {}
    # fewest targets whose node answered CQL in each phase (40 less the cut rack's is right)
    answering: dict[str, float] = {}

    def look(since: float, phase: str) -> tuple[float | None, bool]:
        """(the rack's recorded count, its RackDown firing); every other alert noted."""
        count = rack_counts(prom).get(RACK)
        answers = sum(prom.value("cassandra:target_node_answers").values())
        answering[phase] = min(answering.get(phase, answers), answers)
        firing = False
        for alert in cassandra_alerts(prom):
            labels = alert["labels"]
            mine = labels.get("endpoint_dc") == dc and labels.get("endpoint_rack") == rack
            if labels["alertname"] == RACK_DOWN and mine:
                firing = firing or alert["state"] == "firing"
                continue
            if labels["alertname"] == "CassandraNodeDown" and mine:
                continue  # the rack's own nodes: expected (Alertmanager inhibits them)
            key = json.dumps({**labels, "state": alert["state"]}, sort_keys=True)
            others.setdefault(key, {"phase": phase, "at_s": round(time.monotonic() - since, 2)})
        return count, firing

    cut = time.monotonic()
    accepted = {"off": power(sim, "off", f"{dc}/{rack}")}
    node_downs: set[str] = set()
    while time.monotonic() - cut < 120 and len(seen) < 2:
        count, firing = look(cut, "off")
        now = time.monotonic() - cut
        if "recorded_down_s" not in seen and count == 0:
            seen["recorded_down_s"] = now
        if "firing_s" not in seen and firing:
            seen["firing_s"] = now
        time.sleep(0.2)
    # a while longer: the node alerts, and anything that should not fire
    settle = time.monotonic()
    while time.monotonic() - settle < 10:
        look(cut, "off")
        node_downs = {
            a["labels"].get("node", a["labels"]["endpoint"])
            for a in prom.alerts("CassandraNodeDown", state="firing")
        }
        time.sleep(0.5)
    on = time.monotonic()
    accepted["on"] = power(sim, "on", f"{dc}/{rack}")
    while time.monotonic() - on < 120 and len(seen) < 4:
        count, firing = look(on, "on")
        now = time.monotonic() - on
        if "recorded_up_s" not in seen and count == per_rack:
            seen["recorded_up_s"] = now
        if "resolved_s" not in seen and not any(
            a["labels"].get("endpoint_rack") == rack and a["labels"].get("endpoint_dc") == dc
            for a in prom.alerts(RACK_DOWN)
        ):
            seen["resolved_s"] = now
        time.sleep(0.2)
    return {
        "rack": f"{dc}/{rack}",
        "nodes": per_rack,
        **{k: round(v, 1) for k, v in seen.items()},
        "power_call_s": accepted,
        "node_down_firing": len(node_downs),
        "fewest_targets_answering": answering,
        "other_alerts": [{**json.loads(k), **v} for k, v in others.items()],
    }


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def prometheus_version() -> str:
    answer = subprocess.run(["prometheus", "--version"], capture_output=True, text=True)
    return (answer.stdout or answer.stderr).splitlines()[0]


def measure(window: float, interval: float, timeout: float, detector: str) -> dict[str, object]:
    octet = loopback_octet()
    with tempfile.TemporaryDirectory(prefix="scale-monitoring-") as tmp:
        directory = Path(tmp)
        path = inventory_for(NODES, directory, octet)
        launched = time.monotonic()
        with running_simulator(
            path, failure_detector=detector, admin=f"127.{octet}.0.1:9499"
        ) as sim:
            timings = {"sim_ready_s": round(time.monotonic() - launched, 1)}
            inv = sim.inventory
            places = watchers(inv)
            racks = {(p.dc, p.rack) for p in inv.nodes()}
            per_rack = NODES // len(racks)
            started = time.monotonic()
            with running_exporters(inv, places, interval, timeout, directory) as exporters:
                timings["exporters_ready_s"] = round(time.monotonic() - started, 1)
                config = write_config(inv, places, directory / "prometheus")
                listen = monitor_address(inv, "prometheus", "sim")
                started = time.monotonic()
                with running_prometheus(config, listen, directory / "tsdb") as prom:
                    wait_for(
                        lambda: healthy(prom, len(places), len(racks), per_rack),
                        180,
                        what="every exporter up, every rack counted whole, no Cassandra alert",
                        interval=1.0,
                    )
                    timings["prometheus_healthy_s"] = round(time.monotonic() - started, 1)
                    print(f"stack up: {timings}", flush=True)
                    figures = steady(prom, sim, exporters, window)
                    print(json.dumps(figures), flush=True)
                    cut = rack_cut(prom, sim, per_rack)
                    print(json.dumps(cut), flush=True)
    return {
        "nodes": NODES,
        "racks": len(racks),
        "exporters": len(places),
        **timings,
        "steady": figures,
        "rack_cut": cut,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=60.0, help="steady window, seconds")
    parser.add_argument("--interval", type=float, default=10.0, help="exporter interval, s")
    parser.add_argument(
        "--timeout",
        type=float,
        default=8.0,
        help="exporter per-source timeout, s (the 40 start together, so their collections reach "
        "the one simulator process in bursts)",
    )
    parser.add_argument(
        "--failure-detector",
        default="realistic",
        choices=("fast", "realistic"),
        help="phi 8 by default: phi 2 flaps at 1,000 nodes (see sim_scale in docs/benchmarks.md)",
    )
    args = parser.parse_args()
    load = [uptime()]
    run = measure(args.window, args.interval, args.timeout, args.failure_detector)
    load.append(uptime())
    result = {
        "benchmark": "scale_monitoring",
        "machine": machine(uptime_before_after=load),
        "setup": {
            "failure_detector": args.failure_detector,
            "exporter_interval_s": args.interval,
            "exporter_timeout_s": args.timeout,
            "profile": PROFILE,
            "prometheus": prometheus_version(),
        },
        **run,
    }
    write_results(RESULTS, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

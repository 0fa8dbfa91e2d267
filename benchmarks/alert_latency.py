"""How fast does an outage become an alert? Real demo stack, demo profile, fast failure detector.

For each trial: cut the power of a target (DC2, then a rack), and time from the cut until
(1) Prometheus shows the alert firing, (2) Alertmanager holds it; then power back on and time
until Prometheus no longer has it. Also records which alerts Alertmanager suppressed.

    .venv/bin/python -m benchmarks.alert_latency [--trials 3]

Writes benchmarks/results/alert_latency.json. Target (issue 6): DC-down firing under 15 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.harness import machine, write_results
from tests.support.inventories import shifted_inventory
from tests.support.lab import loopback_octet
from tests.support.promstack import DemoStack, running_demo, wait_for

OCTET = loopback_octet()  # a loopback range of its own (tests/support/lab.py)
RESULTS = Path(__file__).resolve().parent / "results" / "alert_latency.json"
TARGET_SECONDS = 15.0

CASES = [
    ("DC2", "CassandraDatacenterUnavailable", {"endpoint_dc": "DC2"}),
    ("DC1/RAC2", "CassandraRackDown", {"endpoint_dc": "DC1", "endpoint_rack": "RAC2"}),
]


def matching(alerts: list[dict], labels: dict[str, str]) -> list[dict]:
    return [a for a in alerts if all(a["labels"].get(k) == v for k, v in labels.items())]


def quiet(stack: DemoStack) -> bool:
    """Nothing Cassandra-related pending or firing, every node seen up."""
    prom = stack.prometheus
    nodes_up = sum(prom.value("cassandra:dc_nodes_up:sum").values())
    cassandra_alerts = [
        a for a in prom.alerts() if a["labels"]["alertname"].startswith("Cassandra")
    ]
    return nodes_up == 9 and not cassandra_alerts


def trial(stack: DemoStack, target: str, alert: str, labels: dict[str, str]) -> dict:
    wait_for(lambda: quiet(stack), 120, what="a quiet cluster before the cut")
    stack.power("off", target)
    cut = time.monotonic()
    wait_for(
        lambda: matching(stack.prometheus.alerts(alert, state="firing"), labels),
        60,
        interval=0.1,
        what=f"{alert} firing",
    )
    firing = time.monotonic() - cut
    held = wait_for(lambda: matching(stack.alertmanager.alerts(alert), labels), 30, interval=0.1)
    in_alertmanager = time.monotonic() - cut
    time.sleep(10)  # let the node alerts (demo for: 8 s) arrive, to see them suppressed
    suppressed = sorted(
        f"{a['labels']['alertname']}:{a['labels'].get('node') or a['labels'].get('endpoint_rack')}"
        for a in stack.alertmanager.alerts()
        if a["status"]["state"] == "suppressed"
    )
    stack.power("on", target)
    back = time.monotonic()
    wait_for(
        lambda: not matching(stack.prometheus.alerts(alert), labels),
        90,
        interval=0.1,
        what=f"{alert} resolved",
    )
    return {
        "target": target,
        "alert": alert,
        "power_off_to_firing_s": round(firing, 2),
        "power_off_to_alertmanager_s": round(in_alertmanager, 2),
        "power_on_to_resolved_s": round(time.monotonic() - back, 2),
        "alertmanager_state": held[0]["status"]["state"],
        "suppressed": suppressed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        inventory = shifted_inventory(
            directory,
            OCTET,
            simulator={"failure_detector": "fast", "admin_address": f"127.{OCTET}.0.1:9499"},
        )
        results = []
        with running_demo(inventory, directory / "run") as stack:
            for _ in range(args.trials):
                for target, alert, labels in CASES:
                    outcome = trial(stack, target, alert, labels)
                    print(json.dumps(outcome))
                    results.append(outcome)
    summary = {}
    for target, alert, _ in CASES:
        times = [r["power_off_to_firing_s"] for r in results if r["target"] == target]
        summary[alert] = {
            "median_s": round(statistics.median(times), 2),
            "max_s": max(times),
            "target_s": TARGET_SECONDS,
            "met": max(times) < TARGET_SECONDS,
        }
    report = {
        "benchmark": "alert_latency",
        "profile": "demo",
        "failure_detector": "fast",
        "machine": machine(),
        "summary": summary,
        "trials": results,
    }
    write_results(RESULTS, report)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

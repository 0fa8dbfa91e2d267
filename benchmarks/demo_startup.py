"""How long `rackpanel demo --no-ui` takes to be ready, and what the whole stack costs in memory.

Starts the demo N times on a shifted copy of the demo inventory (127.201.x.y), measures the time
from launch to endpoints.json (every service answering its readiness probe), sums the resident
memory of every process of the stack, then stops it with SIGTERM and times the shutdown.
Results: benchmarks/results/demo_startup.json. Target (issue 9): ready in under 20 s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import machine, write_results
from tests.support.inventories import shifted_inventory
from tests.support.lab import loopback_octet

REPO = Path(__file__).resolve().parent.parent

K = loopback_octet()


def stack_rss_bytes(root_pid: int) -> int:
    """Resident memory of every process whose parent chain leads to the demo."""
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(proc.name))
    total, todo = 0, [root_pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        pid = todo.pop()
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
        todo.extend(children.get(pid, []))
    return total


def one_run(inventory: Path, run_dir: Path, with_prometheus: bool) -> dict[str, float]:
    argv = [sys.executable, "-m", "rackpanel", "demo", "--no-ui", "--inventory", str(inventory)]
    argv += ["--run-dir", str(run_dir)]
    if not with_prometheus:
        argv.append("--no-prometheus")
    began = time.monotonic()
    demo = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoints = run_dir / "endpoints.json"
    while not endpoints.exists():
        if demo.poll() is not None or time.monotonic() - began > 120:
            raise RuntimeError("the demo did not become ready")
        time.sleep(0.05)
    ready = time.monotonic() - began
    time.sleep(3)  # let every service settle into its steady state
    rss = stack_rss_bytes(demo.pid)
    services = len(json.loads(endpoints.read_text())["services"])
    stop_began = time.monotonic()
    demo.send_signal(signal.SIGTERM)
    demo.wait(timeout=60)
    return {
        "ready_seconds": ready,
        "stop_seconds": time.monotonic() - stop_began,
        "stack_rss_mib": rss / 2**20,
        "services": services,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", default=str(REPO / "benchmarks/results/demo_startup.json"))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rackpanel-demo-bench-"))
    inventory = shifted_inventory(
        tmp, K, simulator={"admin_address": f"127.{K}.0.1:9499", "failure_detector": "fast"}
    )
    results: dict[str, object] = {"machine": machine(), "target_ready_seconds": 20}
    for label, with_prom in (("with_prometheus", True), ("without_prometheus", False)):
        runs = [one_run(inventory, tmp / f"run-{label}-{i}", with_prom) for i in range(args.runs)]
        results[label] = {
            "runs": runs,
            "ready_seconds_median": statistics.median(r["ready_seconds"] for r in runs),
            "ready_seconds_max": max(r["ready_seconds"] for r in runs),
            "stop_seconds_max": max(r["stop_seconds"] for r in runs),
            "stack_rss_mib_median": statistics.median(r["stack_rss_mib"] for r in runs),
        }
        print(label, json.dumps(results[label], indent=1)[:400])
    write_results(Path(args.output), results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""How fast the web panel shows a change: from a power change to the server-sent event carrying it.

Starts `rackpanel demo --no-ui --no-prometheus` on a lab range, subscribes to the web panel's
``/events`` like a browser, and alternately cuts and restores DC1/RAC2, N times each way:
- from outside the panel (the admin API, as `rackpanel power` does): the panel finds the change
  by polling, so this is the "updates within 1 s of a change" of issue 15;
- through the panel (``POST /api/stop``, what a click sends): the panel re-reads at once.
Results: benchmarks/results/web_panel.json. Target (issue 15): within 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
from rackpanel.simulator.cluster.admin_client import AdminClient

from benchmarks.harness import write_results
from tests.support.demo import running_demo
from tests.support.lab import loopback_octet

REPO = Path(__file__).resolve().parent.parent

RACK = "DC1/RAC2"


async def measure(web: str, admin: AdminClient, rounds: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"external": [], "click": []}
    async with aiohttp.ClientSession() as session, session.get(web + "events") as stream:
        snapshots: asyncio.Queue[dict] = asyncio.Queue()

        async def read() -> None:
            event = ""
            async for raw in stream.content:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("data:"):
                    event += line[5:].strip()
                elif not line and event:
                    await snapshots.put(json.loads(event))
                    event = ""

        reader = asyncio.create_task(read())

        async def shown(on: bool, since: float) -> float:
            while True:
                snapshot = await asyncio.wait_for(snapshots.get(), 10)
                racks = {r["target"]: r for dc in snapshot["datacenters"] for r in dc["racks"]}
                if racks[RACK]["on"] is on:
                    return time.monotonic() - since

        for i in range(2 * rounds):
            on = i % 2 == 1  # off, on, off, ...
            while not snapshots.empty():
                snapshots.get_nowait()
            started = time.monotonic()
            if i < rounds * 1:
                await asyncio.to_thread(admin.power, "on" if on else "off", RACK)
                timings["external"].append(await shown(on, started))
            else:
                body = {"target": RACK, "action": "on" if on else "off"}
                async with session.post(web + "api/stop", json=body) as answer:
                    assert answer.status == 200, await answer.text()
                timings["click"].append(await shown(on, started))
            # a random pause: a fixed one locks the changes to one phase of the panel's 0.5 s
            # power poll (every change just after a poll, or just before)
            await asyncio.sleep(random.uniform(1.0, 1.5))
        reader.cancel()
    return timings


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "median_s": round(statistics.median(ordered), 3),
        "p95_s": round(ordered[max(0, int(0.95 * len(ordered)) - 1)], 3),
        "max_s": round(ordered[-1], 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20, help="changes each way (default 20)")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_demo(Path(tmp), loopback_octet(), "--no-prometheus") as demo,
    ):
        admin = AdminClient(demo.inventory.simulator.admin_address)
        timings = asyncio.run(measure(demo.url("web-panel"), admin, args.rounds))
    results = {name: summary(values) for name, values in timings.items()}
    results["raw"] = {name: [round(v, 3) for v in values] for name, values in timings.items()}
    out = REPO / "benchmarks" / "results" / "web_panel.json"
    write_results(out, results)
    print(json.dumps({k: v for k, v in results.items() if k != "raw"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

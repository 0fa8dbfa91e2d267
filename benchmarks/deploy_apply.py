"""How long `rackpanel deploy` takes on an sshd lab: ``check``, ``plan``, a first ``apply`` onto
fresh hosts, a no-op ``apply``, and an ``apply`` of one inventory change that restarts Cassandra
on every node (rolling, seeds first). ``--topology demo`` (default) is the whole demo panel, 12
hosts (9 nodes, 2 writers, the monitor); ``lab`` is the tests' 5-host lab.

Real OpenSSH servers on loopback (tests/support/sshd.py), paramiko, ``deploy.parallel`` 4; the
lab's up check answers at once, so the rolling figure is deploy's own overhead per node.

Run: ``.venv/bin/python -m benchmarks.deploy_apply`` → ``benchmarks/results/deploy_apply.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from rackpanel.cli import main
from tests.support.sshd import (
    LAB_HOSTS,
    demo_lab_hosts,
    demo_lab_inventory,
    lab_inventory,
    sshd_fleet,
)

REPO = Path(__file__).resolve().parents[1]

TOPOLOGIES = {
    "demo": (demo_lab_hosts, demo_lab_inventory),
    "lab": (lambda: LAB_HOSTS, lab_inventory),
}

RESULTS = REPO / "benchmarks" / "results" / "deploy_apply.json"


def timed(*argv: str) -> float:
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = main(["deploy", *argv])
    if code != 0:
        raise SystemExit(f"rackpanel deploy {' '.join(argv)} exited {code}:\n{out.getvalue()}")
    return time.perf_counter() - start


def trial(directory: Path, fleet, make_inventory) -> dict[str, float]:
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    inventory = make_inventory(directory, fleet)
    fleet.write_known_hosts(directory / "known_hosts")
    inv = ["--inventory", str(inventory)]
    result = {
        "check": 0.0,
        "plan_fresh": timed("plan", *inv),
        "apply_first": timed("apply", *inv),
        "apply_noop": timed("apply", *inv),
    }
    with contextlib.suppress(SystemExit):  # check exits 1: the lab has no Cassandra installed
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            main(["deploy", "check", *inv])
        result["check"] = time.perf_counter() - start
    raw = yaml.safe_load(inventory.read_text())
    raw["cluster"]["heap"] = "768M"
    inventory.write_text(yaml.safe_dump(raw, sort_keys=False))
    result["apply_rolling_heap_change"] = timed("apply", *inv)
    return result


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--topology", choices=sorted(TOPOLOGIES), default="demo")
    args = parser.parse_args()
    hosts_of, make_inventory = TOPOLOGIES[args.topology]
    hosts = hosts_of()
    work = Path(tempfile.mkdtemp(prefix="rackpanel-deploy-bench-"))
    try:
        with sshd_fleet(work / "sshd", hosts) as fleet:
            trials = [trial(work / f"trial-{i}", fleet, make_inventory) for i in range(args.trials)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = {
        name: {
            "median_s": round(statistics.median(t[name] for t in trials), 3),
            "max_s": round(max(t[name] for t in trials), 3),
        }
        for name in trials[0]
    }
    out = {
        "topology": args.topology,
        "hosts": len(hosts),
        "parallel": 4,
        "trials": trials,
        "summary": summary,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main_()

"""How long `rackpanel deploy` takes on an sshd lab: ``check``, ``plan``, a first ``apply`` onto
fresh hosts, a no-op ``apply``, and an ``apply`` of one inventory change that restarts Cassandra
on every node (rolling, seeds first). ``--topology demo`` (default) is the whole demo panel, 12
hosts (9 nodes, 2 writers, the monitor); ``lab`` is the tests' 5-host lab.

Real OpenSSH servers on loopback (tests/support/sshd.py), paramiko, ``deploy.parallel`` 4; the
lab's up check answers at once, so the rolling figure is deploy's own overhead per node.

Run: ``.venv/bin/python -m benchmarks.deploy_apply`` → ``benchmarks/results/deploy_apply.json``.

``--phases`` times the install phases instead (→ ``benchmarks/results/deploy_phases.json``):
``deploy bundle``'s wheels for the Pis' platform (manylinux aarch64, Python 3.11, from PyPI), then
on blank Debian bookworm roots behind real sshds (tests/support/debroot.py, as in
tests/test_deploy_install.py): a node's phases with the Debian mirror (Java installed for real;
the Apache Cassandra repository is not reachable from here, so the node stops there), and a writer
with no network at all, from the apt cache and the wheels, then its no-op second apply. The lab's
key stands in for the pinned repository keys, which cannot be downloaded here.
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

from benchmarks.harness import write_results
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


PHASE_RESULTS = REPO / "benchmarks" / "results" / "deploy_phases.json"


def phase_times(inventory: Path, *argv: str) -> tuple[float, dict[str, float], str]:
    """Seconds of one `deploy apply`, each phase's seconds, and the host's result."""
    from rackpanel.deploy.progress import Progress

    kept: list = []
    summary = Progress.summary
    Progress.summary = lambda self, outcomes: kept.extend(outcomes)  # type: ignore[method-assign]
    try:
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            main(["deploy", "apply", *argv, "--inventory", str(inventory)])
        took = time.perf_counter() - start
    finally:
        Progress.summary = summary  # type: ignore[method-assign]
    (outcome,) = kept
    status = f"{outcome.status}: {outcome.reason}" if outcome.reason else outcome.status
    return took, {k: round(v, 1) for k, v in outcome.phases.items()}, status


def phases_benchmark(work: Path) -> dict[str, object]:
    from dataclasses import replace

    from rackpanel.deploy import phases
    from rackpanel.deploy.aptcache import build_cache
    from rackpanel.deploy.keys import CASSANDRA, GRAFANA, fingerprints
    from rackpanel.deploy.wheels import build_wheels

    from tests.support.debroot import debs_for, make_root, wrapper
    from tests.support.gpgkey import make_signing_key
    from tests.support.sshd import lab_hosts

    out: dict[str, object] = {}
    start = time.perf_counter()
    pi = build_wheels(
        REPO,
        work / "pi-bundle",
        ["manylinux_2_17_aarch64", "manylinux2014_aarch64"],
        "3.11",
        log=lambda _: None,
    )
    out["bundle_wheels_aarch64_s"] = round(time.perf_counter() - start, 1)
    out["bundle_wheels_aarch64"] = sorted(p.name for p in (work / "pi-bundle/wheels").iterdir())
    out["bundle_version"] = pi["version"]

    key = make_signing_key(work)
    bundle = work / "bundle"
    platforms = ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]  # the lab hosts' own
    build_wheels(REPO, bundle, platforms, "3.11", log=lambda _: None)
    (bundle / "keys").mkdir()
    for name in ("cassandra", "grafana"):
        (bundle / "keys" / f"{name}.asc").write_bytes(key.read_bytes())
    build_cache(debs_for(["python3-venv"]), bundle / "apt")
    (fpr,) = fingerprints(bundle / "keys/cassandra.asc")
    phases.CASSANDRA = replace(CASSANDRA, fingerprints=(fpr,))
    phases.GRAFANA = replace(GRAFANA, fingerprints=(fpr,))

    hosts = lab_hosts(87)
    with sshd_fleet(work / "sshd", hosts) as fleet:
        for name, offline in (("rpidc1r1n1", False), ("rpidc1user", True)):
            directory = work / name
            directory.mkdir()
            inventory = lab_inventory(
                directory,
                fleet,
                hosts,
                install=True,
                bundle_dir=str(bundle),
                wheel_platforms=platforms,
                apt_cache=offline,
                command_wrapper=wrapper(f"{directory}/hosts/{{host}}", offline=offline),
            )
            raw = yaml.safe_load(inventory.read_text())
            raw["cluster"]["cassandra_version"] = "5.0.6"
            inventory.write_text(yaml.safe_dump(raw, sort_keys=False))
            fleet.write_known_hosts(directory / "known_hosts")
            make_root(directory / "hosts" / name, raspi_config=name == "rpidc1user")
            first = phase_times(inventory, "--limit", name)
            second = phase_times(inventory, "--limit", name)
            out[name] = {
                "network": "none (apt cache + wheels)" if offline else "Debian mirror",
                "apply_first_s": round(first[0], 1),
                "phases_s": first[1],
                "result": first[2],
                "apply_again_s": round(second[0], 1),
                "result_again": second[2],
            }
            shutil.rmtree(directory / "hosts", ignore_errors=True)
    return out


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--topology", choices=sorted(TOPOLOGIES), default="demo")
    parser.add_argument("--phases", action="store_true", help="time the install phases")
    args = parser.parse_args()
    if args.phases:
        work = Path(tempfile.mkdtemp(prefix="rackpanel-phases-bench-"))
        try:
            result = phases_benchmark(work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        write_results(PHASE_RESULTS, result)
        print(
            json.dumps({k: v for k, v in result.items() if k != "bundle_wheels_aarch64"}, indent=2)
        )
        return
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
    write_results(RESULTS, out)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main_()

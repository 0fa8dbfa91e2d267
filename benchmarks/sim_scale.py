"""The simulator at 9, 200 and 1,000 nodes: start-up, memory, idle CPU, writes at
LOCAL_QUORUM and how long a rack cut takes to be seen down.

    .venv/bin/python -m benchmarks.sim_scale [--sizes 9,200,1000] [--idle 120] [--writes 20000]

For each size a real ``rackpanel sim`` process (fast failure detector: phi 2, 1 s gossip) runs
on a loopback range of its own (the demo inventory for 9 nodes; a generated inventory of two
DCs of 4 racks x 25 nodes for 200 and of 20 racks x 25 nodes for 1,000, 16 vnodes each).
Measured:

- ready: launch of the process -> its "rackpanel sim: ready" line (Python start and imports
  included);
- RSS at ready, then every 5 s through ``--idle`` seconds of idle; idle CPU over that window;
- writes: one cassandra-driver session (token-aware, DC-aware on DC1, protocol v4), prepared
  INSERTs at LOCAL_QUORUM with 8 in flight, three rounds of ``--writes`` each in two patterns:
  8 callback chains on the driver's event loop (``sim_writes.chained_writes``, the driver's
  fastest; the median round by rate is the headline) and submits from the application's
  thread (``sim_writes.run_writes``, kept as ``threaded``); every round is kept: writes/s,
  median and p99 round trip, and the CPU per write of the simulator and of the driver;
- the same (chained) from two driver sessions at once, each in a process of its own: the
  rate over their common window, the percentiles over all their round trips;
- raw writes: the same INSERT from one raw pipelined connection (``benchmarks.sim_echo``'s
  client, 32 in flight) to a DC1 coordinator: requests/s and the simulator's CPU per request,
  the write path's own cost at this size with no driver in the way;
- a rack cut (DC1/RAC2 powered off): seconds until (a) every powered node's failure detector
  convicts every node of the rack (admin ``/state``), (b) a driver whose local DC is DC2 marks
  every node of the rack down (STATUS_CHANGE events through its control connection; a driver
  with pools to the rack would wait for its own heartbeats instead), (c) one ``rackpanel
  exporter`` (1 s interval, Jolokia) watching a DC2 node reports every node of the rack 0.
  Compared with Cassandra's formula for that cluster: phi_convict_threshold x ln 10 x the mean
  arrival interval the observers' windows hold (``/state`` reports it), counted from the last
  heartbeat an observer received; gossip keeps spreading the cut nodes' last heartbeats for a
  few rounds after the cut, more in a larger cluster.

Results: benchmarks/results/sim_scale.json; docs/benchmarks.md (## Simulator at scale).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from array import array
from pathlib import Path

from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy

from benchmarks.exporter_bench import proc_figures
from benchmarks.harness import machine, write_results
from benchmarks.sim_echo import RawClient, paced, raw_rate
from benchmarks.sim_writes import chained_writes, percentile, run_writes
from tests.support.inventories import generated_inventory, shifted_inventory
from tests.support.lab import loopback_octet
from tests.support.sim import create_keyspace, driver_cluster, running_simulator

REPO = Path(__file__).resolve().parent.parent

RESULTS = REPO / "benchmarks" / "results" / "sim_scale.json"
RACK = "DC1/RAC2"
TARGETS = {"ready_s": 5.0, "idle_cpu_pct": 10.0, "rss_mb": 500.0, "writes_per_s": 5000}
TARGETS |= {"p99_ms": 5.0, "cut_vs_formula": 0.2}


def inventory_for(size: int, directory: Path, octet: int) -> Path:
    if size == 9:
        return shifted_inventory(directory, octet)
    racks = {200: 4, 1000: 20}[size]
    return generated_inventory(directory, octet, racks=racks, per_rack=25)


def idle(pid: int, seconds: float) -> dict:
    cpu0, rss0, _ = proc_figures(pid)
    samples = [rss0]
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        time.sleep(min(5.0, seconds))
        samples.append(proc_figures(pid)[1])
    cpu1, rss1, hwm = proc_figures(pid)
    elapsed = time.monotonic() - started
    mb = 1024 * 1024
    return {
        "seconds": round(elapsed, 1),
        "rss_start_mb": round(rss0 / mb, 1),
        "rss_end_mb": round(rss1 / mb, 1),
        "rss_max_mb": round(max(samples) / mb, 1),
        "rss_samples_mb": [round(s / mb, 1) for s in samples],
        "hwm_mb": round(hwm / mb, 1),
        "idle_cpu_pct": round((cpu1 - cpu0) / elapsed * 100, 2),
    }


def writer_cluster(contact_points: list[str]) -> Cluster:
    """A driver as the benchmark writes with it: token-aware, DC-aware on DC1, LOCAL_QUORUM."""
    profile = ExecutionProfile(
        load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy("DC1")),
        consistency_level=ConsistencyLevel.LOCAL_QUORUM,
        request_timeout=10,
    )
    return Cluster(
        contact_points,
        protocol_version=4,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        connect_timeout=20,
        control_connection_timeout=20,
    )


def _session_writes(contact_points, count: int, offset: int, start, results) -> None:
    """One driver session in a process of its own (see :func:`driver_sessions`)."""
    cluster = writer_cluster(contact_points)
    session = cluster.connect()
    try:
        insert = session.prepare("INSERT INTO bench.kv (k, v) VALUES (?, ?)")
        chained_writes(session, insert, 2000, 8, offset=offset + 10**8)  # warm-up
        start.wait()  # every session connected and warm: they write together
        latencies = array("d")
        began, cpu = time.time(), time.process_time()
        result = chained_writes(session, insert, count, 8, offset, latencies)
        ended, cpu = time.time(), time.process_time() - cpu
    finally:
        cluster.shutdown()
    results.put({**result, "began": began, "ended": ended, "cpu_s": cpu, "rtt": list(latencies)})


def driver_sessions(sim, count: int, sessions: int = 2) -> dict:
    """``count`` INSERTs at LOCAL_QUORUM from ``sessions`` driver sessions at once, each in
    its own process with 8 in flight: one Python driver session is bound by its own CPU well
    below the simulator's rate at 1,000 nodes. The rate is over the sessions' common window;
    the percentiles are over every round trip."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(sessions + 1), context.Queue()
    contact_points = sim.contact_points("DC1")[:3]
    share = count // sessions
    workers = [
        context.Process(
            target=_session_writes, args=(contact_points, share, (i + 1) * 10**7, start, results)
        )
        for i in range(sessions)
    ]
    for worker in workers:
        worker.start()
    try:
        start.wait(timeout=120)
        sim_cpu = proc_figures(sim.process.pid)[0]
        runs = [results.get(timeout=300) for _ in workers]
        sim_cpu = proc_figures(sim.process.pid)[0] - sim_cpu
    finally:
        for worker in workers:
            worker.join(timeout=30)
    window = max(r["ended"] for r in runs) - min(r["began"] for r in runs)
    rtt = sorted(t for r in runs for t in r["rtt"])
    return {
        "sessions": sessions,
        "writes": share * sessions,
        "failures": sum(r["failures"] for r in runs),
        "writes_per_s": round(len(rtt) / window, 1),
        "median_ms": round(statistics.median(rtt) * 1000, 3),
        "p99_ms": round(percentile(rtt, 0.99) * 1000, 3),
        "max_ms": round(rtt[-1] * 1000, 3),
        "per_session_writes_per_s": [r["writes_per_s"] for r in runs],
        "simulator_cpu_us_per_write": round(sim_cpu / len(rtt) * 1e6, 1),
        "driver_cpu_us_per_write": round(sum(r["cpu_s"] for r in runs) / len(rtt) * 1e6, 1),
    }


# One driver session's two ways to keep 8 writes in flight: callback chains on the driver's
# event loop thread (its fastest, the headline) and submits from the application's thread.
PATTERNS = {"chained": chained_writes, "threaded": run_writes}


def writes(sim, count: int, rounds: int = 3) -> dict:
    """One driver session: ``rounds`` rounds after one warm-up, each a run of ``count`` INSERTs
    in each of :data:`PATTERNS`, so that a spell of the box shows as one round's figures and
    hits both patterns alike. The headline is the median chained round (by rate); the median
    threaded round and every round are kept."""
    cluster = writer_cluster(sim.contact_points("DC1")[:3])
    started = time.monotonic()
    session = cluster.connect()
    connected = time.monotonic() - started
    runs: dict[str, list[dict]] = {name: [] for name in PATTERNS}
    try:
        create_keyspace(session, "bench", "kv (k text PRIMARY KEY, v int)")
        insert = session.prepare("INSERT INTO bench.kv (k, v) VALUES (?, ?)")
        chained_writes(session, insert, 2000, 8, offset=10**8)  # warm-up
        for i in range(rounds):
            for j, (name, pattern) in enumerate(PATTERNS.items()):
                offset = (i * len(PATTERNS) + j) * 10**7
                runs[name].append(timed_writes(sim, pattern, session, insert, count, offset))
    finally:
        cluster.shutdown()
    kept = ("writes_per_s", "median_ms", "p99_ms")
    kept += ("simulator_cpu_us_per_write", "driver_cpu_us_per_write")
    figures = {
        name: {**median_round(rs), "rounds": [{k: r[k] for k in kept} for r in rs]}
        for name, rs in runs.items()
    }
    return {
        "driver_connect_s": round(connected, 2),
        "pattern": "chained",
        **figures.pop("chained"),
    } | figures


def median_round(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["writes_per_s"])[len(runs) // 2]


def timed_writes(sim, pattern, session, insert, count: int, offset: int) -> dict:
    """``count`` INSERTs in ``pattern``, 8 in flight: rate, round trips, and who is the limit:
    the CPU per write of the simulator and of the driver (its libev loop walks every pooled
    connection on each turn: one per DC1 node with this policy)."""
    sim_cpu, client_cpu = proc_figures(sim.process.pid)[0], time.process_time()
    result = pattern(session, insert, count, 8, offset)
    sim_cpu = proc_figures(sim.process.pid)[0] - sim_cpu
    client_cpu = time.process_time() - client_cpu
    return {
        **result,
        "simulator_cpu_us_per_write": round(sim_cpu / count * 1e6, 1),
        "driver_cpu_us_per_write": round(client_cpu / count * 1e6, 1),
    }


def raw_writes(sim, count: int) -> dict:
    """The simulator alone: one raw pipelined connection to a DC1 coordinator (32 in flight,
    the echo benchmark's client), so no driver cost hides the write path's at this size."""
    node = sim.contact_points("DC1")[0]
    statement_id = RawClient(node, 9042).prepare("INSERT INTO bench.kv (k, v) VALUES (?, ?)")
    return raw_rate(node, sim.process.pid, statement_id, count, 32, "raw")


def paced_writes(sim, rate: float, seconds: float) -> dict:
    """The issue's rate offered open-loop by a light client (four raw connections to DC1
    coordinators): the latencies the simulator gives at that rate when no driver shares its
    two cores."""
    hosts = sim.contact_points("DC1")[:4]
    statement_id = RawClient(hosts[0], 9042).prepare("INSERT INTO bench.kv (k, v) VALUES (?, ?)")
    for host in hosts[1:]:
        RawClient(host, 9042).prepare("INSERT INTO bench.kv (k, v) VALUES (?, ?)")
    cpu = proc_figures(sim.process.pid)[0]
    result = paced(hosts, statement_id, rate, seconds, "paced-")
    cpu = proc_figures(sim.process.pid)[0] - cpu
    return result | {"simulator_cpu_pct": round(cpu / seconds * 100, 1)}


def exporter_for(sim, node_address: str, listen: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(REPO / ".venv" / "bin" / "rackpanel"),
            "exporter",
            "--cassandra",
            f"{node_address}:9042",
            "--listen",
            listen,
            "--interval",
            "1",
            "--process-pattern",
            "none",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def exporter_down(url: str, rack_addresses: set[str]) -> set[str]:
    """Rack endpoints the exporter's page shows as down (cassandra_endpoint_up 0)."""
    down = set()
    for line in page(url).splitlines():
        if line.startswith("cassandra_endpoint_up{") and line.endswith(" 0.0"):
            for address in rack_addresses:
                if f'endpoint="{address}"' in line:
                    down.add(address)
    return down


def detector_down(address: str, port: int, rack_addresses: set[str]) -> bool:
    """Whether the node at ``address`` convicts every rack endpoint: its FailureDetector
    MBean's SimpleStates, through its Jolokia agent (what nodetool and the exporter read)."""
    bean = "org.apache.cassandra.net:type=FailureDetector/SimpleStates"
    try:
        with urllib.request.urlopen(
            f"http://{address}:{port}/jolokia/read/{bean}", timeout=5
        ) as response:
            states = json.load(response).get("value", {})
    except (OSError, ValueError):
        return False
    return all(states.get(f"/{a}") == "DOWN" for a in rack_addresses)


def model_down(sim, rack: set[str]) -> bool:
    """Every powered node's detector convicts every node of the rack."""
    state = sim.state(views="summary")
    powered = sum(1 for n in state["nodes"] if n["powered"])
    return all(n["views_summary"]["DOWN"] >= powered for n in state["nodes"] if n["name"] in rack)


def rack_cut(sim, octet: int) -> dict:
    inv = sim.inventory
    rack = [p for p in inv.nodes() if f"{p.dc}/{p.rack}" == RACK]
    names = {p.name for p in rack}
    addresses = {str(p.sim_address) for p in rack}
    dc2 = [str(p.sim_address) for p in inv.nodes() if p.dc == "DC2"]
    watcher = dc2[1]
    listen = f"127.{octet}.0.3:9500"
    exporter = exporter_for(sim, watcher, listen)
    cluster = driver_cluster(sim, "DC2", contact_points=dc2[:3], protocol_version=4)
    cluster.connect()
    url = f"http://{listen}/metrics"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and "cassandra_endpoint_up{" not in page(url):
            time.sleep(0.5)
        time.sleep(3)  # a few collections
        state = sim.state()
        formula = state["convict_after_silence_seconds"]
        hosts = [h for h in cluster.metadata.all_hosts() if h.address in addresses]
        # the node whose STATUS_CHANGE events the driver hears (its control connection) and the
        # exporter's node: when their own detectors convicted the rack, the driver and the
        # exporter can only learn it later (how much later: the delivery, not the detection)
        control = cluster.control_connection._connection.endpoint.address
        jolokia = inv.ports.jolokia
        observers = {"driver_observer": control, "exporter_observer": watcher}
        seen: dict[str, float] = {}
        cut = time.monotonic()
        sim.power("off", RACK)
        while time.monotonic() - cut < 90 and len(seen) < 5:
            now = time.monotonic() - cut
            if "model" not in seen and model_down(sim, names):
                seen["model"] = now
            if "driver" not in seen and hosts and all(h.is_up is False for h in hosts):
                seen["driver"] = now
            if "exporter" not in seen and exporter_down(url, addresses) == addresses:
                seen["exporter"] = now
            for key, observer in observers.items():
                if key not in seen and detector_down(observer, jolokia, addresses):
                    seen[key] = now
            time.sleep(0.1)
        sim.power("on", RACK)
    finally:
        cluster.shutdown()
        exporter.terminate()
        exporter.wait(10)
    return {
        "rack": RACK,
        "nodes": len(rack),
        "mean_arrival_interval_s": state["mean_arrival_interval_seconds"],
        "formula_silence_s": formula,
        "seen_down_s": {k: round(v, 2) for k, v in seen.items()},
        "vs_formula": {k: round(v / formula - 1, 3) for k, v in seen.items()},
        # after the observer's own detector convicted the whole rack (Jolokia, polled 0.1 s)
        "after_own_detector_s": {
            who: round(seen[who] - seen[f"{who}_observer"], 2)
            for who in ("driver", "exporter")
            if who in seen and f"{who}_observer" in seen
        },
    }


def page(url: str) -> str:
    """The text at ``url`` (an exporter's /metrics), or "" when it does not answer."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()
    except OSError:
        return ""


def engine(size: int, threshold: float, seconds: int = 60) -> dict:
    """The gossip engine alone, on simulated time (no event loop, no sockets): CPU per
    simulated second, false convictions in steady state, and a rack of 25 cut."""
    import numpy as np
    from rackpanel.simulator.cluster.gossip import PHI_FACTOR, Gossip

    half = size // 2
    gossip = Gossip(
        size,
        interval=1.0,
        phi_convict_threshold=threshold,
        dcs=[0] * half + [1] * (size - half),
        seeds=[0, half],
        now=0.0,
        rng_seed=18,
    )
    for i in range(size):
        gossip.start(i, 1_700_000_000, 15, alone=False)
    gossip.all_up(0.0)
    cpu = time.process_time()
    false_downs = 0
    for second in range(1, seconds + 1):
        false_downs += sum(1 for c in gossip.advance(float(second)) if not c.up)
    cpu = (time.process_time() - cpu) / seconds
    mean = gossip.typical_mean_interval()
    rack = range(25, 50)
    cut = seconds + 0.05
    gossip.advance(cut)
    gossip.powered[list(rack)] = False
    convicted: dict[tuple[int, int], float] = {}
    silence: list[float] = []  # per pair: last arrival -> conviction, over the pair's formula
    t = cut
    while t < cut + 90 and len(convicted) < 25 * (size - 25):
        t += gossip.slot_len  # one slot at a time: a conviction happens at this slot's time
        for change in gossip.advance(t):
            pair = (change.observer, change.endpoint)
            if not change.up and change.endpoint in rack and pair not in convicted:
                convicted[pair] = t - cut
                quiet = gossip._rel(t) - float(gossip.last[pair])
                needed = threshold / PHI_FACTOR * gossip.mean_interval(*pair)
                silence.append(quiet / needed)
    delays = np.array(list(convicted.values()))
    ratios = np.array(silence)
    return {
        "nodes": size,
        "phi_convict_threshold": threshold,
        "cpu_s_per_simulated_s": round(cpu, 4),
        "false_convictions_per_minute": round(false_downs / seconds * 60),
        "pairs": size * (size - 1),
        "mean_arrival_interval_s": round(mean, 3),
        "formula_silence_s": round(threshold / PHI_FACTOR * mean, 2),
        "rack_cut_convicted_pairs": len(convicted),
        "rack_cut_s": {
            "median": round(float(np.median(delays)), 2),
            "p5": round(float(np.percentile(delays, 5)), 2),
            "p95": round(float(np.percentile(delays, 95)), 2),
            "max": round(float(delays.max()), 2),
        },
        # FailureDetector.interpret's own test, per pair: the silence since the last arrival
        # at conviction over threshold x ln 10 x that pair's mean (1.0 = the formula exactly;
        # the status check runs once a round, so up to one interval later)
        "silence_over_formula": {
            "median": round(float(np.median(ratios)), 3),
            "p5": round(float(np.percentile(ratios, 5)), 3),
            "p95": round(float(np.percentile(ratios, 95)), 3),
            "max": round(float(ratios.max()), 3),
        },
    }


def measure(size: int, idle_seconds: float, count: int, detector: str = "fast") -> dict:
    octet = loopback_octet()
    with tempfile.TemporaryDirectory() as tmp:
        path = inventory_for(size, Path(tmp), octet)
        launched = time.monotonic()
        admin = f"127.{octet}.0.1:9499"
        with running_simulator(path, failure_detector=detector, admin=admin) as sim:
            ready = time.monotonic() - launched
            pid = sim.process.pid
            figures = {"nodes": size, "failure_detector": detector, "ready_s": round(ready, 2)}
            figures["idle"] = idle(pid, idle_seconds)
            figures["writes"] = writes(sim, count)
            figures["two_driver_sessions"] = driver_sessions(sim, 2 * count)
            figures["raw_writes"] = raw_writes(sim, 3 * count)
            figures["paced_writes"] = paced_writes(sim, TARGETS["writes_per_s"], 20.0)
            figures["rss_after_writes_mb"] = round(proc_figures(pid)[1] / 1024 / 1024, 1)
            figures["rack_cut"] = rack_cut(sim, octet)
    print(json.dumps(figures), flush=True)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="9,200,1000")
    parser.add_argument("--idle", type=float, default=120.0, help="idle window, seconds")
    parser.add_argument("--writes", type=int, default=20000)
    parser.add_argument(
        "--failure-detector",
        choices=["fast", "realistic"],
        default="fast",
        help="the simulator's detector: fast (phi 2, the panel's) or realistic (phi 8, "
        "Cassandra's default); realistic runs are kept as nodes_<N>_realistic",
    )
    parser.add_argument(
        "--engine", action="store_true", help="only the gossip engine on simulated time"
    )
    args = parser.parse_args()
    if args.engine:
        figures = [engine(int(n), phi) for n in args.sizes.split(",") for phi in (2.0, 8.0)]
        previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        previous["engine"] = figures
        write_results(RESULTS, previous)
        print(json.dumps(figures))
        return 0
    load = [os.getloadavg()[0]]
    detector = args.failure_detector
    runs = [measure(int(n), args.idle, args.writes, detector) for n in args.sizes.split(",")]
    load.append(os.getloadavg()[0])
    result = {
        "benchmark": "sim_scale",
        "machine": machine(load_average_before_after=load),
        "setup": {
            "failure_detector": {
                "fast": "fast (phi 2, gossip 1 s)",
                "realistic": "realistic (phi 8, gossip 1 s)",
            }[detector],
            "writes": f"{args.writes} prepared INSERTs, LOCAL_QUORUM, 8 in flight, protocol v4",
            "idle_window_s": args.idle,
        },
        "targets": TARGETS,
        "runs": runs,
        "median_write_p99_ms": statistics.median(r["writes"]["p99_ms"] for r in runs),
    }
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    suffix = "" if detector == "fast" else f"_{detector}"
    previous.update({f"nodes_{r['nodes']}{suffix}": r for r in runs})
    previous[f"last_run{suffix}"] = {k: v for k, v in result.items() if k != "runs"}
    write_results(RESULTS, previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())

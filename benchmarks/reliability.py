"""Reliability figures for docs/reliability.md: chaos durability, HTTP fuzzing, bad inputs.

Three parts, each against the real programs: a `rackpanel sim` process on a loopback range of
its own (tests/support/lab.py), `rackpanel exporter` and `rackpanel writer` processes, the
`rackpanel` CLI.

- chaos: one cassandra-driver client writes unique keys at QUORUM (RF 3+3) while a chaos loop
  powers off random nodes and racks, crashes nodes and cuts the DC link, then restores them;
  at the end everything is restored (`POST /reset` replays the hints) and every acknowledged
  key is read back at ALL. Figures: writes acknowledged, cuts, acknowledged writes lost.
- fuzz: malformed and random HTTP requests to the simulator's admin API, the exporter's and
  the writer's ports, each on its own connection. A case passes when the server answers or
  closes within its request deadline (10 s) plus 5 s; the run passes when every server still
  answers a good request afterwards and no traceback is in any log.
- bad inputs: the inventory catalogue of tests/support/bad_inputs.py through
  `rackpanel generate --check --inventory FILE`, and bad exporter and writer settings. A case
  passes when the command exits 2 with a message of at most 25 lines naming the file or the
  option, and no traceback.

    .venv/bin/python -m benchmarks.reliability [--chaos-seconds 60] [--fuzz-random 150]
    .venv/bin/python -m benchmarks.reliability --render-only   # docs from the last results
Writes benchmarks/results/reliability.json and regenerates docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rackpanel.simulator.cluster.admin_client import AdminClient

from benchmarks.harness import machine, write_results
from benchmarks.reliability_doc import render_doc
from tests.support.bad_inputs import CASES
from tests.support.inventories import shifted_inventory
from tests.support.lab import free_port, loopback_octet
from tests.support.processes import stop_process
from tests.support.sim import create_keyspace, running_simulator

REPO = Path(__file__).resolve().parent.parent

OCTET = loopback_octet()
ADMIN = f"127.{OCTET}.0.1:9499"
RESULTS = REPO / "benchmarks" / "results" / "reliability.json"
DOC = REPO / "docs" / "reliability.md"
RACKPANEL = [sys.executable, "-m", "rackpanel"]
MAX_LINES = 25


# ---- chaos ------------------------------------------------------------------------------------


def chaos(sim, seconds: float, seed: int) -> dict:
    from cassandra import ConsistencyLevel
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import DCAwareRoundRobinPolicy, FallthroughRetryPolicy
    from cassandra.query import SimpleStatement

    rng = random.Random(seed)
    admin = AdminClient(ADMIN)
    profile = ExecutionProfile(
        load_balancing_policy=DCAwareRoundRobinPolicy("DC1", used_hosts_per_remote_dc=3),
        consistency_level=ConsistencyLevel.QUORUM,
        retry_policy=FallthroughRetryPolicy(),  # an error is an error: no hidden retries
        request_timeout=3,
    )
    cluster = Cluster(
        sim.contact_points(),
        protocol_version=4,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        connect_timeout=2,
    )
    session = cluster.connect()
    create_keyspace(session, "chaos", "kv (k text PRIMARY KEY, v int)")
    insert = session.prepare("INSERT INTO chaos.kv (k, v) VALUES (?, ?)")
    nodes = [p.name for p in sim.inventory.nodes()]
    racks = sorted({f"{p.dc}/{p.rack}" for p in sim.inventory.nodes()})
    acked: list[str] = []
    errors: Counter[str] = Counter()
    cuts: Counter[str] = Counter()
    lock = threading.Lock()
    slots = threading.Semaphore(8)
    stop = threading.Event()

    def chaos_loop() -> None:
        while not stop.is_set():
            kind = rng.choice(["node", "node-crash", "rack", "link"])
            target = {
                "node": lambda: rng.choice(nodes),
                "node-crash": lambda: rng.choice(nodes),
                "rack": lambda: rng.choice(racks),
                "link": lambda: "link:DC1-DC2",
            }[kind]()
            admin.power("off", target, crash=kind == "node-crash")
            cuts[kind] += 1
            stop.wait(rng.uniform(0.5, 4.0))
            admin.power("on", target)
            stop.wait(rng.uniform(0.2, 1.5))

    def done(key: str, error: BaseException | None) -> None:
        with lock:
            if error is None:
                acked.append(key)
            else:
                errors[type(error).__name__] += 1
        slots.release()

    chaos_thread = threading.Thread(target=chaos_loop, daemon=True)
    chaos_thread.start()
    began, i = time.monotonic(), 0
    while time.monotonic() - began < seconds:
        slots.acquire()
        key = f"k{i}"
        future = session.execute_async(insert, (key, i))
        future.add_callbacks(lambda _r, k=key: done(k, None), lambda exc, k=key: done(k, exc))
        i += 1
    for _ in range(8):
        slots.acquire()
    stop.set()
    chaos_thread.join(10)
    replayed = admin.reset()["hints_replayed"]
    time.sleep(2)  # the driver sees the nodes up again
    select = SimpleStatement(
        "SELECT v FROM chaos.kv WHERE k = %s", consistency_level=ConsistencyLevel.ALL
    )
    lost = [k for k in acked if not session.execute(select, (k,)).one()]
    cluster.shutdown()
    return {
        "seconds": seconds,
        "seed": seed,
        "writes": i,
        "acked": len(acked),
        "failed": dict(errors),
        "cuts": dict(cuts),
        "cuts_total": sum(cuts.values()),
        "hints_replayed_at_reset": replayed,
        "acked_lost": len(lost),
        "lost_examples": lost[:10],
    }


# ---- fuzz -------------------------------------------------------------------------------------

FIXED = {
    "text/plain power cut": b"POST /power HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain"
    b'\r\nContent-Length: 36\r\n\r\n{"action":"off","target":"DC1/RAC1"}',
    "foreign Host": b"GET /state HTTP/1.1\r\nHost: evil.example\r\n\r\n",
    "Content-Length abc": b"POST /x HTTP/1.1\r\nHost: {host}\r\nContent-Length: abc\r\n\r\n",
    "Content-Length -1": b"POST /x HTTP/1.1\r\nHost: {host}\r\nContent-Length: -1\r\n\r\n",
    "Content-Length 10^12": b"POST /x HTTP/1.1\r\nHost: {host}\r\nContent-Length: "
    b"1000000000000\r\n\r\n",
    "body shorter than its length": b"POST /x HTTP/1.1\r\nHost: {host}\r\n"
    b"Content-Length: 10\r\n\r\nab",
    "half a request": b"GET /metrics HTTP/1.1\r\nHost: {host}\r\n",
    "HTTP/0.9": b"GET /metrics\r\n",
    "DELETE": b"DELETE /metrics HTTP/1.1\r\nHost: {host}\r\n\r\n",
    "nested JSON": b"POST /power HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
    b"Content-Length: 40000\r\n\r\n" + b"[" * 20000 + b"]" * 20000,
    "5 MB body": b"POST /power HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
    b"Content-Length: 5242880\r\n\r\n" + b"x" * 5242880,
    "chunked": b"POST /x HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n",
    "garbage line": b"\x00\xff\xfe NONSENSE\r\n\r\n",
}
METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "BREW", "", "G\x00T"]
PATHS = ["/", "/metrics", "/lcd", "/state", "/power", "/reset", "/keypad/select", "/%00", "*"]


def random_request(rng: random.Random, host: str) -> bytes:
    if rng.random() < 0.15:
        return rng.randbytes(rng.randint(1, 2000))
    method, path = rng.choice(METHODS), rng.choice(PATHS)
    version = rng.choice(["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1", ""])
    headers = [f"Host: {rng.choice([host, 'evil.example', ''])}"]
    body = rng.randbytes(rng.randint(0, 300)) if rng.random() < 0.5 else b'{"action": "on"}'
    length = rng.choice([str(len(body)), str(len(body) + 50), "-5", "x", "99999999999", ""])
    if length:
        headers.append(f"Content-Length: {length}")
    for _ in range(rng.randint(0, 4)):
        headers.append(rng.choice(["Content-Type: application/json", "Origin: http://a.b",
                                   "Connection: close", "Expect: 100-continue",
                                   "X-" + "a" * rng.randint(1, 70000) + ": 1"]))  # fmt: skip
    head = f"{method} {path} {version}\r\n" + "\r\n".join(headers) + "\r\n\r\n"
    data = head.encode("latin-1", "replace") + body
    if rng.random() < 0.2:
        data = data[: rng.randint(0, len(data))]
    return data


def one_case(address: tuple[str, int], data: bytes, limit: float) -> str:
    began, first = time.monotonic(), b""
    try:
        with socket.create_connection(address, timeout=limit) as s:
            try:
                s.sendall(data)
            except OSError:
                return "closed"
            while chunk := s.recv(65536):
                if not first:  # answered: the rest, if any, soon (keep-alive may not close)
                    first = chunk
                    s.settimeout(1.0)
    except TimeoutError:
        if not first:  # no answer and no close within the limit
            return "hung" if time.monotonic() - began >= limit else "closed"
    except OSError:
        pass
    # an answered request may stay open (keep-alive): answering is what counts
    status = first.split(b" ")[1].decode("latin-1") if first.count(b" ") else ""
    return f"answered {status}" if first else "closed"


def answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def fuzz_server(address: tuple[str, int], good: str, *, randoms: int, seed: int, name: str) -> dict:
    rng = random.Random(seed)
    host = f"{address[0]}:{address[1]}"
    outcomes: Counter[str] = Counter()
    hung: list[str] = []
    cases = [(label, data.replace(b"{host}", host.encode())) for label, data in FIXED.items()]
    cases += [(f"random #{n}", random_request(rng, host)) for n in range(randoms)]
    with ThreadPoolExecutor(8) as pool:  # 8 clients at once: the cases wait on deadlines
        results = list(pool.map(lambda case: one_case(address, case[1], limit=15.0), cases))
    for (label, _), outcome in zip(cases, results, strict=True):
        outcomes[outcome.split(" ")[0]] += 1
        if outcome == "hung":
            hung.append(label)
    return {
        "server": name,
        "cases": len(cases),
        "answered": outcomes["answered"],
        "closed": outcomes["closed"],
        "hung": len(hung),
        "hung_cases": hung[:10],
        "still_answering": answers(good),
    }


def fuzz(sim, randoms: int, seed: int, logs: Path) -> dict:
    k = OCTET
    exporter_at = (f"127.{k}.11.1", free_port(f"127.{k}.11.1"))
    writer_at = (f"127.{k}.10.1", free_port(f"127.{k}.10.1"))
    exporter_log, writer_log = logs / "exporter.log", logs / "writer.log"
    processes = [
        subprocess.Popen(
            [*RACKPANEL, "exporter", "--cassandra", f"127.{k}.11.1:9042", "--jolokia", "none",
             "--listen", f"{exporter_at[0]}:{exporter_at[1]}", "--interval", "1"],
            stdout=exporter_log.open("wb"), stderr=subprocess.STDOUT, cwd=REPO,
        ),
        subprocess.Popen(
            [*RACKPANEL, "writer", "--name", "fuzzuser", "--local-dc", "DC1",
             "--contact-points", *sim.contact_points("DC1"), "--keypad-api",
             "--listen", f"{writer_at[0]}:{writer_at[1]}", "--source-address", writer_at[0]],
            stdout=writer_log.open("wb"), stderr=subprocess.STDOUT, cwd=REPO,
        ),
    ]  # fmt: skip
    try:
        exporter_url = f"http://{exporter_at[0]}:{exporter_at[1]}/metrics"
        writer_url = f"http://{writer_at[0]}:{writer_at[1]}/lcd"
        deadline = time.monotonic() + 60
        while not (answers(exporter_url) and answers(writer_url)):
            if time.monotonic() > deadline:
                raise RuntimeError("exporter or writer did not start")
            time.sleep(0.5)
        host, port = ADMIN.split(":")
        targets = [
            ("simulator admin API", (host, int(port)), f"http://{ADMIN}/health"),
            ("exporter", exporter_at, exporter_url),
            ("writer", writer_at, writer_url),
        ]
        with ThreadPoolExecutor(len(targets)) as pool:
            servers = list(
                pool.map(lambda t: fuzz_server(*t[1:], randoms=randoms, seed=seed, name=t[0]),
                         targets)
            )  # fmt: skip
    finally:
        for process in processes:
            stop_process(process)
    texts = [exporter_log.read_text(errors="replace"), writer_log.read_text(errors="replace"),
             sim.log_path.read_text(errors="replace")]  # fmt: skip
    tracebacks = sum(text.count("Traceback") for text in texts)
    cases = sum(s["cases"] for s in servers)
    passed = sum(s["cases"] - s["hung"] for s in servers)
    return {"servers": servers, "cases": cases, "passed": passed, "tracebacks": tracebacks}


# ---- bad inputs -------------------------------------------------------------------------------


def judge(done: subprocess.CompletedProcess[str], names: list[str]) -> bool:
    err = done.stderr
    return (
        done.returncode == 2
        and "Traceback" not in err
        and len(err.splitlines()) <= MAX_LINES
        and any(name in err for name in names)
    )


def bad_settings(folder: Path) -> list[tuple[str, list[str], list[str]]]:
    garbage = folder / "garbage.pem"
    garbage.write_text("not a certificate\n")
    latin = folder / "latin.txt"
    latin.write_bytes(b"caf\xe9\n")
    listen = f"127.{OCTET}.30.1:{free_port(f'127.{OCTET}.30.1')}"
    exporter = [*RACKPANEL, "exporter", "--listen", listen, "--jolokia", "none"]
    writer = [*RACKPANEL, "writer", "--name", "w", "--local-dc", "DC1", "--display", "none"]
    return [
        ("exporter: garbage certificate", [*exporter, "--tls-cert", str(garbage),
                                           "--tls-key", str(garbage)], ["--tls-cert"]),
        ("exporter: certificate is a folder", [*exporter, "--tls-cert", str(folder),
                                               "--tls-key", str(garbage)], ["--tls-cert"]),
        ("exporter: missing key", [*exporter, "--tls-cert", str(garbage)], ["--tls-key"]),
        ("exporter: --listen nonsense", [*exporter, "--listen", "here"], ["--listen"]),
        ("exporter: --interval -1", [*exporter, "--interval", "-1"], ["--interval"]),
        ("exporter: --password-file missing", [*exporter, "--username", "u", "--password-file",
                                               str(folder / "none")], ["--password-file"]),
        ("exporter: --password-file not UTF-8", [*exporter, "--username", "u",
                                                 "--password-file", str(latin)],
         ["--password-file"]),
        ("exporter: --basic-auth-file not UTF-8", [*exporter, "--basic-auth-file", str(latin)],
         ["basic-auth"]),
        ("writer: --listen nonsense", [*writer, "--contact-points", "127.0.0.1",
                                       "--listen", "here:port"], ["--listen"]),
        ("writer: --password-file not UTF-8", [*writer, "--contact-points", "127.0.0.1",
                                               "--username", "u", "--password-file",
                                               str(latin)], ["--password-file"]),
        ("writer: --write-cl NINE", [*writer, "--contact-points", "127.0.0.1",
                                     "--write-cl", "NINE"], ["NINE"]),
    ]  # fmt: skip


def bad_inputs() -> dict:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            folder = Path(tempfile.mkdtemp(dir=tmp))
            path = case.make(folder)
            argv = [*RACKPANEL, "generate", "--check", "--inventory", str(path)]
            done = subprocess.run(
                [*argv, "--root", str(folder)],
                capture_output=True,
                text=True,
                timeout=120,
                cwd=REPO,
            )
            results.append({"case": f"inventory: {case.name}", "ok": judge(done, [str(path)])})
        for name, argv, names in bad_settings(Path(tmp)):
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=REPO)
            results.append({"case": name, "ok": judge(done, names),
                            "exit": done.returncode})  # fmt: skip
    return {
        "cases": len(results),
        "passed": sum(r["ok"] for r in results),
        "failed": [r["case"] for r in results if not r["ok"]],
        "inventory_cases": len(CASES),
    }


# ---- main -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chaos-seconds", type=float, default=60.0)
    parser.add_argument("--fuzz-random", type=int, default=150, help="random cases per server")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--render-only", action="store_true")
    args = parser.parse_args()
    if args.render_only:
        DOC.write_text(render_doc(json.loads(RESULTS.read_text())))
        return 0
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        path = shifted_inventory(Path(tmp), OCTET, simulator={"admin_address": ADMIN})
        with running_simulator(path, failure_detector="fast", admin=ADMIN) as sim:
            chaos_result = chaos(sim, args.chaos_seconds, args.seed)
            fuzz_result = fuzz(sim, args.fuzz_random, args.seed, Path(tmp))
    inputs = bad_inputs()
    load.append(os.getloadavg()[0])
    result = {
        "benchmark": "reliability",
        "machine": machine(load_average_before_after=load),
        "chaos": chaos_result,
        "fuzz": fuzz_result,
        "bad_inputs": inputs,
    }  # fmt: skip
    written = write_results(RESULTS, result)
    DOC.write_text(render_doc(json.loads(written.read_text())))  # as --render-only reads it
    summary = {
        "acked": chaos_result["acked"], "cuts": chaos_result["cuts_total"],
        "acked_lost": chaos_result["acked_lost"], "fuzz": f"{fuzz_result['passed']}/"
        f"{fuzz_result['cases']}", "tracebacks": fuzz_result["tracebacks"],
        "bad_inputs": f"{inputs['passed']}/{inputs['cases']}",
    }  # fmt: skip
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())

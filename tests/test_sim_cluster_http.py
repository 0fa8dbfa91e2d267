"""The admin API, the per-node Jolokia endpoints and `rackpanel power`, over real HTTP.

The cluster runs on its own asyncio loop in a background thread (as in the simulator
process); the tests talk to it only through sockets and the CLI, on 127.147.x.y addresses so
they never meet the session simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rackpanel.simulator.cluster import SimCluster
from rackpanel.simulator.cluster.admin import TOKEN_ENV, AdminRefused, start_admin
from rackpanel.simulator.cluster.admin_client import AdminClient, AdminError
from rackpanel.simulator.cluster.http import HttpServer, Request, Response
from rackpanel.simulator.cluster.jolokia import start_jolokia
from rackpanel.simulator.core import ConsistencyLevel as CL
from rackpanel.simulator.core import Mutation, Unavailable
from rackpanel.topology import load_inventory
from rackpanel.topology.model import DEFAULT_CASSANDRA_VERSION

from tests.support.inventories import REPO, shifted_inventory
from tests.support.lab import free_port, loopback_octet
from tests.support.waiting import wait_for
from tests.test_sim_cluster import REPLICATION, fast_cluster

SECOND_OCTET = loopback_octet()
JOLOKIA_PORT = 8778


@dataclass
class Served:
    cluster: SimCluster
    loop: asyncio.AbstractEventLoop
    admin: str  # host:port

    def call(self, coro, timeout: float = 10.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def jolokia(self, node: str) -> str:
        return f"http://{self.cluster.node(node).address}:{JOLOKIA_PORT}/jolokia/"


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    inventory = load_inventory(shifted_inventory(tmp_path_factory.mktemp("inv"), SECOND_OCTET))
    cluster = fast_cluster(inventory)
    loop = asyncio.new_event_loop()
    port = free_port()
    servers = []

    async def boot() -> None:
        await cluster.start()
        servers.append(await start_admin(cluster, "127.0.0.1", port))
        for node in cluster.nodes:
            servers.append(await start_jolokia(cluster, node, port=JOLOKIA_PORT))

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(boot(), loop).result(10)
    served = Served(cluster, loop, f"127.0.0.1:{port}")
    yield served

    async def shutdown() -> None:
        for server in servers:
            await server.stop()
        await cluster.stop()

    asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


@pytest.fixture
def fresh(served: Served) -> Served:
    http(f"http://{served.admin}/reset", {})
    return served


def http(url: str, body: object | None = None, timeout: float = 3.0) -> tuple[int, object]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


# ---- admin API -------------------------------------------------------------------------------


def test_state_shows_power_views_links_and_hints(fresh):
    status, health = http(f"http://{fresh.admin}/health")
    assert status == 200 and health["status"] == "ok"
    status, answer = http(f"http://{fresh.admin}/power", {"action": "off", "target": "DC1/RAC2"})
    assert status == 200 and answer["affected"] == ["rpidc1r2n1", "rpidc1r2n2"]

    def convicted() -> bool:
        nodes = {n["name"]: n for n in http(f"http://{fresh.admin}/state")[1]["nodes"]}
        return set(nodes["rpidc1r2n1"]["views"].values()) == {"DOWN", "UP"} and all(
            v == "DOWN"
            for o, v in nodes["rpidc1r2n1"]["views"].items()
            if o not in ("rpidc1r2n2",) and nodes[o]["powered"]
        )

    wait_for(convicted, 5, what="the conviction")
    fresh.call(
        fresh.cluster.write(
            fresh.cluster.node("rpidc2r1n1"),
            REPLICATION,
            [Mutation("ks", "t", b"k", (), {}, row_marker=1)],
            CL.ONE,
        )
    )
    _, state = http(f"http://{fresh.admin}/state")
    nodes = {n["name"]: n for n in state["nodes"]}
    assert nodes["rpidc1r2n1"]["powered"] is False and nodes["rpidc1r2n1"]["crashed"] is False
    assert nodes["rpidc1r2n1"]["address"] == f"127.{SECOND_OCTET}.12.1"
    assert state["links"] == [{"link": "link:DC1-DC2", "up": True}]
    held = [h for h in state["hints"] if h["holder"] == "rpidc2r1n1"]
    assert held and {h["target"] for h in held} <= {"rpidc1r2n1", "rpidc1r2n2"}
    status, _ = http(f"http://{fresh.admin}/reset", {})
    _, state = http(f"http://{fresh.admin}/state")
    assert all(n["powered"] for n in state["nodes"]) and state["hints"] == []
    assert all(v == "UP" for n in state["nodes"] for v in n["views"].values())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"action": "off", "target": "DC1/RAC7"}, "unknown power target 'DC1/RAC7'"),
        ({"action": "off", "target": "link:DC1-DC9"}, "unknown link 'link:DC1-DC9'"),
        ({"action": "explode", "target": "DC1"}, '"action" must be "off" or "on"'),
        ({"action": "off"}, '"target" must be a non-empty string'),
        ({"action": "on", "target": "DC1", "crash": True}, '"crash" only applies'),
        ([1, 2], "expects a JSON object"),
    ],
)
def test_bad_power_requests_are_400_naming_the_fault(fresh, body, message):
    status, answer = http(f"http://{fresh.admin}/power", body)
    assert status == 400 and message in answer["error"]


def test_unknown_routes_and_methods(fresh):
    assert http(f"http://{fresh.admin}/nope")[0] == 404
    assert http(f"http://{fresh.admin}/state", {})[0] == 405
    with socket.create_connection(fresh.admin.split(":")) as s:  # garbage: 400, still serving
        s.sendall(b"NONSENSE\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 400")
    assert http(f"http://{fresh.admin}/health")[0] == 200


def raw_exchange(address: str, data: bytes, timeout: float = 5.0) -> bytes:
    """Send ``data`` on a fresh connection; everything answered until the server closes."""
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        with contextlib.suppress(OSError):
            s.sendall(data)
        chunks = []
        with contextlib.suppress(OSError):
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


def post(address: str, path: str, body: bytes, **headers: str) -> bytes:
    head = {"Host": address, "Content-Type": "application/json", **headers}
    lines = "".join(f"{k}: {v}\r\n" for k, v in head.items() if v)
    request = f"POST {path} HTTP/1.1\r\n{lines}Content-Length: {len(body)}\r\nConnection: close"
    return raw_exchange(address, request.encode() + b"\r\n\r\n" + body)


CUT = json.dumps({"action": "off", "target": "DC1/RAC1"}).encode()


def test_a_web_page_cannot_cut_a_node(fresh):
    # a form or fetch() from any page may send text/plain without a preflight
    answer = post(fresh.admin, "/power", CUT, **{"Content-Type": "text/plain"})
    assert answer.startswith(b"HTTP/1.1 415")
    answer = post(fresh.admin, "/power", CUT, Origin="http://evil.example")
    assert answer.startswith(b"HTTP/1.1 403") and b"cross-origin" in answer
    assert fresh.cluster.node("rpidc1r1n1").powered
    answer = post(fresh.admin, "/power", CUT, Origin=f"http://{fresh.admin}")
    assert answer.startswith(b"HTTP/1.1 200") and not fresh.cluster.node("rpidc1r1n1").powered


def test_dns_rebinding_is_refused_by_the_host_check(fresh):
    port = fresh.admin.split(":")[1]
    for host in (f"evil.example:{port}", "evil.example", "", f"127.0.0.2:{port}"):
        head = f"GET /state HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        assert raw_exchange(fresh.admin, head.encode()).startswith(b"HTTP/1.1 421"), host
    for host in (fresh.admin, f"localhost:{port}"):
        head = f"GET /state HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        assert raw_exchange(fresh.admin, head.encode()).startswith(b"HTTP/1.1 200"), host


def test_nested_json_and_big_bodies_get_400_and_413(fresh):
    answer = post(fresh.admin, "/power", b"[" * 100_000 + b"]" * 100_000)
    assert answer.startswith(b"HTTP/1.1 4")  # 413 (over 64 KiB) or 400: never a 500
    answer = post(fresh.admin, "/power", b"[" * 20_000 + b"]" * 20_000)
    assert answer.startswith(b"HTTP/1.1 400") and b"nested too deeply" in answer
    answer = post(fresh.admin, "/power", b"x" * (5 * 1024 * 1024))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:80]
    assert http(f"http://{fresh.admin}/health")[0] == 200


def test_reset_replays_pending_hints_instead_of_dropping_them(fresh):
    assert http(f"http://{fresh.admin}/power", {"action": "off", "target": "rpidc1r1n1"})[0] == 200
    holder = fresh.cluster.node("rpidc2r1n1")
    mutation = Mutation("ks", "t", b"hinted", (), {}, row_marker=1)
    wait_for(lambda: not fresh.cluster.is_alive(holder, fresh.cluster.node("rpidc1r1n1")), 15)
    fresh.call(fresh.cluster.write(holder, REPLICATION, [mutation], CL.ONE))
    assert any(h["target"] == "rpidc1r1n1" for h in http(f"http://{fresh.admin}/state")[1]["hints"])
    status, answer = http(f"http://{fresh.admin}/reset", {})
    assert status == 200 and answer["hints_replayed"] >= 1
    target = fresh.cluster.node("rpidc1r1n1")
    assert fresh.cluster._store(target).partition("ks", "t", b"hinted") is not None


def test_a_token_guards_every_endpoint_but_health(fresh):
    port = free_port()
    server = fresh.call(start_admin(fresh.cluster, "127.0.0.1", port, token="s3cret"))
    try:
        address = f"127.0.0.1:{port}"
        assert http(f"http://{address}/health")[0] == 200
        assert http(f"http://{address}/state")[0] == 401
        with pytest.raises(AdminError, match="Authorization: Bearer") as refused:
            AdminClient(address, token="wrong").power("off", "DC2")
        assert refused.value.status == 401 and fresh.cluster.node("rpidc2r1n1").powered
        assert AdminClient(address, token="s3cret").power("off", "DC2")["affected"]
    finally:
        fresh.call(server.stop())


def test_a_non_loopback_admin_address_needs_a_token(fresh, tmp_path):
    with pytest.raises(AdminRefused, match="RACKPANEL_ADMIN_TOKEN"):
        fresh.call(start_admin(fresh.cluster, "0.0.0.0", free_port(), token=""))
    inventory = shifted_inventory(tmp_path, SECOND_OCTET)
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    done = subprocess.run(
        [sys.executable, "-m", "rackpanel", "sim", "-i", str(inventory), "--admin", "0.0.0.0:1"],
        capture_output=True, text=True, timeout=60, env=env, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 2 and "RACKPANEL_ADMIN_TOKEN" in done.stderr
    assert "Traceback" not in done.stderr


async def _echo(request: Request) -> Response:
    return Response(200, {"path": request.path})


def test_half_sent_and_slow_requests_are_dropped(fresh):
    port = free_port()
    server = HttpServer(_echo, "127.0.0.1", port, request_timeout=0.5, idle_timeout=1.0)
    fresh.call(server.start())
    address = f"127.0.0.1:{port}"
    try:
        began = time.monotonic()
        answer = raw_exchange(address, b"GET /x HTTP/1.1\r\nHost: a\r\n")  # never finished
        assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - began < 3
        began = time.monotonic()
        answer = raw_exchange(address, b"POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nab")
        assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - began < 3
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:  # 1 byte a second
            began = time.monotonic()
            with contextlib.suppress(OSError):
                for byte in b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n":
                    s.sendall(bytes([byte]))
                    time.sleep(0.2)
            assert time.monotonic() - began < 3
        began = time.monotonic()
        assert raw_exchange(address, b"") == b""  # idle: closed after idle_timeout
        assert time.monotonic() - began < 3
    finally:
        fresh.call(server.stop())


# ---- Jolokia -----------------------------------------------------------------------------------

BEANS = [
    ("java.lang:type=Memory", ["HeapMemoryUsage", "NonHeapMemoryUsage"]),
    ("java.lang:type=Threading", ["ThreadCount"]),
    (
        "org.apache.cassandra.net:type=FailureDetector",
        ["SimpleStatesWithPort", "UpEndpointCount", "DownEndpointCount", "PhiValuesWithPort"],
    ),
    (
        "org.apache.cassandra.db:type=StorageService",
        ["LiveNodesWithPort", "UnreachableNodesWithPort", "OperationMode"],
    ),
    (
        "org.apache.cassandra.metrics:type=ClientRequest,scope=Write-LOCAL_QUORUM,name=Unavailables",
        ["Count"],
    ),
]


def test_bulk_read_answers_every_bean_in_order(fresh):
    body = [{"type": "read", "mbean": m, "attribute": a} for m, a in BEANS]
    body.append(
        {
            "type": "read",
            "mbean": "java.lang:type=GarbageCollector,name=*",
            "attribute": ["CollectionCount", "CollectionTime"],
        }
    )
    body.append({"type": "read", "mbean": "org.apache.cassandra.db:type=Nope"})
    status, answers = http(fresh.jolokia("rpidc1r1n1"), body)
    assert status == 200 and len(answers) == len(body)
    for (mbean, attrs), answer in zip(BEANS, answers, strict=False):
        assert answer["status"] == 200, answer
        assert answer["request"]["mbean"] == mbean and set(answer["value"]) == set(attrs)
    memory = answers[0]["value"]["HeapMemoryUsage"]
    assert 0 < memory["used"] <= memory["committed"] <= memory["max"]
    fd = answers[2]["value"]
    assert fd["UpEndpointCount"] == 9 and fd["DownEndpointCount"] == 0
    assert fd["SimpleStatesWithPort"][f"/127.{SECOND_OCTET}.21.3:7000"] == "UP"
    assert answers[3]["value"]["OperationMode"] == "NORMAL"
    gcs = answers[-2]["value"]
    assert set(gcs) == {
        "java.lang:name=G1 Old Generation,type=GarbageCollector",
        "java.lang:name=G1 Young Generation,type=GarbageCollector",
    }
    assert answers[-1]["status"] == 404
    assert answers[-1]["error_type"] == "javax.management.InstanceNotFoundException"


def test_get_read_with_escapes_and_changing_figures(fresh):
    base = fresh.jolokia("rpidc1r2n1")
    status, first = http(base + "read/java.lang:type=Runtime/Uptime")
    assert status == 200 and first["status"] == 200
    _, gc = http(
        base + "read/java.lang:name=G1%20Young%20Generation,type=GarbageCollector/CollectionCount"
    )
    assert gc["status"] == 200 and isinstance(gc["value"], int)
    _, both = http(
        base + "read/org.apache.cassandra.db:type=StorageService/OperationMode,ReleaseVersion"
    )
    assert both["value"] == {"OperationMode": "NORMAL", "ReleaseVersion": DEFAULT_CASSANDRA_VERSION}
    _, missing = http(base + "read/java.lang:type=Memory/Nope")
    assert missing["status"] == 404 and "AttributeNotFound" in missing["error_type"]
    time.sleep(0.3)
    _, later = http(base + "read/java.lang:type=Runtime/Uptime")
    assert later["value"] > first["value"]


def test_failure_detector_and_client_request_counters_follow_the_model(fresh):
    observer = fresh.cluster.node("rpidc1r1n1")
    http(f"http://{fresh.admin}/power", {"action": "off", "target": "DC2"})

    def down_count() -> int:
        url = (
            fresh.jolokia(observer.name)
            + "read/org.apache.cassandra.net:type=FailureDetector/DownEndpointCount"
        )
        return http(url)[1]["value"]

    wait_for(lambda: down_count() == 3, 5, what="three nodes down")
    with pytest.raises(Unavailable):
        fresh.call(
            fresh.cluster.write(
                observer,
                REPLICATION,
                [Mutation("ks", "t", b"k", (), {}, row_marker=1)],
                CL.EACH_QUORUM,
            )
        )
    bean = (
        "org.apache.cassandra.metrics:type=ClientRequest,scope=Write-EACH_QUORUM,name=Unavailables"
    )
    _, answer = http(
        fresh.jolokia(observer.name), {"type": "read", "mbean": bean, "attribute": "Count"}
    )
    assert answer["value"] >= 1
    _, live = http(
        fresh.jolokia(observer.name)
        + "read/org.apache.cassandra.db:type=StorageService/UnreachableNodesWithPort"
    )
    assert sorted(live["value"]) == [f"127.{SECOND_OCTET}.21.{i}:7000" for i in (1, 2, 3)]


def test_jolokia_goes_silent_on_power_cut_and_refuses_after_a_crash(fresh):
    node = fresh.cluster.node("rpidc1r3n1")
    url = fresh.jolokia(node.name) + "version"
    assert http(url)[0] == 200
    http(f"http://{fresh.admin}/power", {"action": "off", "target": node.name})
    with socket.create_connection((node.address, JOLOKIA_PORT), timeout=2) as s:  # accepted...
        s.settimeout(0.5)
        s.sendall(b"GET /jolokia/version HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(TimeoutError):  # ...never answered, never closed
            s.recv(100)
        http(f"http://{fresh.admin}/power", {"action": "on", "target": node.name})
        s.settimeout(2)
        with pytest.raises(ConnectionResetError):  # the stale connection is reset on power-on
            s.recv(100)
    wait_for(lambda: http(url)[0] == 200, 5, what="200 from the admin API")
    http(f"http://{fresh.admin}/power", {"action": "off", "target": node.name, "crash": True})
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((node.address, JOLOKIA_PORT), timeout=2).close()
    http(f"http://{fresh.admin}/power", {"action": "on", "target": node.name})
    wait_for(lambda: _answers(url), 5, what="an answer")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
READ_LIKE = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["read", "READ", "list", 7]),
        "mbean": JSON | st.sampled_from([b for b, _ in BEANS]),
    },
    optional={"attribute": JSON},
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=JSON | st.lists(READ_LIKE, max_size=4) | READ_LIKE)
def test_jolokia_never_fails_on_odd_requests(served, body):
    status, answer = http(served.jolokia("rpidc1r1n2"), body)
    assert status in (200, 400), answer
    for one in answer if isinstance(answer, list) else [answer]:
        assert one.get("status", 400) in (200, 400, 404), one


def _answers(url: str) -> bool:
    try:
        return http(url)[0] == 200
    except OSError:
        return False


# ---- rackpanel power -----------------------------------------------------------------------------


def rackpanel(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rackpanel", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_power_cli_talks_to_the_admin_api(fresh):
    done = rackpanel("power", "off", "DC1/RAC1", "--admin", fresh.admin)
    assert done.returncode == 0, done.stderr
    assert "powered off: rpidc1r1n1, rpidc1r1n2" in done.stdout
    assert not fresh.cluster.node("rpidc1r1n1").powered
    done = rackpanel("power", "off", "rpidc2r1n3", "--crash", "--admin", fresh.admin)
    assert done.returncode == 0 and fresh.cluster.node("rpidc2r1n3").crashed
    done = rackpanel("power", "off", "link:DC1-DC2", "--admin", fresh.admin)
    assert done.returncode == 0 and "cut: link:DC1-DC2" in done.stdout
    done = rackpanel("power", "on", "DC1", "--admin", fresh.admin)
    assert done.returncode == 0 and fresh.cluster.node("rpidc1r1n1").powered
    done = rackpanel("power", "off", "DC1/RAC9", "--admin", fresh.admin)
    assert done.returncode == 2 and "unknown power target 'DC1/RAC9'" in done.stderr


def test_power_cli_finds_the_admin_api_in_the_inventory(fresh, tmp_path):
    inventory = shifted_inventory(tmp_path, SECOND_OCTET, simulator={"admin_address": fresh.admin})
    done = rackpanel("power", "off", "rpidc1r3n2", "--inventory", str(inventory))
    assert done.returncode == 0, done.stderr
    assert not fresh.cluster.node("rpidc1r3n2").powered


def test_power_cli_says_when_no_simulator_runs():
    done = rackpanel("power", "off", "DC1", "--admin", f"127.0.0.1:{free_port()}")
    assert done.returncode == 1
    assert "cannot reach the simulator's admin API" in done.stderr
    assert "rackpanel sim" in done.stderr

"""A Jolokia-compatible endpoint per simulated node (``http://<node address>:8778/jolokia/``).

Reads only, as the exporter does: a bulk POST of a JSON array of ``{"type": "read", "mbean",
"attribute"}`` requests (answered in order, each with its own ``status``), a single POSTed
object, and ``GET /jolokia/read/<mbean>[/<attribute>[,<attribute>...]]`` (``!/`` escapes a
slash). MBean patterns (``name=*``) answer as Jolokia does: ``{"<canonical name>": {attr:
value}}``. The node's power decides the endpoint's fate: silent on a power cut, refused after
a crash, back (stale connections reset) on power-on.
"""

from __future__ import annotations

import asyncio
import fnmatch
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from simulator.cluster.http import Handler, HttpServer, Request, Response
from simulator.core import ConsistencyLevel

if TYPE_CHECKING:
    from simulator.cluster.model import SimCluster
    from simulator.cluster.node import SimNode

AGENT_VERSION = "1.7.2"
PROTOCOL_VERSION = "7.2"
MiB = 1024 * 1024
YOUNG_GC = "G1 Young Generation"
OLD_GC = "G1 Old Generation"
CLIENT_REQUEST_NAMES = ("Unavailables", "Timeouts", "Failures")

Attributes = dict[str, Callable[[], Any]]


# ---- MBean names ---------------------------------------------------------------------------


def parse_name(name: str) -> tuple[str, dict[str, str], bool]:
    """``domain:key=value,...`` → (domain, properties, is_pattern). ValueError if malformed."""
    domain, sep, rest = name.partition(":")
    if not sep or not domain or not rest:
        raise ValueError(f"Invalid object name {name!r}")
    props: dict[str, str] = {}
    wildcard_tail = False
    for part in rest.split(","):
        if part == "*":
            wildcard_tail = True
            continue
        key, eq, value = part.partition("=")
        if not eq or not key:
            raise ValueError(f"Invalid object name {name!r}: bad key property {part!r}")
        props[key] = value
    pattern = wildcard_tail or any(c in name for c in "*?")
    return domain, props, pattern


def canonical(domain: str, props: dict[str, str]) -> str:
    return f"{domain}:" + ",".join(f"{k}={props[k]}" for k in sorted(props))


def _matches(pattern: tuple[str, dict[str, str], bool], domain: str, props: dict[str, str]) -> bool:
    p_domain, p_props, _ = pattern
    if not fnmatch.fnmatchcase(domain, p_domain):
        return False
    for key, value in p_props.items():
        if key not in props or not fnmatch.fnmatchcase(props[key], value):
            return False
    return True


# ---- the beans of one node -----------------------------------------------------------------


class NodeBeans:
    """The MBeans a Cassandra 4.1 node would expose, with figures drawn from the model."""

    def __init__(self, cluster: SimCluster, node: SimNode) -> None:
        self.cluster = cluster
        self.node = node
        self.beans: dict[
            tuple[str, frozenset[tuple[str, str]]], tuple[dict[str, str], Attributes]
        ] = {}
        self._register_jvm()
        self._register_cassandra()

    def _add(self, name: str, attributes: Attributes) -> None:
        domain, props, _ = parse_name(name)
        self.beans[(domain, frozenset(props.items()))] = (props, attributes)

    # JVM figures: deterministic functions of uptime and work done, so they move like a JVM's
    def _work(self) -> float:
        completed = self.cluster.stats(self.node).completed
        return float(sum(completed.values()))

    def _young_cycles(self) -> float:
        stats = self.cluster.stats(self.node)
        return stats.uptime() / 3.0 + self._work() / 4000.0

    def _heap(self) -> dict[str, int]:
        heap_max = self.cluster.heap_max_bytes
        young = heap_max // 4
        cycles = self._young_cycles()
        old = min(heap_max // 2, 60 * MiB + int(cycles) * 64 * 1024)
        used = old + int((cycles % 1.0) * young)
        committed = min(heap_max, max(used, heap_max // 2))
        return {"init": heap_max // 2, "used": used, "committed": committed, "max": heap_max}

    def _non_heap(self) -> dict[str, int]:
        uptime = self.cluster.stats(self.node).uptime()
        used = 72 * MiB + int(min(uptime, 3600) * 1024)
        return {"init": 7 * MiB, "used": used, "committed": used + 4 * MiB, "max": -1}

    def _gc(self, name: str) -> Attributes:
        def count() -> int:
            cycles = self._young_cycles()
            return int(cycles) if name == YOUNG_GC else int(cycles / 200)

        def spent_ms() -> int:
            n = count()
            return n * (6 if name == YOUNG_GC else 180) + (n * 7) % 5

        return {
            "CollectionCount": count,
            "CollectionTime": spent_ms,
            "Name": lambda: name,
            "Valid": lambda: True,
        }

    def _threads(self) -> int:
        return 170 + len(self.cluster.nodes) * 3 + int(self._work()) % 7

    def _register_jvm(self) -> None:
        self._add(
            "java.lang:type=Memory",
            {
                "HeapMemoryUsage": self._heap,
                "NonHeapMemoryUsage": self._non_heap,
                "ObjectPendingFinalizationCount": lambda: 0,
                "Verbose": lambda: False,
            },
        )
        for gc in (YOUNG_GC, OLD_GC):
            self._add(f"java.lang:type=GarbageCollector,name={gc}", self._gc(gc))
        self._add(
            "java.lang:type=Threading",
            {
                "ThreadCount": self._threads,
                "DaemonThreadCount": lambda: self._threads() - 12,
                "PeakThreadCount": lambda: self._threads() + 9,
            },
        )
        self._add(
            "java.lang:type=Runtime",
            {
                "Uptime": lambda: int(self.cluster.stats(self.node).uptime() * 1000),
                "StartTime": lambda: int(self.cluster.stats(self.node).started * 1000),
                "VmName": lambda: "OpenJDK 64-Bit Server VM",
            },
        )

    # Cassandra beans
    def _states(self, with_port: bool) -> dict[str, str]:
        result = {}
        for other in self.cluster.nodes:
            key = f"/{self.cluster.endpoint(other)}" if with_port else f"/{other.address}"
            result[key] = "UP" if self.cluster.is_alive(self.node, other) else "DOWN"
        return result

    def _phis(self) -> dict[str, dict[str, Any]]:
        table = {}
        for other in self.cluster.nodes:
            if other is self.node:
                continue
            key = f"/{self.cluster.endpoint(other)}"
            table[key] = {"Endpoint": key, "PHI": self.cluster.phi(self.node, other)}
        return table

    def _nodes(self, alive: bool) -> list[str]:
        return [
            self.cluster.endpoint(o)
            for o in self.cluster.nodes
            if self.cluster.is_alive(self.node, o) == alive
        ]

    def _register_cassandra(self) -> None:
        c, me = self.cluster, self.node
        self._add(
            "org.apache.cassandra.net:type=FailureDetector",
            {
                "SimpleStatesWithPort": lambda: self._states(True),
                "SimpleStates": lambda: self._states(False),
                "UpEndpointCount": lambda: len(self._nodes(True)),
                "DownEndpointCount": lambda: len(self._nodes(False)),
                "PhiValuesWithPort": self._phis,
                "PhiConvictThreshold": lambda: c.phi_convict_threshold,
            },
        )
        self._add(
            "org.apache.cassandra.db:type=StorageService",
            {
                "LiveNodesWithPort": lambda: self._nodes(True),
                "UnreachableNodesWithPort": lambda: self._nodes(False),
                "LiveNodes": lambda: [e.rsplit(":", 1)[0] for e in self._nodes(True)],
                "UnreachableNodes": lambda: [e.rsplit(":", 1)[0] for e in self._nodes(False)],
                "OperationMode": lambda: "NORMAL",
                "ReleaseVersion": lambda: me.release_version,
                "ClusterName": lambda: c.name,
                "LocalHostId": lambda: str(me.host_id),
            },
        )
        errors = c.stats(me).client_errors
        for operation in ("Write", "Read"):
            for kind in CLIENT_REQUEST_NAMES:
                self._add(
                    f"org.apache.cassandra.metrics:type=ClientRequest,scope={operation},name={kind}",
                    {"Count": _sum_counter(errors, operation, kind)},
                )
                for cl in ConsistencyLevel:
                    self._add(
                        f"org.apache.cassandra.metrics:type=ClientRequest,"
                        f"scope={operation}-{cl.name},name={kind}",
                        {"Count": lambda o=operation, n=cl.name, k=kind: errors[(o, n, k)]},
                    )

    # reading
    def find(self, mbean: str) -> list[tuple[str, Attributes]]:
        domain, props, pattern = parse_name(mbean)
        if not pattern:
            found = self.beans.get((domain, frozenset(props.items())))
            return [(canonical(domain, props), found[1])] if found else []
        wanted = (domain, props, pattern)
        return sorted(
            (
                (canonical(d, p), attrs)
                for (d, _), (p, attrs) in self.beans.items()
                if _matches(wanted, d, p)
            ),
            key=lambda item: item[0],
        )


def _sum_counter(errors, operation: str, kind: str) -> Callable[[], int]:
    return lambda: sum(v for (o, _, k), v in errors.items() if o == operation and k == kind)


# ---- the Jolokia protocol ---------------------------------------------------------------------


def _error(request: Any, status: int, error_type: str, message: str) -> dict[str, Any]:
    return {"request": request, "error_type": error_type, "error": message, "status": status}


def _read_attributes(mbean: str, attrs: Attributes, wanted: list[str] | None) -> Any:
    names = list(attrs) if wanted is None else wanted
    missing = [a for a in names if a not in attrs]
    if missing:
        raise KeyError(f"No attribute {missing[0]} found for MBean {mbean}")
    return {a: attrs[a]() for a in names}


def execute(beans: NodeBeans, request: Any) -> dict[str, Any]:
    """One Jolokia request → its response object."""
    if not isinstance(request, dict):
        return _error(
            request, 400, "java.lang.IllegalArgumentException", "Request must be a JSON object"
        )
    kind = str(request.get("type", "")).lower()
    if kind == "version":
        return {
            "request": request,
            "value": version_value(),
            "timestamp": int(time.time()),
            "status": 200,
        }
    if kind != "read":
        return _error(
            request,
            400,
            "java.lang.UnsupportedOperationException",
            f"Request type {request.get('type')!r} is not supported here (read and version only)",
        )
    mbean = request.get("mbean")
    if not isinstance(mbean, str):
        return _error(request, 400, "java.lang.IllegalArgumentException", "No mbean given")
    attribute = request.get("attribute")
    if attribute is None or (
        isinstance(attribute, list) and all(isinstance(a, str) for a in attribute)
    ):
        wanted = attribute
    elif isinstance(attribute, str):
        wanted = [attribute]
    else:
        return _error(request, 400, "java.lang.IllegalArgumentException", "Bad attribute")
    try:
        found = beans.find(mbean)
    except ValueError as exc:
        return _error(request, 400, "javax.management.MalformedObjectNameException", str(exc))
    _, _, pattern = parse_name(mbean)
    if not found:
        return _error(
            request,
            404,
            "javax.management.InstanceNotFoundException",
            f"javax.management.InstanceNotFoundException : {mbean}",
        )
    try:
        if pattern:  # as Jolokia: beans without the attributes are left out of a pattern read
            having = [(n, a) for n, a in found if wanted is None or all(w in a for w in wanted)]
            value: Any = {name: _read_attributes(name, attrs, wanted) for name, attrs in having}
            if not value:
                raise KeyError(f"No MBean matching {mbean} has the attributes {wanted}")
        else:
            name, attrs = found[0]
            read = _read_attributes(name, attrs, wanted)
            value = read[attribute] if isinstance(attribute, str) else read
    except KeyError as exc:
        return _error(
            request,
            404,
            "javax.management.AttributeNotFoundException",
            f"javax.management.AttributeNotFoundException : {exc.args[0]}",
        )
    return {"request": request, "value": value, "timestamp": int(time.time()), "status": 200}


def version_value() -> dict[str, Any]:
    return {
        "agent": AGENT_VERSION,
        "protocol": PROTOCOL_VERSION,
        "config": {"agentType": "jvm"},
        "info": {"product": "cassandra", "vendor": "Apache (rackpanel simulator)"},
    }


def split_path(raw: str) -> list[str]:
    """Split a GET path on ``/`` honouring Jolokia's escapes (``!/`` a slash, ``!!`` a bang)."""
    parts, current, i = [], [], 0
    while i < len(raw):
        ch = raw[i]
        if ch == "!" and i + 1 < len(raw):
            current.append(raw[i + 1])
            i += 2
            continue
        if ch == "/":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def jolokia_handler(beans: NodeBeans) -> Handler:
    async def handle(request: Request) -> Response:
        path = request.raw_path
        if not (path == "/jolokia" or path.startswith("/jolokia/")):
            return Response(404, {"error": "the Jolokia agent lives under /jolokia/"})
        rest = path[len("/jolokia") :].strip("/")
        if request.method == "POST":
            body = request.json()
            if isinstance(body, list):
                return Response(200, [execute(beans, r) for r in body])
            return Response(200, execute(beans, body))
        if request.method != "GET":
            return Response(405, {"error": "use GET or POST"})
        if rest in ("", "version"):
            return Response(200, execute(beans, {"type": "version"}))
        parts = [unquote(p) for p in split_path(rest)]
        if parts[0] != "read" or len(parts) < 2:
            return Response(
                200,
                _error(
                    {"type": parts[0]},
                    400,
                    "java.lang.IllegalArgumentException",
                    "Only read is supported",
                ),
            )
        read: dict[str, Any] = {"type": "read", "mbean": parts[1]}
        if len(parts) > 2 and parts[2]:
            attrs = parts[2].split(",")
            read["attribute"] = attrs[0] if len(attrs) == 1 else attrs
        return Response(200, execute(beans, read))

    return handle


class JolokiaPower:
    """Ties one node's Jolokia server to that node's power (a cluster listener)."""

    def __init__(self, server: HttpServer, node: SimNode) -> None:
        self.server = server
        self.node = node
        self._pending: asyncio.Task[None] | None = None

    def on_power_change(self, node: SimNode, powered: bool, crash: bool) -> None:
        if node is not self.node:
            return
        if not powered:
            (self.server.crash if crash else self.server.silence)()
            return
        previous = self._pending

        async def revive() -> None:
            if previous is not None:
                await previous
            await self.server.revive()

        self._pending = asyncio.get_running_loop().create_task(revive())


async def start_jolokia(
    cluster: SimCluster, node: SimNode, host: str | None = None, port: int = 8778
) -> HttpServer:
    """Serve ``node``'s beans on ``host`` (default: the node's address) and ``port``."""
    server = HttpServer(jolokia_handler(NodeBeans(cluster, node)), host or node.address, port)
    power = JolokiaPower(server, node)
    cluster.add_listener(power)
    if node.powered:
        await server.start()
    else:
        server.silence()
        if not node.crashed:
            await server.start()
    return server

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
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from rackpanel.simulator.cluster.http import Handler, HttpServer, Request, Response
from rackpanel.simulator.cluster.mbeans import Attributes, NodeBeans, parse_name

if TYPE_CHECKING:
    from rackpanel.simulator.cluster.model import SimCluster
    from rackpanel.simulator.cluster.node import SimNode

AGENT_VERSION = "1.7.2"
PROTOCOL_VERSION = "7.2"


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


def jolokia_handler(beans: NodeBeans | Callable[[], NodeBeans]) -> Handler:
    """The agent's HTTP API over ``beans`` (or a factory: the catalogue is then built at the
    first request, so 1,000 idle nodes start without 1,000 catalogues)."""
    built: list[NodeBeans] = [beans] if isinstance(beans, NodeBeans) else []

    async def handle(request: Request) -> Response:
        if not built:
            built.append(beans())  # type: ignore[operator]
        return await _handle(built[0], request)

    return handle


async def _handle(beans: NodeBeans, request: Request) -> Response:
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
    server = HttpServer(
        jolokia_handler(lambda: NodeBeans(cluster, node)), host or node.address, port
    )
    power = JolokiaPower(server, node)
    cluster.add_listener(power)
    if node.powered:
        await server.start()
    else:
        server.silence()
        if not node.crashed:
            await server.start()
    return server

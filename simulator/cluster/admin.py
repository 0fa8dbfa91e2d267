"""The simulator's admin API: HTTP JSON on 127.0.0.1:9499 by default.

- ``GET /health``  → ``{"status": "ok", "cluster": ...}``
- ``GET /state``   → every node (name, dc, rack, address, powered, crashed, generation,
  heartbeat, ``views``: each other observer's UP/DOWN verdict), the DC links, hints pending
  per holder and target, and the failure-detector settings. Above 64 nodes each node carries
  ``views_summary`` ({"UP": n, "DOWN": m}) instead of ``views``, so the answer stays linear
  in the cluster size; ``?views=full`` (or ``summary``) chooses explicitly.
- ``POST /power``  ``{"action": "off"|"on", "target": "DC1"|"DC1/RAC2"|node|"link:DC1-DC2",
  "crash": false}`` → ``{"affected": [...]}``; 400 ``{"error": ...}`` naming the bad field.
- ``POST /reset``  → every node on, links up, every view UP at once; the hints still pending
  are replayed to their targets first (as the nodes' return would), never dropped:
  ``{"reset": true, "hints_replayed": N}``.
- ``POST /repair``  ``{"keyspace": name}`` or ``{}`` (every user keyspace) → a full repair
  (``executor.repair``): ``{"partitions_repaired", "replica_copies_streamed",
  "partitions_skipped", "replicas_down"}``.

Who may call it. The API can cut nodes, so it answers only programs that mean to talk to it:

- the ``Host`` header must be the bound address (or ``localhost:PORT`` on a loopback bind):
  a web page that rebinds its own DNS name to 127.0.0.1 is refused (421);
- a ``POST`` must say ``Content-Type: application/json`` (415), which a web page cannot send
  to another origin without a CORS preflight, which this API never grants, and an ``Origin``
  header, when present, must be this API's own (403);
- with ``RACKPANEL_ADMIN_TOKEN`` set, every request but ``/health`` needs
  ``Authorization: Bearer <token>`` (401); without a token the API refuses to bind anything but
  a loopback address.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rackpanel.simulator.cluster.http import (
    BadRequest,
    Guard,
    Handler,
    HttpServer,
    Request,
    Response,
)
from rackpanel.simulator.cluster.model import UnknownTarget
from rackpanel.simulator.core import CqlError

if TYPE_CHECKING:
    from rackpanel.simulator.cluster.model import SimCluster

log = logging.getLogger(__name__)

TOKEN_ENV = "RACKPANEL_ADMIN_TOKEN"
MAX_BODY_BYTES = 64 * 1024


class AdminRefused(ValueError):
    """The admin API will not start with these settings (the message says why)."""


def _power(cluster: SimCluster, body: Any) -> Response:
    if not isinstance(body, dict):
        raise BadRequest('POST /power expects a JSON object {"action", "target", "crash"}')
    action = body.get("action")
    target = body.get("target")
    crash = body.get("crash", False)
    if action not in ("off", "on"):
        raise BadRequest(f'"action" must be "off" or "on", not {action!r}')
    if not isinstance(target, str) or not target:
        raise BadRequest(f'"target" must be a non-empty string, not {target!r}')
    if not isinstance(crash, bool):
        raise BadRequest(f'"crash" must be true or false, not {crash!r}')
    if crash and action == "on":
        raise BadRequest('"crash" only applies to "action": "off"')
    try:
        if action == "off":
            affected = cluster.power_off(target, crash=crash)
        else:
            affected = cluster.power_on(target)
    except UnknownTarget as exc:
        raise BadRequest(str(exc)) from exc
    return Response(200, {"action": action, "target": target, "crash": crash, "affected": affected})


def _reset(cluster: SimCluster) -> Response:
    replayed = cluster.reset()
    if replayed:
        log.warning("reset: %d pending hint(s) replayed to their targets", replayed)
    return Response(200, {"reset": True, "hints_replayed": replayed})


def _state(cluster: SimCluster, request: Request) -> Response:
    views = request.query.get("views", ["auto"])[-1]
    if views not in ("auto", "full", "summary"):
        raise BadRequest(f'"views" must be auto, full or summary, not {views!r}')
    return Response(200, cluster.state(views))


def _repair(repair: Callable[[str | None], dict] | None, body: Any) -> Response:
    if repair is None:
        return Response(404, {"error": "this simulator has no repair"})
    keyspace = body.get("keyspace") if isinstance(body, dict) else None
    if (body is not None and not isinstance(body, dict)) or not (
        keyspace is None or isinstance(keyspace, str)
    ):
        raise BadRequest('POST /repair expects a JSON object {"keyspace": name} or {}')
    try:
        return Response(200, repair(keyspace))
    except CqlError as exc:
        raise BadRequest(exc.message) from exc


def admin_handler(
    cluster: SimCluster, repair: Callable[[str | None], dict] | None = None
) -> Handler:
    async def handle(request: Request) -> Response:
        route = request.path.rstrip("/") or "/"
        routes = {
            "/health": ("GET", lambda: Response(200, {"status": "ok", "cluster": cluster.name})),
            "/state": ("GET", lambda: _state(cluster, request)),
            "/power": ("POST", lambda: _power(cluster, request.json())),
            "/reset": ("POST", lambda: _reset(cluster)),
            "/repair": ("POST", lambda: _repair(repair, request.json())),
        }
        if route not in routes:
            return Response(404, {"error": f"no such endpoint {request.path!r}; try /state"})
        method, action = routes[route]
        if request.method != method:
            return Response(
                405, {"error": f"{route} takes {method}, not {request.method}"}, {"Allow": method}
            )
        return action()

    return handle


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_unspecified(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def admin_guard(host: str, port: int, token: str | None) -> Guard:
    """The checks every admin request passes before its handler (see the module doc)."""
    hosts = {_authority(host, port)}
    if is_loopback(host):
        hosts.add(_authority("localhost", port))
    if port == 80:
        hosts |= {h.rsplit(":", 1)[0] for h in list(hosts)}

    any_host = token is not None and _is_unspecified(host)

    def guard(request: Request) -> Response | None:
        sent_host = request.headers.get("host", "")
        if sent_host.lower() not in hosts and not any_host:
            return Response(
                421, {"error": f"Host {sent_host!r} is not this API's address ({min(hosts)})"}
            )
        if token is not None and request.path.rstrip("/") != "/health":
            sent = request.headers.get("authorization", "")
            scheme, _, value = sent.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                value.strip().encode(), token.encode()
            ):
                return Response(
                    401,
                    {"error": f"this API needs Authorization: Bearer <${TOKEN_ENV}>"},
                    {"WWW-Authenticate": "Bearer"},
                )
        if request.method not in ("GET", "HEAD"):
            origin = request.headers.get("origin")
            if origin is not None and origin.lower() != f"http://{sent_host}".lower():
                return Response(403, {"error": f"cross-origin request from {origin!r} refused"})
            media = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if media != "application/json":
                return Response(
                    415, {"error": "send the request body as Content-Type: application/json"}
                )
        return None

    return guard


def admin_token() -> str | None:
    token = os.environ.get(TOKEN_ENV, "").strip()
    return token or None


def refuse_exposed(host: str, token: str | None = None) -> None:
    """AdminRefused when ``host`` is not loopback and no token guards the API."""
    if (token or admin_token()) is None and not is_loopback(host):
        raise AdminRefused(
            f"the admin API can cut nodes: it binds {host} (not a loopback address) only with "
            f"${TOKEN_ENV} set; clients then send it as Authorization: Bearer <token>"
        )


async def start_admin(
    cluster: SimCluster,
    host: str = "127.0.0.1",
    port: int = 9499,
    token: str | None = None,
    repair: Callable[[str | None], dict] | None = None,
) -> HttpServer:
    """Start the admin API on the running loop; ``await server.stop()`` to end it.

    ``token`` defaults to ``$RACKPANEL_ADMIN_TOKEN``; AdminRefused for a non-loopback address
    without one."""
    token = token if token is not None else admin_token()
    refuse_exposed(host, token)
    server = HttpServer(
        admin_handler(cluster, repair),
        host,
        port,
        guard=admin_guard(host, port, token),
        max_body=MAX_BODY_BYTES,
    )
    await server.start()
    return server

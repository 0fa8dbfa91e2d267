"""The simulator's admin API: HTTP JSON on 127.0.0.1:9499 by default.

- ``GET /health``  → ``{"status": "ok", "cluster": ...}``
- ``GET /state``   → every node (name, dc, rack, address, powered, crashed, generation,
  heartbeat, ``views``: each other observer's UP/DOWN verdict), the DC links, hints pending
  per holder and target, and the failure-detector settings.
- ``POST /power``  ``{"action": "off"|"on", "target": "DC1"|"DC1/RAC2"|node|"link:DC1-DC2",
  "crash": false}`` → ``{"affected": [...]}``; 400 ``{"error": ...}`` naming the bad field.
- ``POST /reset``  → every node on, links up, every view UP, no hints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rackpanel.simulator.cluster.http import BadRequest, Handler, HttpServer, Request, Response
from rackpanel.simulator.cluster.model import UnknownTarget

if TYPE_CHECKING:
    from rackpanel.simulator.cluster.model import SimCluster


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


def admin_handler(cluster: SimCluster) -> Handler:
    async def handle(request: Request) -> Response:
        route = request.path.rstrip("/") or "/"
        routes = {
            "/health": ("GET", lambda: Response(200, {"status": "ok", "cluster": cluster.name})),
            "/state": ("GET", lambda: Response(200, cluster.state())),
            "/power": ("POST", lambda: _power(cluster, request.json())),
            "/reset": ("POST", lambda: (cluster.reset(), Response(200, {"reset": True}))[1]),
        }
        if route not in routes:
            return Response(404, {"error": f"no such endpoint {request.path!r}; try /state"})
        method, action = routes[route]
        if request.method != method:
            return Response(405, {"error": f"{route} takes {method}, not {request.method}"})
        return action()

    return handle


async def start_admin(cluster: SimCluster, host: str = "127.0.0.1", port: int = 9499) -> HttpServer:
    """Start the admin API on the running loop; ``await server.stop()`` to end it."""
    server = HttpServer(admin_handler(cluster), host, port)
    await server.start()
    return server

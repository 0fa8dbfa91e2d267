"""The web panel: an aiohttp application serving the page, its assets and a live event stream.

- ``GET /``: the page; ``GET /static/...``: its script and style (shipped in the wheel, no CDN);
- ``GET /events``: server-sent events, one ``snapshot`` event (the whole panel as JSON) at once
  and after every change;
- ``GET /api/snapshot``: the current snapshot;
- ``POST /api/stop`` ``{"target": "DC1/RAC2"|"link:DC1-DC2", "action": "off"|"on"}``: an
  emergency stop (the simulator's power, or the compose stack; refused on the real panel);
- ``POST /api/keypad/<writer>/<button>[?hold=S]``: a key of a writer's keypad.

POSTs must be JSON and, when the browser says where it comes from, come from this page's own
origin: another site open in the same browser cannot press the stops.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp_sse import sse_response

from rackpanel.panel.snapshot import Poller
from rackpanel.panel.sources import ActionFailed, Sources

STATIC = resources.files("rackpanel.panel") / "static"
BUTTONS = ("select", "left", "right", "up", "down", "cancel")
KEEPALIVE_SECONDS = 15.0

PowerAction = Callable[[str, str], Awaitable[Any]]
POLLER = web.AppKey("poller", Poller)
SOURCES = web.AppKey("sources", Sources)
POWER = web.AppKey("power", object)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def same_origin_json(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    if request.method == "POST":
        origin = request.headers.get("Origin")
        if origin and urlsplit(origin).netloc != request.host:
            return _error(403, f"cross-origin request from {origin} refused")
        if request.content_type != "application/json":
            return _error(415, "send Content-Type: application/json")
    return await handler(request)


async def index(request: web.Request) -> web.StreamResponse:
    return web.Response(
        body=(STATIC / "index.html").read_bytes(),
        content_type="text/html",
        charset="utf-8",
        headers={"Cache-Control": "no-cache"},
    )


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    types = {".js": "text/javascript", ".css": "text/css"}
    suffix = name[name.rfind(".") :] if "." in name else ""
    asset = STATIC / name
    if "/" in name or suffix not in types or not asset.is_file():
        raise web.HTTPNotFound()
    return web.Response(
        body=asset.read_bytes(),
        content_type=types[suffix],
        charset="utf-8",
        headers={"Cache-Control": "no-cache"},
    )


async def snapshot(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[POLLER].snapshot)


async def events(request: web.Request) -> web.StreamResponse:
    poller = request.app[POLLER]
    async with sse_response(request, ping_interval=KEEPALIVE_SECONDS) as stream:
        seen = -1
        while stream.is_connected():
            if poller.version > seen:
                seen = poller.version
                await stream.send(json.dumps(poller.snapshot), event="snapshot")
            await poller.changed(seen, KEEPALIVE_SECONDS)
    return stream


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"body is not JSON: {exc}"}), content_type="application/json"
        ) from exc
    return body if isinstance(body, dict) else {}


async def stop(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    target, action = body.get("target"), body.get("action")
    if action not in ("off", "on"):
        return _error(400, f'"action" must be "off" or "on", not {action!r}')
    poller = request.app[POLLER]
    known = {r["target"] for dc in poller.snapshot["datacenters"] for r in dc["racks"]}
    known |= {link["target"] for link in poller.snapshot["dc_links"]}
    if target not in known:
        return _error(400, f'"target" must be one of {", ".join(sorted(known))}, not {target!r}')
    power: PowerAction | None = request.app[POWER]  # type: ignore[assignment]
    if power is None:
        return _error(
            409, "the stops of the real panel are physical: press the button on the panel"
        )
    try:
        answer = await power(action, target)
    except ActionFailed as exc:
        return _error(502, str(exc))
    await poller.refresh()
    return web.json_response({"action": action, "target": target, "answer": answer})


async def keypad(request: web.Request) -> web.StreamResponse:
    writer, button = request.match_info["writer"], request.match_info["button"]
    if button not in BUTTONS:
        return _error(400, f"unknown button {button!r}; buttons are {', '.join(BUTTONS)}")
    try:
        hold = float(request.query.get("hold", "0"))
        if not (math.isfinite(hold) and 0 <= hold <= 10):
            raise ValueError
    except ValueError:
        return _error(400, "hold must be a number of seconds between 0 and 10")
    poller = request.app[POLLER]
    try:
        answer = await request.app[SOURCES].press(writer, button, hold or None)
    except ActionFailed as exc:
        return _error(502, str(exc))
    await poller.refresh()
    return web.json_response(answer)


def make_app(poller: Poller, sources: Sources, power: PowerAction | None) -> web.Application:
    app = web.Application(middlewares=[same_origin_json])
    app[POLLER] = poller
    app[SOURCES] = sources
    app[POWER] = power
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/events", events)
    app.router.add_get("/api/snapshot", snapshot)
    app.router.add_post("/api/stop", stop)
    app.router.add_post("/api/keypad/{writer}/{button}", keypad)

    async def lifecycle(app: web.Application):  # type: ignore[no-untyped-def]
        await poller.start()
        yield
        await poller.stop()
        await sources.close()

    app.cleanup_ctx.append(lifecycle)
    return app


async def serve(
    app: web.Application, host: str, port: int, ready: asyncio.Event | None = None
) -> None:
    """Serve until cancelled."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()

"""The writer's HTTP port (default :9501), served by :mod:`rackpanel.httpd`.

- ``GET /metrics``: the Prometheus exposition (metrics.md, writer section).
- ``GET /lcd``: ``{"lines": [line1, line2], "color": [r, g, b], "write_cl": "LOCAL_ONE",
  "read_cl": "ONE", "menu": null | "write" | "read"}`` — the LCD as it is now.
- ``POST /keypad/<select|left|right|up|down>[?hold=SECONDS]``: press a button (``hold`` makes
  it a long press: ``POST /keypad/select?hold=2`` opens the menu). Answers the new ``/lcd``
  JSON. Only with ``--keypad-api`` (otherwise 403), only from a loopback client unless
  ``--keypad-api-remote`` (403), and only as ``Content-Type: application/json`` with no foreign
  ``Origin`` (415/403), so a web page cannot press the keys. Unknown button or bad hold: 400.
- ``POST /keypad/cancel``: close an open CL menu unchanged (the terminal panel's Escape; the
  plate has no such button, its menu closes by itself when left alone). Same checks.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Callable
from typing import Any

from rackpanel.lcd_writer.keypad import Button, Press

from rackpanel.httpd import HttpServer, Reply, Request, Routes

MAX_HOLD_SECONDS = 10.0


def _json(status: int, body: dict[str, Any]) -> Reply:
    return Reply(status, json.dumps(body).encode(), "application/json")


class WriterHttp:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        lcd: Callable[[], dict[str, Any]],
        press: Callable[[Press], dict[str, Any]],
        cancel: Callable[[], dict[str, Any]],
        metrics: Callable[[], bytes],
        keypad_enabled: bool,
        keypad_remote: bool = False,
    ) -> None:
        self.lcd, self.press, self.cancel, self.metrics = lcd, press, cancel, metrics
        self.keypad_enabled = keypad_enabled
        self.keypad_remote = keypad_remote
        self.server = HttpServer(host, port, self._routes(), name="writer-http")

    @property
    def address(self) -> tuple[str, int]:
        return self.server.address

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def _routes(self) -> Routes:
        def metrics(_: Request) -> Reply:
            return Reply(200, self.metrics(), "text/plain; version=0.0.4; charset=utf-8")

        return {
            "/metrics": {"GET": metrics},
            "/lcd": {"GET": lambda _: _json(200, self.lcd())},
            "/keypad/*": {"POST": self._keypad},
        }

    def _refusal(self, request: Request) -> Reply | None:
        if not self.keypad_enabled:
            message = "the HTTP keypad is off; start the writer with --keypad-api"
            return _json(403, {"error": message})
        if not self.keypad_remote and not ipaddress.ip_address(request.client).is_loopback:
            return _json(
                403,
                {"error": "the HTTP keypad answers loopback clients only (--keypad-api-remote)"},
            )
        origin = request.headers.get("Origin")
        host = request.headers.get("Host") or ""
        if origin is not None and origin.lower() != f"http://{host}".lower():
            return _json(403, {"error": f"cross-origin keypad press from {origin!r} refused"})
        media = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if media != "application/json":
            return _json(415, {"error": "send keypad presses as Content-Type: application/json"})
        return None

    def _keypad(self, request: Request) -> Reply:
        parts = request.path.strip("/").split("/")
        if len(parts) != 2:
            return _json(404, {"error": f"no such endpoint {request.path}; use /keypad/<button>"})
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        if parts[1] == "cancel":
            return _json(200, self.cancel())
        try:
            button = Button.parse(parts[1])
            hold = float(request.query.get("hold", ["0"])[0])
            if not (math.isfinite(hold) and 0 <= hold <= MAX_HOLD_SECONDS):
                raise ValueError(
                    f"hold must be a number of seconds from 0 to {MAX_HOLD_SECONDS:g}, got {hold}"
                )
        except ValueError as exc:
            return _json(400, {"error": str(exc)})
        return _json(200, self.press(Press(button, hold)))

"""The writer's HTTP port (default :9501).

- ``GET /metrics``: the Prometheus exposition (metrics.md, writer section).
- ``GET /lcd``: ``{"lines": [line1, line2], "color": [r, g, b], "write_cl": "LOCAL_ONE",
  "read_cl": "ONE", "menu": null | "write" | "read"}`` — the LCD as it is now.
- ``POST /keypad/<select|left|right|up|down>[?hold=SECONDS]``: press a button (``hold`` makes
  it a long press: ``POST /keypad/select?hold=2`` opens the menu). Answers the new ``/lcd``
  JSON. Only with ``--keypad-api``; otherwise 403. Unknown button or bad hold: 400.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from rackpanel.lcd_writer.keypad import Button, Press


class WriterHttp:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        lcd: Callable[[], dict[str, Any]],
        press: Callable[[Press], dict[str, Any]],
        metrics: Callable[[], bytes],
        keypad_enabled: bool,
    ) -> None:
        api = self

        class Handler(_Handler):
            writer_api = api

        self.lcd, self.press, self.metrics = lcd, press, metrics
        self.keypad_enabled = keypad_enabled
        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="writer-http", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    writer_api: WriterHttp
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # no access log on stderr
        pass

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/metrics":
            self._send(200, self.writer_api.metrics(), "text/plain; version=0.0.4; charset=utf-8")
        elif path == "/lcd":
            self._json(200, self.writer_api.lcd())
        else:
            self._json(404, {"error": f"no such page {path}; try /lcd or /metrics"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        if len(parts) != 2 or parts[0] != "keypad":
            self._json(404, {"error": f"no such endpoint {url.path}; use /keypad/<button>"})
            return
        if not self.writer_api.keypad_enabled:
            self._json(403, {"error": "the HTTP keypad is off; start the writer with --keypad-api"})
            return
        try:
            button = Button.parse(parts[1])
            hold = float(parse_qs(url.query).get("hold", ["0"])[0])
            if not (math.isfinite(hold) and hold >= 0):
                raise ValueError(f"hold must be a number of seconds >= 0, got {hold}")
        except ValueError as exc:
            self._json(400, {"error": str(exc)})
            return
        self._json(200, self.writer_api.press(Press(button, hold)))

    def _json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

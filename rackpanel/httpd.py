"""The exporter's and the writer's HTTP port: a hardened HTTP/1.1 server on the standard library.

Why not a framework: these two processes run on the Pis with the core dependencies only, and
what they serve is a handful of fixed routes. ``http.server`` gives the parsing; this module adds
what a port open to a network needs:

- HTTP/1.1 keep-alive (a scraper reuses one connection), a real listen backlog;
- a deadline per request, enforced by one watchdog thread that shuts the socket down: a client
  that sends half a request, or one byte a second, or stalls a TLS handshake, is dropped after
  ``request_timeout`` seconds; an idle keep-alive connection after ``idle_timeout``;
- validated framing: ``Content-Length`` must be digits, at most ``max_body`` (413 otherwise,
  without reading), never negative or repeated with another value; no chunked bodies;
- 404 for an unknown path, 405 (with ``Allow``) for a method the path does not take, HEAD for
  every GET route;
- at most ``max_connections`` at once (503 and close past that), so a flood cannot spawn
  unbounded threads;
- one log line at DEBUG per failed client (reset, timeout, bad TLS), never a traceback.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

LISTEN_BACKLOG = 512


@dataclass(frozen=True)
class Request:
    client: str  # the peer's IP address
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


Route = Callable[[Request], Reply]
# path → method → route; a path ending in "/*" matches every path under it.
Routes = Mapping[str, Mapping[str, Route]]
Guard = Callable[[Request], Reply | None]


@dataclass(frozen=True)
class Limits:
    request_timeout: float = 10.0  # from the first byte of a request to the end of its answer
    idle_timeout: float = 60.0  # a keep-alive connection waiting for its next request
    max_body: int = 64 * 1024
    max_connections: int = 256


def text(status: int, message: str, **headers: str) -> Reply:
    return Reply(status, (message.rstrip("\n") + "\n").encode(), headers=dict(headers))


class Deadlines(threading.Thread):
    """Shuts down the sockets whose deadline passed, which ends any blocked read or write."""

    def __init__(self) -> None:
        super().__init__(name="http-deadlines", daemon=True)
        self._due: dict[socket.socket, float] = {}
        self._cond = threading.Condition()
        self._stopped = False

    def arm(self, sock: socket.socket, seconds: float) -> None:
        with self._cond:
            self._due[sock] = time.monotonic() + seconds
            self._cond.notify()

    def disarm(self, sock: socket.socket) -> None:
        with self._cond:
            self._due.pop(sock, None)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def run(self) -> None:
        with self._cond:
            while not self._stopped:
                now = time.monotonic()
                for sock in [s for s, due in self._due.items() if due <= now]:
                    del self._due[sock]
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                wait = min(self._due.values(), default=now + 1.0) - now
                self._cond.wait(max(0.01, wait))


def _route(routes: Routes, path: str) -> Mapping[str, Route] | None:
    if path in routes:
        return routes[path]
    for pattern, methods in routes.items():
        if pattern.endswith("/*") and path.startswith(pattern[:-1]):
            return methods
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "rackpanel"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        self.timeout = self.server.limits.idle_timeout  # per socket operation, a backstop
        super().setup()

    def handle_one_request(self) -> None:
        deadlines, limits = self.server.deadlines, self.server.limits
        deadlines.arm(self.connection, limits.idle_timeout)
        try:
            if not self.rfile.peek(1):  # waits for the next request (and a TLS handshake)
                self.close_connection = True
                return
        except (OSError, ValueError):
            self.close_connection = True
            return
        deadlines.arm(self.connection, limits.request_timeout)
        try:
            super().handle_one_request()
        finally:
            deadlines.disarm(self.connection)

    def parse_request(self) -> bool:
        if len(self.raw_requestline.split()) == 2:  # HTTP/0.9 would wait for headers first
            self.requestline = str(self.raw_requestline, "latin-1").rstrip("\r\n")
            self.command, self.request_version = "", self.protocol_version
            self.close_connection = True
            self.send_error(400, "HTTP/0.9 requests are not supported")
            return False
        return super().parse_request()

    def __getattr__(self, name: str) -> Any:
        # every method reaches the dispatcher, so an unknown one gets 405, not 501
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s: %s", self.address_string(), format % args)

    def _body(self) -> bytes | Reply:
        if self.headers.get("Transfer-Encoding"):
            return text(501, "chunked request bodies are not accepted; send Content-Length")
        values = {v.strip() for v in self.headers.get_all("Content-Length") or []}
        if not values:
            return b""
        if len(values) > 1:
            return text(400, "conflicting Content-Length headers")
        value = values.pop()
        if not (value.isascii() and value.isdigit()):
            return text(400, f"Content-Length must be a number of bytes, not {value[:40]!r}")
        length = int(value)
        if length > self.server.limits.max_body:
            limit = self.server.limits.max_body
            return text(413, f"request body of {length} bytes; at most {limit} are accepted")
        body = self.rfile.read(length) if length else b""
        if len(body) != length:
            raise ConnectionError("client closed the connection inside the request body")
        return body

    def _dispatch(self) -> None:
        try:
            body = self._body()
        except ConnectionError:
            self.close_connection = True
            return
        if isinstance(body, Reply):
            self.close_connection = True  # the body (if any) was not read
            self._send(body)
            return
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        client = str(self.client_address[0])
        request = Request(client, self.command, url.path, query, self.headers, body)
        self._send(self._answer(request))

    def _answer(self, request: Request) -> Reply:
        methods = _route(self.server.routes, request.path)
        if methods is None:
            return text(404, f"no such page {request.path}")
        method = "GET" if request.method == "HEAD" else request.method
        route = methods.get(method)
        if route is None:
            allowed = ", ".join(sorted({*methods, *(["HEAD"] if "GET" in methods else [])}))
            return text(405, f"{request.path} takes {allowed}", Allow=allowed)
        guard = self.server.guard
        refusal = guard(request) if guard is not None else None
        if refusal is not None:
            return refusal
        try:
            return route(request)
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            return text(500, "internal error (logged)")

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)


class _Server(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True

    routes: Routes
    guard: Guard | None
    limits: Limits
    deadlines: Deadlines
    tls: bool = False

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily) -> None:
        self.address_family = family
        self._active = 0
        self._active_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._active_lock:
            full = self._active >= self.limits.max_connections
            if not full:
                self._active += 1
        if full:
            log.debug("%s: refused, %d connections open", client_address, self._active)
            if not self.tls:
                with contextlib.suppress(OSError):
                    request.settimeout(1.0)
                    request.sendall(
                        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                        b"Connection: close\r\n\r\n"
                    )
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._active_lock:
                self._active -= 1

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        log.debug("client %s: %s: %s", client_address, type(error).__name__, error)


class HttpServer:
    """``routes`` served on ``host:port`` from a daemon thread; ``stop()`` ends it."""

    def __init__(
        self,
        host: str,
        port: int,
        routes: Routes,
        *,
        guard: Guard | None = None,
        tls: ssl.SSLContext | None = None,
        limits: Limits | None = None,
        name: str = "http",
    ) -> None:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        self.server = _Server((host, port), family[0][0])
        self.server.routes, self.server.guard = routes, guard
        self.server.limits = limits or Limits()
        self.server.deadlines = Deadlines()
        if tls is not None:
            # the handshake happens in the connection's own thread, under its deadline
            self.server.socket = tls.wrap_socket(
                self.server.socket, server_side=True, do_handshake_on_connect=False
            )
            self.server.tls = True
        self._thread = threading.Thread(target=self.server.serve_forever, name=name, daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self.server.deadlines.start()
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.server.deadlines.stop()

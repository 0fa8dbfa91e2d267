"""A small HTTP/1.1 JSON server on asyncio streams, able to lose power like a node.

The admin API and the per-node Jolokia endpoints use it. Besides serving, it can:

- ``silence()``: a power cut. The listener stays open, so the kernel still completes new TCP
  handshakes, but nothing is ever answered, on new or established connections, and nothing
  is closed (no FIN, no RST): clients see only their own timeouts.
- ``crash()``: a process death. The listener closes (new connections are refused) and every
  established connection is reset (RST, via SO_LINGER 0).
- ``revive()``: power back. Connections held silent are reset (the new process never knew
  them) and the listener serves again.

Bounded like any port open to other programs: a request must arrive whole within
``REQUEST_TIMEOUT`` seconds of its first byte (half-sent requests and one-byte-a-second senders
are dropped with 408), an idle keep-alive connection is closed after ``IDLE_TIMEOUT``, a body
over the server's ``max_body`` is answered 413 without being read, and JSON nested deeper than
Python can parse is a 400. A ``guard`` may refuse a request before its handler runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 4 * 1024 * 1024
REQUEST_TIMEOUT = 10.0  # first byte of a request → its last byte
IDLE_TIMEOUT = 60.0  # a keep-alive connection waiting for its next request
LINGER_SECONDS = 1.0  # after refusing a body, how long its bytes are drained before closing
SINGLE_HEADERS = ("content-length", "host", "content-type", "origin", "authorization")
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    411: "Length Required",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    421: "Misdirected Request",
    500: "Internal Server Error",
}


class BadRequest(Exception):
    status = 400


class TooLarge(BadRequest):
    status = 413


class RequestTimeout(BadRequest):
    status = 408


@dataclass
class Request:
    method: str
    path: str  # percent-decoded
    raw_path: str  # as sent (Jolokia's escapes need it)
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequest(f"request body is not valid JSON: {exc}") from exc
        except RecursionError:
            raise BadRequest("request body is JSON nested too deeply") from None


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Awaitable[Response]]
Guard = Callable[[Request], Response | None]


async def read_request(
    reader: asyncio.StreamReader, max_body: int = MAX_BODY_BYTES, first: bytes = b""
) -> Request | None:
    """One request from the stream (``first``: its bytes already read); None at a clean EOF;
    BadRequest when malformed, TooLarge when its body is over ``max_body`` (left unread)."""
    try:
        head = first + await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not (first + exc.partial).strip():
            return None
        raise BadRequest("connection closed inside the request head") from exc
    except asyncio.LimitOverrunError as exc:
        raise BadRequest("request head too large") from exc
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(f"malformed request line {lines[0]!r}")
    method, target, _ = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise BadRequest(f"malformed header line {line!r}")
        key = name.strip().lower()
        if key in SINGLE_HEADERS and key in headers:
            raise BadRequest(f"the {name.strip()} header is given twice")
        headers[key] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise BadRequest("chunked request bodies are not supported; send Content-Length")
    value = headers.get("content-length", "0")
    if not (value.isascii() and value.isdigit()):
        raise BadRequest(f"Content-Length must be a number of bytes, not {value[:40]!r}")
    length = int(value)
    if length > max_body:
        raise TooLarge(f"request body of {length} bytes; at most {max_body} are accepted")
    body = await reader.readexactly(length) if length else b""
    split = urlsplit(target)
    return Request(
        method=method.upper(),
        path=unquote(split.path),
        raw_path=split.path,
        query=parse_qs(split.query),
        headers=headers,
        body=body,
    )


def encode_response(response: Response, keep_alive: bool) -> bytes:
    body = json.dumps(response.body, default=str).encode("utf-8")
    head = [
        f"HTTP/1.1 {response.status} {REASONS.get(response.status, 'Status')}",
        "Content-Type: application/json; charset=utf-8",
        f"Content-Length: {len(body)}",
        f"Connection: {'keep-alive' if keep_alive else 'close'}",
        *(f"{k}: {v}" for k, v in response.headers.items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def reset_connection(writer: asyncio.StreamWriter) -> None:
    """Close with RST rather than FIN, as the kernel does for a dead process's sockets."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class HttpServer:
    def __init__(
        self,
        handler: Handler,
        host: str,
        port: int,
        *,
        guard: Guard | None = None,
        max_body: int = MAX_BODY_BYTES,
        request_timeout: float = REQUEST_TIMEOUT,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.guard = guard
        self.max_body = max_body
        self.request_timeout = request_timeout
        self.idle_timeout = idle_timeout
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._silent = False
        self._wake = asyncio.Event()

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._serve, self.host, self.port, reuse_address=True, limit=MAX_HEADER_BYTES
            )

    async def stop(self) -> None:
        self._close_listener()
        for writer in list(self._connections):
            writer.close()
        self._release_held()

    def silence(self) -> None:
        self._silent = True

    def crash(self) -> None:
        self._silent = True
        self._close_listener()
        for writer in list(self._connections):
            reset_connection(writer)
        self._release_held()

    async def revive(self) -> None:
        for writer in list(self._connections):
            reset_connection(writer)
        self._release_held()
        self._silent = False
        await self.start()

    def _close_listener(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()

    def _release_held(self) -> None:
        """Wake the handlers parked by a power cut so they can end (their sockets are gone)."""
        self._wake.set()
        self._wake = asyncio.Event()

    async def _hold(self, writer: asyncio.StreamWriter) -> None:
        """Say nothing, close nothing, until the power comes back or the process dies."""
        await self._wake.wait()
        if not writer.transport.is_closing():
            reset_connection(writer)

    async def _next_request(self, reader: asyncio.StreamReader) -> Request | None:
        """The next request, or None when the client closes or stays idle too long."""
        try:
            async with asyncio.timeout(self.idle_timeout):
                first = await reader.read(1)
        except TimeoutError:
            return None
        if not first:
            return None
        try:
            async with asyncio.timeout(self.request_timeout):
                return await read_request(reader, self.max_body, first)
        except TimeoutError:
            raise RequestTimeout(
                f"the request did not arrive whole within {self.request_timeout:g} s"
            ) from None

    async def _answer(self, request: Request) -> Response:
        refusal = self.guard(request) if self.guard is not None else None
        if refusal is not None:
            return refusal
        try:
            return await self.handler(request)
        except BadRequest as exc:
            return Response(exc.status, {"error": str(exc)})
        except Exception as exc:
            log.exception("HTTP handler failed for %s %s", request.method, request.path)
            return Response(500, {"error": f"internal error: {exc}"})

    async def _send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        """Write an answer; a client that does not read it within the request timeout is cut."""
        writer.write(data)
        try:
            async with asyncio.timeout(self.request_timeout):
                await writer.drain()
        except TimeoutError:
            writer.transport.abort()
            raise ConnectionError("the client did not read its answer") from None

    async def _refuse(
        self, writer: asyncio.StreamWriter, reader: asyncio.StreamReader, exc: BadRequest
    ) -> None:
        """Answer a request that cannot be read, then drain briefly so the answer is not lost
        to a reset (closing with unread bytes would send RST)."""
        await self._send(writer, encode_response(Response(exc.status, {"error": str(exc)}), False))
        if writer.can_write_eof():
            writer.write_eof()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(LINGER_SECONDS):
                while await reader.read(64 * 1024):
                    pass

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while True:
                if self._silent:
                    await self._hold(writer)
                    return
                try:
                    request = await self._next_request(reader)
                except BadRequest as exc:
                    request, refused = None, exc
                else:
                    refused = None
                if self._silent:  # a powered-off server closes nothing either
                    await self._hold(writer)
                    return
                if refused is not None:
                    await self._refuse(writer, reader, refused)
                    return
                if request is None:
                    return
                response = await self._answer(request)
                if self._silent:
                    await self._hold(writer)
                    return
                keep_alive = request.headers.get("connection", "").lower() != "close"
                await self._send(writer, encode_response(response, keep_alive))
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            pass
        finally:
            self._connections.discard(writer)
            if not writer.transport.is_closing():
                writer.close()

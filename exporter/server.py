"""The ``/metrics`` endpoint: hands out the last rendered page, nothing is collected here.

Served by prometheus-client's threading WSGI server. TLS (``--tls-cert``/``--tls-key``) wraps
the listening socket with an ``ssl`` server context, as prometheus-client's own
``start_http_server(certfile=..., keyfile=...)`` does; HTTP basic auth
(``--basic-auth-file``: lines ``user:password``, ``#`` comments) is checked with a
constant-time comparison. The gzip body is prepared with the page, so a scrape costs a lookup.
"""

from __future__ import annotations

import base64
import hmac
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client.exposition import ThreadingWSGIServer
from rackpanel.exporter.exposition import CONTENT_TYPE


@dataclass(frozen=True)
class Page:
    body: bytes
    gzipped: bytes


class ConfigFileError(ValueError):
    pass


def read_basic_auth(path: str) -> dict[str, str]:
    """``user:password`` per line; errors name the file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read the basic-auth file: {exc.strerror}") from None
    users: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user or not password:
            raise ConfigFileError(f"{path}:{number}: expected user:password")
        users[user] = password
    if not users:
        raise ConfigFileError(f"{path}: no user:password line")
    return users


class _QuietHandler(WSGIRequestHandler):
    timeout = 10.0  # a stuck client frees its thread

    def log_message(self, format: str, *args: Any) -> None:
        pass


def metrics_app(
    page: Callable[[], Page], users: dict[str, str] | None = None
) -> Callable[..., Iterable[bytes]]:
    def authorised(header: str | None) -> bool:
        if users is None:
            return True
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        expected = users.get(user, "")
        return bool(expected) and hmac.compare_digest(expected.encode(), password.encode())

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not authorised(environ.get("HTTP_AUTHORIZATION")):
            start_response(
                "401 Unauthorized",
                [
                    ("WWW-Authenticate", 'Basic realm="rackpanel exporter"'),
                    ("Content-Type", "text/plain"),
                ],
            )
            return [b"Unauthorized\n"]
        path = environ.get("PATH_INFO", "/")
        if path == "/metrics":
            current = page()
            headers = [("Content-Type", CONTENT_TYPE)]
            body = current.body
            if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
                body = current.gzipped
                headers.append(("Content-Encoding", "gzip"))
            headers.append(("Content-Length", str(len(body))))
            start_response("200 OK", headers)
            return [body]
        if path == "/":
            start_response("200 OK", [("Content-Type", "text/html")])
            return [b'<html><body><a href="/metrics">metrics</a></body></html>\n']
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not found: try /metrics\n"]

    return app


def serve(
    host: str,
    port: int,
    app: Callable[..., Iterable[bytes]],
    tls_cert: str | None = None,
    tls_key: str | None = None,
) -> tuple[ThreadingWSGIServer, threading.Thread]:
    """Start serving ``app`` on a daemon thread; OSError when the address cannot be bound."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]

    class Server(ThreadingWSGIServer):
        address_family = family

    server = make_server(host, port, app, Server, handler_class=_QuietHandler)
    if tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(certfile=tls_cert, keyfile=tls_key)
        except (OSError, ssl.SSLError) as exc:
            server.server_close()
            raise ConfigFileError(
                f"{tls_cert}: cannot load the TLS certificate/key ({tls_key}): {exc}"
            ) from None
        # the handshake happens in the request's own thread, so a client that connects and
        # says nothing cannot stall the accept loop
        server.socket = context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
    thread = threading.Thread(target=server.serve_forever, name="exporter-http", daemon=True)
    thread.start()
    return server, thread

"""The ``/metrics`` endpoint: hands out the last rendered page, nothing is collected here.

Served by :mod:`rackpanel.httpd` (HTTP/1.1 keep-alive, request deadlines, 405 for other methods,
no traceback per client). TLS (``--tls-cert``/``--tls-key``) wraps the listening socket with an
``ssl`` server context; the handshake runs under the connection's deadline. HTTP basic auth
(``--basic-auth-file``: lines ``user:password``, ``#`` comments) is checked with a constant-time
comparison.
"""

from __future__ import annotations

import base64
import gzip
import hmac
import ssl
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

from rackpanel.exporter.exposition import CONTENT_TYPE

from rackpanel.httpd import HttpServer, Reply, Request, Routes, text
from rackpanel.secret_files import warn_if_readable_by_others


class Page:
    """One rendered exposition; its gzip form is made on the first scrape that asks for it."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    @cached_property
    def gzipped(self) -> bytes:
        return gzip.compress(self.body, compresslevel=1)


class ConfigFileError(ValueError):
    pass


def read_basic_auth(path: str) -> dict[str, str]:
    """``user:password`` per line; errors name the file and line."""
    try:
        text_ = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read the basic-auth file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigFileError(f"{path}: the basic-auth file is not UTF-8 text") from None
    warn_if_readable_by_others(path, "--basic-auth-file")
    users: dict[str, str] = {}
    for number, line in enumerate(text_.splitlines(), 1):
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


def tls_context(cert: str, key: str | None) -> ssl.SSLContext:
    """The server context; ConfigFileError naming the files when they cannot be loaded."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(certfile=cert, keyfile=key)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
        raise ConfigFileError(
            f"--tls-cert {cert} / --tls-key {key}: cannot load the certificate and key: {reason}"
        ) from None
    return context


def basic_auth_guard(users: dict[str, str]) -> Callable[[Request], Reply | None]:
    def guard(request: Request) -> Reply | None:
        header = request.headers.get("Authorization") or ""
        if header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, password = "", ""
            expected = users.get(user, "")
            if expected and hmac.compare_digest(expected.encode(), password.encode()):
                return None
        return text(401, "Unauthorized", **{"WWW-Authenticate": 'Basic realm="rackpanel exporter"'})

    return guard


def metrics_routes(page: Callable[[], Page]) -> Routes:
    def metrics(request: Request) -> Reply:
        current = page()
        if "gzip" in (request.headers.get("Accept-Encoding") or ""):
            return Reply(200, current.gzipped, CONTENT_TYPE, {"Content-Encoding": "gzip"})
        return Reply(200, current.body, CONTENT_TYPE)

    def index(_: Request) -> Reply:
        body = b'<html><body><a href="/metrics">metrics</a></body></html>\n'
        return Reply(200, body, "text/html; charset=utf-8")

    return {"/metrics": {"GET": metrics}, "/": {"GET": index}}


def serve(
    host: str,
    port: int,
    page: Callable[[], Page],
    users: dict[str, str] | None = None,
    tls: ssl.SSLContext | None = None,
) -> HttpServer:
    """Start serving ``/metrics`` on a daemon thread; OSError when the address cannot be bound."""
    guard = basic_auth_guard(users) if users is not None else None
    routes = metrics_routes(page)
    server = HttpServer(host, port, routes, guard=guard, tls=tls, name="exporter-http")
    server.start()
    return server

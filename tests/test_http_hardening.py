"""The writer's and the exporter's HTTP ports under careless and hostile clients.

Each case failed before (issue 17): bad Content-Length values left a handler thread blocked or
printed a traceback, POST/DELETE answered the metrics page, HTTP/0.9 hung, HTTP/1.0 only, a
listen backlog of 5, one traceback per aborted client, a keypad any web page could press.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from rackpanel.exporter.server import Page
from rackpanel.exporter.server import serve as serve_exporter
from rackpanel.lcd_writer.http_api import WriterHttp
from rackpanel.lcd_writer.keypad import Press

from rackpanel.httpd import Limits, Request
from tests.support.lab import loopback_octet

NET = f"127.{loopback_octet()}.0"
PAGE = Page(b"# TYPE up gauge\nup 1\n")


@pytest.fixture(params=["writer", "exporter"])
def port(request) -> Iterator[tuple[str, int]]:
    """A running writer or exporter HTTP server (its real classes) with short deadlines."""
    limits = Limits(request_timeout=1.0, idle_timeout=2.0)
    if request.param == "writer":
        presses: list[Press] = []
        server = WriterHttp(
            f"{NET}.21", 0, lcd=lambda: {"lines": ["a", "b"]},
            press=lambda p: (presses.append(p), {"pressed": p.button.value})[1],
            cancel=lambda: {}, metrics=lambda: PAGE.body, keypad_enabled=True,
        )  # fmt: skip
        server.server.server.limits = limits
        server.start()
        yield server.address
        server.stop()
    else:
        server = serve_exporter(f"{NET}.22", 0, lambda: PAGE)
        server.server.limits = limits
        yield server.address
        server.stop()


def exchange(address: tuple[str, int], data: bytes, timeout: float = 10.0) -> tuple[bytes, float]:
    """Send ``data`` on a new connection; all that is answered until close, and how long."""
    began = time.monotonic()
    with socket.create_connection(address, timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
        except (ConnectionResetError, TimeoutError):
            pass
    return b"".join(chunks), time.monotonic() - began


def get_metrics(address: tuple[str, int]) -> int:
    conn = http.client.HTTPConnection(*address, timeout=10)
    try:
        conn.request("GET", "/metrics")
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("head", "status"),
    [
        ("Content-Length: abc", b"400"),
        ("Content-Length: -1", b"400"),
        ("Content-Length: 1000000000000", b"413"),
        ("Content-Length: 3\r\nContent-Length: 4", b"400"),
        ("Transfer-Encoding: chunked", b"501"),
    ],
)
def test_bad_content_lengths_are_answered_at_once(port, head, status, capfd):
    request = f"POST /keypad/select HTTP/1.1\r\nHost: x\r\n{head}\r\n\r\n".encode()
    answer, took = exchange(port, request)
    assert answer.split(b" ")[1] == status and took < 1.0, answer[:80]
    assert get_metrics(port) == 200
    assert "Traceback" not in capfd.readouterr().err


def test_a_body_shorter_than_its_length_or_half_a_request_is_dropped(port, capfd):
    for request in (
        b"POST /keypad/select HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\n",
        b"GET /metrics",
    ):
        answer, took = exchange(port, request)
        assert answer == b"" and took < 3.0, (request, answer)  # the deadline, not forever
    assert get_metrics(port) == 200
    assert "Traceback" not in capfd.readouterr().err


def test_other_methods_are_405_and_http09_is_refused_at_once(port):
    for method in ("POST", "DELETE", "PUT", "BREW"):
        answer, _ = exchange(port, f"{method} /metrics HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.1 405"), (method, answer[:60])
        assert b"Allow: GET, HEAD" in answer
    answer, took = exchange(port, b"GET /metrics\r\n")
    assert answer.startswith(b"HTTP/1.1 400") and took < 1.0


def test_keep_alive_serves_many_scrapes_on_one_connection(port):
    conn = http.client.HTTPConnection(*port, timeout=10)
    conn.connect()
    local = conn.sock.getsockname()
    for _ in range(50):
        conn.request("GET", "/metrics")
        response = conn.getresponse()
        assert response.status == 200 and response.read() == PAGE.body
        assert conn.sock.getsockname() == local  # the same connection every time
    conn.close()


def test_two_hundred_concurrent_scrapes_are_all_answered(port):
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(200)

    def scrape() -> None:
        start.wait()
        try:
            status = get_metrics(port)
        except OSError:
            status = 0
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=scrape) for _ in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert statuses.count(200) == 200


def test_aborted_clients_leave_no_traceback(port, capfd):
    for _ in range(20):
        with socket.create_connection(port) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.5)
    assert get_metrics(port) == 200
    assert "Traceback" not in capfd.readouterr().err


# ---- the writer's keypad: only what the panel means to press ---------------------------------


@pytest.fixture
def keypad() -> Iterator[tuple[WriterHttp, list[Press]]]:
    presses: list[Press] = []
    server = WriterHttp(
        f"{NET}.23", 0, lcd=lambda: {}, press=lambda p: (presses.append(p), {})[1],
        cancel=lambda: {}, metrics=lambda: b"", keypad_enabled=True,
    )  # fmt: skip
    server.start()
    yield server, presses
    server.stop()


def press(address: tuple[str, int], **headers: str) -> int:
    conn = http.client.HTTPConnection(*address, timeout=10)
    try:
        conn.request("POST", "/keypad/select?hold=2", body=b"{}", headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


def test_a_web_page_cannot_press_the_keypad(keypad):
    server, presses = keypad
    own = f"http://{server.address[0]}:{server.address[1]}"
    assert press(server.address, **{"Content-Type": "text/plain"}) == 415
    assert press(server.address) == 415  # a form post without a type
    json = {"Content-Type": "application/json"}
    assert press(server.address, Origin="http://evil.example", **json) == 403
    assert presses == []
    assert press(server.address, Origin=own, **json) == 200
    assert press(server.address, **json) == 200 and len(presses) == 2


def test_the_keypad_answers_loopback_clients_unless_told_otherwise(keypad):
    server, _ = keypad
    request = Request("192.0.2.7", "POST", "/keypad/select", {}, http.client.HTTPMessage(), b"")
    refusal = server._refusal(request)
    assert refusal is not None and refusal.status == 403 and b"--keypad-api-remote" in refusal.body
    server.keypad_remote = True
    request.headers["Content-Type"] = "application/json"
    assert server._refusal(request) is None


def test_a_long_hold_is_refused(keypad):
    server, _ = keypad
    conn = http.client.HTTPConnection(*server.address, timeout=10)
    conn.request("POST", "/keypad/select?hold=1e9", b"{}", {"Content-Type": "application/json"})
    assert conn.getresponse().status == 400
    conn.close()

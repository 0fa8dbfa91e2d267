"""The exporter's HTTP side: scrapes never wait for a collection; TLS, basic auth, the CLI."""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import closing

import pytest
from rackpanel.exporter.app import Exporter
from rackpanel.exporter.options import ExporterOptions

from tests.support.binaries import require_binary
from tests.support.contract import parse_page
from tests.support.lab import loopback_octet
from tests.support.waiting import wait_for

NET = f"127.{loopback_octet()}.0"  # a loopback range of its own (tests/support/lab.py)
HOST = f"{NET}.10"


def scrape(url: str, **kwargs) -> tuple[float, str]:
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=10, **kwargs) as response:
        body = response.read().decode()
    return time.monotonic() - started, body


def value(page: str, name: str, **labels: str) -> float:
    """The sample ``name{labels}`` of a page, read with prometheus_client's parser."""
    samples = parse_page(page)[1].get(name, {})
    key = tuple(sorted(labels.items()))
    if key not in samples:
        raise AssertionError(f"{name}{labels or ''} not on the page")
    return samples[key]


def failed_once(url: str) -> str | None:
    page = scrape(url)[1]
    return page if value(page, "cassandra_exporter_collect_errors_total", source="cql") else None


def test_a_hanging_node_never_slows_a_scrape():
    # A "node" whose kernel completes the TCP handshake but that never answers a byte.
    with closing(socket.socket()) as silent:
        silent.bind((HOST, 9042))
        silent.listen(64)
        options = ExporterOptions(
            cassandra_host=HOST,
            listen_host=HOST,
            listen_port=9500,
            interval=0.5,
            timeout=2.0,
            jolokia_url=None,
            process_pattern=None,
        )
        exporter = Exporter(options)
        exporter.start()
        try:
            url = exporter.url
            worst = 0.0
            started = time.monotonic()
            while time.monotonic() - started < 3.0:  # the CQL source is stuck in its timeout
                took, page = scrape(url)
                worst = max(worst, took)
            assert worst < 0.5, f"a scrape took {worst:.3f} s while the collection hung"
            page = wait_for(lambda: failed_once(url), 15, what="a failed collection on the page")
            assert value(page, "cassandra_up") == 0
            assert value(page, "cassandra_exporter_source_up", source="cql") == 0
            assert "cassandra_endpoint_up" not in page  # a silent node vouches for nobody
            promtool = require_binary("promtool")
            check = subprocess.run(
                [promtool, "check", "metrics"], input=page, capture_output=True, text=True
            )
            assert check.returncode == 0, check.stdout + check.stderr
        finally:
            exporter.stop()


@pytest.fixture
def certificate(tmp_path):
    openssl = require_binary("openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=IP:{HOST}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def test_tls_and_basic_auth(certificate, capfd):
    cert, key = certificate
    options = ExporterOptions(
        cassandra_host=f"{NET}.11",  # nothing listens there: cql down, page still served
        listen_host=HOST,
        listen_port=9501,
        interval=1.0,
        timeout=1.0,
        jolokia_url=None,
        process_pattern=None,
        tls_cert=str(cert),
        tls_key=str(key),
        basic_auth={"prometheus": "s3cret"},
    )
    exporter = Exporter(options)
    exporter.start()
    try:
        assert exporter.url == f"https://{HOST}:9501/metrics"
        context = ssl.create_default_context(cafile=str(cert))
        with pytest.raises(urllib.error.HTTPError) as denied:
            scrape(exporter.url, context=context)
        assert denied.value.code == 401
        request = urllib.request.Request(exporter.url)
        token = base64.b64encode(b"prometheus:wrong").decode()
        request.add_header("Authorization", f"Basic {token}")
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(request, timeout=10, context=context)
        request = urllib.request.Request(exporter.url)
        token = base64.b64encode(b"prometheus:s3cret").decode()
        request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            assert b"cassandra_up 0.0" in response.read()
        with pytest.raises((urllib.error.URLError, ConnectionError)):  # no plain HTTP
            scrape(exporter.url.replace("https", "http"))
        for _ in range(5):  # clients that fail the handshake: no traceback each (issue 17)
            with socket.create_connection((HOST, 9501), timeout=5) as s:
                s.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
                with contextlib.suppress(OSError):
                    s.recv(100)
        assert "Traceback" not in capfd.readouterr().err
    finally:
        exporter.stop()


def rackpanel(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "rackpanel", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        **kwargs,
    )


def test_cli_serves_reads_its_config_file_and_stops_cleanly(tmp_path):
    config = tmp_path / "exporter.yml"
    config.write_text(
        f"cassandra: {NET}.12:9042\nlisten: {HOST}:9502\ninterval: 1\njolokia: none\n"
        "process-pattern: none\n"
    )
    process = rackpanel("exporter", "--config", str(config), "--interval", "0.5")
    try:
        line = process.stdout.readline()
        assert line.startswith(f"rackpanel exporter: serving http://{HOST}:9502/metrics")
        page = wait_for(lambda: scrape(f"http://{HOST}:9502/metrics")[1], 15, what="a page")
        assert "cassandra_up 0.0" in page
        assert 'cassandra_exporter_source_up{source="proc"}' in page
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        log = process.stderr.read()
        # the unreachable node is one log line, not one per collection, and no traceback
        assert log.count("source cql down") == 1, log
        assert "Traceback" not in log
    finally:
        process.kill()
        process.wait()


@pytest.mark.parametrize(
    ("config_text", "message"),
    [
        ("intervall: 1\n", "unknown key 'intervall'"),
        ("interval: soon\n", "interval: Input should be a valid number"),
        ("password: hunter2\n", "password: never on the command line or in the config file"),
    ],
)
def test_cli_config_errors_name_file_and_key(tmp_path, config_text, message):
    config = tmp_path / "exporter.yml"
    config.write_text(config_text)
    process = rackpanel("exporter", "--config", str(config), "--listen", f"{HOST}:9503")
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert message in err


def test_cli_reports_a_taken_port():
    with closing(socket.socket()) as taken:
        taken.bind((HOST, 9504))
        taken.listen(1)
        process = rackpanel("exporter", "--listen", f"{HOST}:9504", "--jolokia", "none")
        _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert f"cannot listen on {HOST}:9504" in err


def _run_exporter(*args: str) -> tuple[int, str]:
    process = rackpanel("exporter", "--listen", f"{HOST}:9505", "--jolokia", "none", *args)
    try:
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    return process.returncode, err


def test_cli_tls_files_that_cannot_be_loaded_are_one_clear_line(tmp_path, certificate):
    cert, key = certificate
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    garbage.chmod(0o600)
    for args in (
        ("--tls-cert", str(garbage), "--tls-key", str(key)),
        ("--tls-cert", str(cert), "--tls-key", str(cert)),  # the certificate as its key
        ("--tls-cert", str(tmp_path), "--tls-key", str(key)),  # a folder
    ):
        code, err = _run_exporter(*args)
        assert code == 2 and "Traceback" not in err, err
        assert "--tls-cert" in err and len(err.splitlines()) <= 2, err


def test_cli_warns_about_secret_files_others_can_read(tmp_path, certificate):
    cert, key = certificate
    users = tmp_path / "users"
    users.write_text("prometheus:s3cret\n")
    users.chmod(0o644)
    key.chmod(0o640)
    process = rackpanel(
        "exporter", "--listen", f"{HOST}:9506", "--jolokia", "none", "--basic-auth-file",
        str(users), "--tls-cert", str(cert), "--tls-key", str(key),
    )  # fmt: skip
    try:
        assert process.stdout.readline().startswith("rackpanel exporter: serving https://")
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=15)
    finally:
        process.kill()
    assert f"--basic-auth-file {users} holds a secret but everyone can read it (mode 0644)" in err
    assert f"--tls-key {key} holds a secret but its group can read it (mode 0640)" in err
    assert f"chmod 600 {users}" in err


def test_nothing_is_rendered_until_someone_scrapes(monkeypatch):
    from rackpanel.exporter.families import SourceStatus

    exporter = Exporter(ExporterOptions(jolokia_url=None, process_pattern=None), sources=[])
    renders = []
    real = exporter._render
    monkeypatch.setattr(exporter, "_render", lambda: renders.append(1) or real())
    for _ in range(100):  # a minute of one source reporting every 0.6 s, nobody scraping
        exporter._publish(SourceStatus("proc", up=False, duration=0.1, errors=1, reading=None))
    assert renders == []
    first = exporter.page()
    assert exporter.page() is first and len(renders) == 1  # one render per change
    assert "gzipped" not in vars(first) and first.gzipped  # gzip only when asked


def test_while_someone_scrapes_the_page_is_ready_before_the_next_scrape(monkeypatch):
    """Sources that report together cost one render, made ahead in the background (gzip too
    when the scraper asked for it), so a scrape only hands out bytes; without scrapes for
    SCRAPED_RECENTLY_SECONDS, rendering stops again."""
    from rackpanel.exporter import app
    from rackpanel.exporter.families import SourceStatus

    options = ExporterOptions(jolokia_url=None, process_pattern=None, interval=0.5)
    exporter = Exporter(options, sources=[])
    renders = []
    real = exporter._render
    monkeypatch.setattr(exporter, "_render", lambda: renders.append(1) or real())

    def report_together() -> None:
        for name in ("cql", "proc", "gclog"):
            exporter._publish(SourceStatus(name, up=False, duration=0.1, errors=1, reading=None))

    assert exporter.page().gzipped and len(renders) == 1  # a scrape that asked for gzip
    report_together()
    wait_for(lambda: exporter._page is not None, 5, what="the page rendered ahead")
    time.sleep(0.2)
    page = exporter._page
    assert len(renders) == 2 and "gzipped" in vars(page)  # one render for three reports
    assert exporter.page() is page and len(renders) == 2  # the scrape renders nothing
    monkeypatch.setattr(app, "SCRAPED_RECENTLY_SECONDS", 0.0)  # nobody scraped lately
    report_together()
    time.sleep(0.3)
    assert exporter._page is None and len(renders) == 2
    exporter.stop()

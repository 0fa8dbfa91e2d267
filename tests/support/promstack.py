"""Real Prometheus / Alertmanager processes for tests and benchmarks, and their HTTP APIs.

Two ways in:

- ``running_demo(inventory_path, run_dir)``: the whole demo stack through its public command,
  ``rackpanel demo --no-ui --no-grafana`` (simulator, one exporter per node, both writers,
  Prometheus and Alertmanager with the demo profile); yields a :class:`DemoStack` with the
  Prometheus and Alertmanager clients and the simulator's power switch. Use a
  ``tests.support.inventories.shifted_inventory`` whose ``simulator.admin_address`` is moved
  too, so it never collides with the session simulator.
- ``running_prometheus(config_dir, listen)`` / ``running_alertmanager(config, listen)``: the
  bare servers on configuration files you rendered (``prometheus.config.render``).

Everything listens on loopback; every process is started in its own process group and
stopped (SIGTERM, then SIGKILL) on exit, its log tail shown when it fails to start.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from rackpanel.prometheus.client import AlertmanagerClient, PrometheusClient
from rackpanel.simulator.cluster.admin_client import AdminClient
from rackpanel.topology import Inventory, load_inventory

from tests.support.binaries import require_binary
from tests.support.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")


class StackError(RuntimeError):
    pass


# ---- HTTP --------------------------------------------------------------------------------
def http_json(url: str, body: object | None = None, timeout: float = 5.0) -> object:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


# The project's own typed clients (also what the CLI and the benchmarks use).
PrometheusAPI = PrometheusClient
AlertmanagerAPI = AlertmanagerClient


@dataclass
class WebhookReceiver:
    """Collects Alertmanager's webhook notifications (JSON bodies) in ``notifications``."""

    url: str
    notifications: list[dict]

    def alerts(self, name: str, status: str | None = None) -> list[dict]:
        """Every alert named ``name`` in any notification so far (optionally of one status)."""
        return [
            alert
            for note in list(self.notifications)
            for alert in note.get("alerts", [])
            if alert["labels"].get("alertname") == name
            and (status is None or alert["status"] == status)
        ]


@contextlib.contextmanager
def webhook_receiver(host: str = "127.0.0.1") -> Iterator[WebhookReceiver]:
    """A tiny HTTP server on ``host`` (free port) recording every POSTed notification."""
    received: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received.append(json.loads(self.rfile.read(length) or b"{}"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((host, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield WebhookReceiver(f"http://{host}:{server.server_address[1]}/alerts", received)
    finally:
        server.shutdown()
        server.server_close()


# ---- processes -----------------------------------------------------------------------------
@contextlib.contextmanager
def _process(
    argv: Sequence[str], log_path: Path, ready: Callable[[], object], timeout: float, name: str
) -> Iterator[subprocess.Popen]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(argv), stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=REPO
        )
    try:

        def probe() -> object:
            if process.poll() is not None:
                raise StackError(f"{name} exited with {process.returncode}")
            return ready()

        try:
            wait_for(probe, timeout, what=f"{name} to be ready")
        except (StackError, AssertionError) as exc:
            tail = log_path.read_text(errors="replace")[-3000:]
            raise StackError(f"{exc}\n--- {log_path} ---\n{tail}") from None
        yield process
    finally:
        _stop(process)


def _stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


@contextlib.contextmanager
def running_prometheus(
    config_dir: Path, listen: str, data_dir: Path, timeout: float = 30.0
) -> Iterator[PrometheusAPI]:
    """Debian's ``prometheus`` on ``config_dir/prometheus.yml``, listening on ``listen``."""
    binary = require_binary("prometheus")
    api = PrometheusAPI(f"http://{listen}")
    argv = [
        binary,
        f"--config.file={config_dir / 'prometheus.yml'}",
        f"--storage.tsdb.path={data_dir}",
        f"--web.listen-address={listen}",
        "--storage.tsdb.retention.time=1h",
    ]
    with _process(argv, data_dir / "prometheus.log", api.ready, timeout, "prometheus"):
        yield api


@contextlib.contextmanager
def running_alertmanager(
    config: Path, listen: str, data_dir: Path, timeout: float = 30.0
) -> Iterator[AlertmanagerAPI]:
    """Debian's ``prometheus-alertmanager`` on ``config``; its gossip port stays closed."""
    binary = require_binary("prometheus-alertmanager", "alertmanager")
    api = AlertmanagerAPI(f"http://{listen}")
    argv = [
        binary,
        f"--config.file={config}",
        f"--storage.path={data_dir}",
        f"--web.listen-address={listen}",
        "--cluster.listen-address=",
    ]
    with _process(argv, data_dir / "alertmanager.log", api.ready, timeout, "alertmanager"):
        yield api


# ---- the whole demo ------------------------------------------------------------------------
@dataclass
class DemoStack:
    inventory: Inventory
    run_dir: Path
    endpoints: dict[str, str]  # service name -> url, from endpoints.json
    prometheus: PrometheusAPI
    alertmanager: AlertmanagerAPI
    admin_url: str

    def power(self, action: str, target: str, crash: bool = False) -> dict:
        """The simulator's emergency stop: ``action`` off/on, ``target`` DC2, DC1/RAC1, a node."""
        return AdminClient(self.admin_url).power(action, target, crash)

    def reset(self) -> None:
        AdminClient(self.admin_url).reset()

    def route_alerts_to(self, webhook_url: str) -> None:
        """Rewrite the demo's alertmanager.yml with a webhook receiver and reload Alertmanager."""
        from rackpanel.prometheus.config import render

        config = self.run_dir / "prometheus" / "alertmanager.yml"
        if not config.is_file():
            raise StackError(f"the demo wrote no {config}: cannot add a webhook")
        text = render(self.inventory, "sim", "demo", webhook_url=webhook_url)["alertmanager.yml"]
        config.write_text(text)
        request = urllib.request.Request(f"{self.alertmanager.url}/-/reload", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status != 200:
                raise StackError(f"Alertmanager refused to reload {config}: {response.status}")


def _base_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@contextlib.contextmanager
def running_demo(
    inventory_path: Path, run_dir: Path, timeout: float = 90.0, extra_args: Sequence[str] = ()
) -> Iterator[DemoStack]:
    """``rackpanel demo --no-ui --no-grafana`` on ``inventory_path``; ready once every service
    is (the demo writes endpoints.json only then) and Prometheus and Alertmanager answer."""
    require_binary("prometheus")
    require_binary("prometheus-alertmanager", "alertmanager")
    inv = load_inventory(inventory_path)
    endpoints_file = run_dir / "endpoints.json"
    endpoints_file.unlink(missing_ok=True)
    argv = [
        sys.executable,
        "-m",
        "rackpanel",
        "demo",
        "--no-ui",
        "--no-grafana",
        "--inventory",
        str(inventory_path),
        "--run-dir",
        str(run_dir),
        *extra_args,
    ]

    def ready() -> bool:
        return endpoints_file.is_file() and bool(endpoints_file.read_text().strip())

    with _process(argv, run_dir / "demo.log", ready, timeout, "rackpanel demo"):
        services = json.loads(endpoints_file.read_text())["services"]
        urls = {s["name"]: s["url"] for s in services}
        missing = {"prometheus", "alertmanager", "simulator"} - set(urls)
        if missing:
            raise StackError(f"the demo started without {sorted(missing)}: {urls}")
        stack = DemoStack(
            inventory=inv,
            run_dir=run_dir,
            endpoints=urls,
            prometheus=PrometheusAPI(_base_url(urls["prometheus"])),
            alertmanager=AlertmanagerAPI(_base_url(urls["alertmanager"])),
            admin_url=_base_url(urls["simulator"]),
        )
        wait_for(stack.prometheus.ready, 30, what="Prometheus ready")
        wait_for(stack.alertmanager.ready, 30, what="Alertmanager ready")
        yield stack

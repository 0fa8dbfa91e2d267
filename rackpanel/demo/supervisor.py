"""Start child services, wait until each is ready, and stop every one of them (no leftovers).

Each service runs in its own session (process group) with its output in ``<logs>/<name>.log``,
so stopping it stops whatever it spawned too. Readiness is a real probe: an HTTP GET answering
2xx, or a TCP connect.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rackpanel.demo.ports import check_free

PR_SET_PDEATHSIG = 1


@dataclass
class Service:
    """One process of the demo and how to know it is ready."""

    name: str
    kind: str  # simulator, exporter, writer, prometheus, alertmanager, grafana
    argv: list[str]
    url: str  # what endpoints.json lists for it
    binds: list[tuple[str, int]] = field(default_factory=list)  # (host, port) it will listen on
    ready_http: str | None = None  # GET this until it answers 2xx
    ready_tcp: list[tuple[str, int]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None


class ServiceFailed(RuntimeError):
    pass


@dataclass
class Running:
    service: Service
    process: subprocess.Popen[bytes]
    log: Path


def _die_with_parent() -> None:
    """In the child, before exec: be killed if the demo itself dies, even by SIGKILL (Linux).

    SIGKILL rather than SIGTERM because it also ends a process frozen by the power follower.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _tcp_ok(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Supervisor:
    """Owns every child process of the demo; ``stop()`` is safe to call at any time, twice."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[Running] = []

    def check_ports(self, services: Iterable[Service]) -> None:
        for service in services:
            for host, port in service.binds:
                check_free(service.name, host, port)

    def start(self, service: Service) -> Running:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{service.name}.log"
        with open(log, "ab") as handle:
            process = subprocess.Popen(
                service.argv,
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **service.env},
                cwd=service.cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        running = Running(service, process, log)
        self.running.append(running)
        return running

    def _is_ready(self, running: Running) -> bool:
        service = running.service
        if running.process.poll() is not None:
            raise ServiceFailed(
                f"{service.name} exited with status {running.process.returncode} while "
                f"starting; last lines of {running.log}:\n{tail(running.log)}"
            )
        if service.ready_http and not _http_ok(service.ready_http):
            return False
        return all(_tcp_ok(h, p) for h, p in service.ready_tcp)

    def wait_ready(self, group: list[Running], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = list(group)
        while pending:
            pending = [r for r in pending if not self._is_ready(r)]
            if not pending:
                return
            if time.monotonic() > deadline:
                names = ", ".join(r.service.name for r in pending)
                detail = "\n".join(f"--- {r.log}:\n{tail(r.log, 8)}" for r in pending[:3])
                raise ServiceFailed(f"not ready after {timeout:.0f} s: {names}\n{detail}")
            time.sleep(0.1)

    def dead(self) -> list[Running]:
        return [r for r in self.running if r.process.poll() is not None]

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM every process group (newest first), then SIGKILL what is still alive."""
        for running in reversed(self.running):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(running.process.pid, signal.SIGTERM)
                os.killpg(running.process.pid, signal.SIGCONT)  # a frozen process must wake to die
        deadline = time.monotonic() + grace
        for running in reversed(self.running):
            remaining = max(0.1, deadline - time.monotonic())
            with contextlib.suppress(subprocess.TimeoutExpired):
                running.process.wait(timeout=remaining)
            # The group may hold children of the service: kill the whole group regardless.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(running.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                running.process.wait(timeout=2)
        self.running.clear()

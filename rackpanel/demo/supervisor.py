"""Start child services, wait until each is ready, keep them up, and stop every one of them.

Each service runs in its own session (process group) with its output in ``<logs>/<name>.log``,
so stopping it stops whatever it spawned too. Readiness is a real probe: an HTTP GET answering
2xx, or a TCP connect.

Once the demo runs, :meth:`Supervisor.watch` keeps it up: an exporter or a writer that exits is
started again after a backoff (1 s, doubling to 30 s; back to 1 s once it has run a minute),
and every crash and restart is one line in :attr:`Supervisor.events` (the panel shows them).
The simulator is the cluster itself: if it exits, the watch calls ``on_fatal`` with the reason
and the tail of its log, and the demo stops rather than run on without it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rackpanel.demo.ports import check_free

PR_SET_PDEATHSIG = 1
RESTARTED_KINDS = ("exporter", "writer")
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
STABLE_AFTER = 60.0  # a service up this long starts its backoff again from BACKOFF_FIRST
WATCH_INTERVAL = 0.5


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


class SimulatorDied(ServiceFailed):
    pass


@dataclass
class Running:
    service: Service
    process: subprocess.Popen[bytes]
    log: Path
    started: float = field(default_factory=time.monotonic)
    restarts: int = 0  # in a row, without a stable run in between
    due: float | None = None  # when a dead service is started again
    reported: bool = False  # its death is in the events already

    def backoff(self) -> float:
        return min(BACKOFF_MAX, BACKOFF_FIRST * 2**self.restarts)


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
        self.events: deque[str] = deque(maxlen=100)  # newest last; the panel shows the tail
        self._lock = threading.RLock()
        self._watching = threading.Event()
        self._watcher: threading.Thread | None = None
        self.events_total = 0  # every line ever added (the deque keeps the last 100)
        self.fatal: str | None = None  # why the watch gave up (the simulator died)

    def check_ports(self, services: Iterable[Service]) -> None:
        for service in services:
            for host, port in service.binds:
                check_free(service.name, host, port)

    def _spawn(self, service: Service) -> tuple[subprocess.Popen[bytes], Path]:
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
        return process, log

    def start(self, service: Service) -> Running:
        process, log = self._spawn(service)
        running = Running(service, process, log)
        with self._lock:
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

    def _event(self, line: str) -> None:
        self.events.append(f"{time.strftime('%H:%M:%S')} {line}")
        self.events_total += 1

    def events_after(self, seen: int) -> tuple[int, list[str]]:
        """How many lines there were so far, and those after the first ``seen`` still kept."""
        with self._lock:
            total, kept = self.events_total, list(self.events)
        return total, kept[len(kept) - min(total - seen, len(kept)) :]

    def latest_event(self) -> tuple[int, str]:
        """How many lines there were so far, and the newest (what the terminal panel shows)."""
        with self._lock:
            return self.events_total, (self.events[-1] if self.events else "")

    def check(self) -> None:
        """One round of the watch: restart what is due; SimulatorDied if the simulator exited."""
        now = time.monotonic()
        with self._lock:
            for r in self.running:
                code = r.process.poll()
                if code is None:
                    if r.restarts and now - r.started > STABLE_AFTER:
                        r.restarts = 0
                    continue
                kind = r.service.kind
                if kind == "simulator":
                    raise SimulatorDied(
                        f"the simulator exited with status {code}; the demo cannot go on without "
                        f"its cluster. Last lines of {r.log}:\n{tail(r.log)}"
                    )
                if not r.reported:
                    r.reported = True
                    if kind in RESTARTED_KINDS:
                        r.due = now + r.backoff()
                        self._event(
                            f"{r.service.name} exited with status {code}; restarting in "
                            f"{r.backoff():g} s (log: {r.log})"
                        )
                    else:
                        self._event(f"{r.service.name} exited with status {code}; see {r.log}")
                if r.due is not None and now >= r.due:
                    r.process, r.log = self._spawn(r.service)
                    r.started, r.due, r.reported = now, None, False
                    r.restarts += 1
                    self._event(f"{r.service.name} restarted (restart {r.restarts} in a row)")

    def watch(self, on_fatal: Callable[[str], None], interval: float = WATCH_INTERVAL) -> None:
        """Run :meth:`check` on a thread until :meth:`stop`; ``on_fatal(message)`` once."""

        def loop() -> None:
            while not self._watching.wait(interval):
                try:
                    self.check()
                except SimulatorDied as exc:
                    with self._lock:
                        self._event("the simulator died: stopping the demo")
                    self.fatal = str(exc)
                    on_fatal(self.fatal)
                    return

        self._watcher = threading.Thread(target=loop, name="supervisor-watch", daemon=True)
        self._watcher.start()

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM every process group (newest first), then SIGKILL what is still alive."""
        self._watching.set()
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join(timeout=5)
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

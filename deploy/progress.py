"""Per-host progress of a deploy: a live table of each host's current step on a terminal,
one line per step (the log), and a summary table at the end."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console
from rich.live import Live
from rich.table import Table


@dataclass
class HostOutcome:
    """How one host ended: ``ok``, ``unchanged``, ``failed`` or ``skipped``, and what changed."""

    name: str
    status: str = "pending"
    changed: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    reason: str = ""
    phases: dict[str, float] = field(default_factory=dict)  # install phase → seconds it took


class Progress:
    """Thread-safe reporter. Subclass or replace to observe a deploy (tests, other UIs)."""

    def __init__(self, console: Console | None = None, live: bool | None = None) -> None:
        self.console = console or Console(highlight=False)
        self.live = self.console.is_terminal if live is None else live
        self._lock = threading.RLock()
        self._last_percent: dict[tuple[str, str], int] = {}
        self._current: dict[str, str] = {}
        self._display: Live | None = None

    def _board(self) -> Table:
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column("host", style="bold", no_wrap=True)
        table.add_column("now")
        for host, text in self._current.items():
            table.add_row(host, text)
        return table

    @contextmanager
    def showing(self, hosts: Sequence[str]) -> Iterator[Progress]:
        """While inside, a terminal shows every host's current step below the log lines."""
        with self._lock:
            self._current = dict.fromkeys(hosts, "waiting")
        if not self.live:
            yield self
            return
        with Live(
            self._board(), console=self.console, refresh_per_second=8, transient=True
        ) as display:
            self._display = display
            try:
                yield self
            finally:
                self._display = None

    def step(self, host: str, text: str) -> None:
        with self._lock:
            self._current[host] = text
            self.console.print(f"[bold]{host}[/bold]: {text}", markup=True, soft_wrap=True)
            if self._display is not None:
                self._display.update(self._board())

    def upload(self, host: str, path: str, sent: int, total: int) -> None:
        """Called while a file is uploaded; prints at most every 25 % of a large file."""
        if total < 256 * 1024:
            return
        percent = 100 * sent // max(total, 1)
        key = (host, path)
        if percent - self._last_percent.get(key, -100) >= 25:
            self._last_percent[key] = percent
            self.step(host, f"uploading {path}: {percent}%")

    def summary(self, outcomes: list[HostOutcome]) -> None:
        table = Table(title="rackpanel deploy apply")
        for column in ("host", "result", "installed", "files changed", "actions"):
            table.add_column(column, no_wrap=column == "host")
        colours = {"ok": "green", "unchanged": "dim", "failed": "red", "skipped": "yellow"}
        for o in outcomes:
            status = f"[{colours.get(o.status, 'white')}]{o.status}[/]"
            phases = "\n".join(f"{name} {took:.0f} s" for name, took in o.phases.items())
            table.add_row(o.name, status, phases, str(len(o.changed)), "\n".join(o.actions))
        with self._lock:
            self.console.print(table)
            for o in outcomes:
                if o.reason:
                    self.console.print(
                        f"{o.name}: {o.status}: {o.reason}", markup=False, soft_wrap=True
                    )

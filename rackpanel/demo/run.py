"""Bring the whole demo up, keep it up, and take every piece of it down again."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table

from rackpanel.demo.power_follower import PowerFollower
from rackpanel.demo.stack import (
    StackOptions,
    grafana_admin_password_file,
    kiosk_path,
    monitor_host,
    phases,
    simulator_pid_file,
    write_endpoints,
)
from rackpanel.demo.supervisor import Service, Supervisor
from rackpanel.topology import Inventory

STARTUP_TIMEOUT = 60.0
# Ctrl-C, `kill`, and the terminal closing (SIGHUP) all stop the demo the same clean way.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def prepare_run_dir(run_dir: Path) -> None:
    """Fresh configs and logs for this run; old generated files never linger."""
    for sub in ("prometheus", "grafana", "logs", "data"):
        shutil.rmtree(run_dir / sub, ignore_errors=True)
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    (run_dir / "endpoints.json").unlink(missing_ok=True)


@contextmanager
def running_stack(
    inv: Inventory, opts: StackOptions, say: Callable[[str], None] = lambda _: None
) -> Iterator[tuple[Supervisor, list[Service], PowerFollower]]:
    """Start every service of the demo; on exit (or failure) stop all of them."""
    prepare_run_dir(opts.run_dir)
    groups = phases(inv, opts)
    supervisor = Supervisor(opts.run_dir / "logs")
    supervisor.check_ports(s for group in groups for s in group)
    started: list[Service] = []
    follower: PowerFollower | None = None
    try:
        for group in groups:
            say("starting " + ", ".join(sorted({s.kind for s in group})))
            running = [supervisor.start(s) for s in group]
            for r in running:
                if r.service.kind == "simulator":
                    simulator_pid_file(opts).write_text(f"{r.process.pid}\n")
            supervisor.wait_ready(running, STARTUP_TIMEOUT)
            started += group
        follower = PowerFollower(
            f"http://{inv.simulator.admin_address}",
            {
                r.service.name.removeprefix("exporter-"): r
                for r in supervisor.running
                if r.service.kind == "exporter"
            },
        )
        follower.start()
        # a dead simulator ends the demo the same clean way as Ctrl-C (SIGTERM to ourselves)
        supervisor.watch(lambda _reason: os.kill(os.getpid(), signal.SIGTERM))
        write_endpoints(opts.run_dir / "endpoints.json", started)
        yield supervisor, started, follower
    finally:
        if follower is not None:
            follower.stop()
        supervisor.stop()


def summary(inv: Inventory, services: list[Service], seconds: float) -> Table:
    table = Table(title=f"rackpanel demo: {inv.cluster.name} — ready in {seconds:.1f} s")
    table.add_column("service")
    table.add_column("kind")
    table.add_column("where")
    for s in services:
        table.add_row(s.name, s.kind, s.url)
    return table


def wait_for_signal(supervisor: Supervisor, console: Console) -> None:
    """Headless mode: run until SIGINT/SIGTERM; print each crash and restart as it happens."""
    stop = threading.Event()
    for sig in STOP_SIGNALS:
        signal.signal(sig, lambda *_: stop.set())
    shown = 0

    def print_new_events() -> None:
        nonlocal shown
        shown, lines = supervisor.events_after(shown)
        for line in lines:
            console.print(f"[yellow]{line}[/yellow]", soft_wrap=True)

    while not stop.wait(1.0):
        print_new_events()
    print_new_events()  # what happened since the last tick (a restart just before a fatal end)


def run_demo(inv: Inventory, opts: StackOptions, ui: bool) -> int:
    console = Console(stderr=True)
    began = time.monotonic()
    with running_stack(inv, opts, say=lambda m: console.print(f"[dim]{m}…[/dim]")) as (
        supervisor,
        services,
        _follower,
    ):
        console.print(summary(inv, services, time.monotonic() - began))
        grafana = next((s for s in services if s.kind == "grafana"), None)
        if grafana:
            console.print(f"kiosk: {grafana.url}", soft_wrap=True)
            password = grafana_admin_password_file(opts.run_dir)
            console.print(f"grafana admin password (user admin): in {password}", soft_wrap=True)
        else:
            port = inv.monitor_ports.grafana
            console.print(f"kiosk: http://{monitor_host(inv)}:{port}{kiosk_path()}", soft_wrap=True)
            console.print("[dim](grafana is not on PATH, so it was not started)[/dim]")
        web = next((s for s in services if s.kind == "web-panel"), None)
        if web:
            console.print(f"web panel: {web.url}", soft_wrap=True)
        console.print(f"run directory: {opts.run_dir} (endpoints.json, logs/)")
        if ui:
            from rackpanel.demo.panel import run_panel
            from rackpanel.panel.app import panel_parts
            from rackpanel.panel.stacks import Monitoring

            urls = {s.kind: s.url.rstrip("/") for s in services}
            monitoring = Monitoring(
                urls.get("prometheus", ""), urls.get("alertmanager", ""), urls.get("grafana", "")
            )
            run_panel(*panel_parts(inv, "sim", monitoring), supervisor.latest_event)
        else:
            console.print("running headless; Ctrl-C or SIGTERM stops everything")
            wait_for_signal(supervisor, console)
        console.print("stopping…")
    console.print("stopped: every process of the demo has exited")
    if supervisor.fatal:
        console.print(f"[red]{supervisor.fatal}[/red]", soft_wrap=True, highlight=False)
        return 1
    return 0

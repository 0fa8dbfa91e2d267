"""The demo's services, derived from the inventory: what runs, where, and how to tell it is up.

Every address is the inventory's simulator address (loopback), so the exporters, writers and
Prometheus see nine distinct hosts exactly as on the panel's Pis.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from rackpanel.demo.supervisor import Service
from rackpanel.secret_files import warn_if_readable_by_others
from rackpanel.topology import Inventory
from rackpanel.topology.service_options import (
    as_argv,
    exporter_options,
    simulated_writer_options,
)

RACKPANEL = [sys.executable, "-m", "rackpanel"]


@dataclass(frozen=True)
class StackOptions:
    inventory_path: Path
    run_dir: Path
    failure_detector: str = "fast"
    exporter_interval: float = 1.0
    with_prometheus: bool = True
    with_grafana: bool = True
    web_port: int | None = 8080  # the web panel's port on the monitor host; None: no web panel


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def simulator_pid_file(opts: StackOptions) -> Path:
    return opts.run_dir / "simulator.pid"


def simulator_service(inv: Inventory, opts: StackOptions) -> Service:
    admin_host, admin_port = split_address(inv.simulator.admin_address)
    cql = inv.ports.cql
    binds = [(admin_host, admin_port)]
    binds += [(str(p.sim_address), cql) for p in inv.nodes()]
    binds += [(str(p.sim_address), inv.ports.jolokia) for p in inv.nodes()]
    return Service(
        name="simulator",
        kind="simulator",
        argv=[
            *RACKPANEL,
            "sim",
            "--inventory",
            str(opts.inventory_path),
            "--failure-detector",
            opts.failure_detector,
            "--admin",
            inv.simulator.admin_address,
        ],
        url=f"http://{inv.simulator.admin_address}/state",
        binds=binds,
        ready_http=f"http://{inv.simulator.admin_address}/health",
        ready_tcp=[(str(p.sim_address), cql) for p in inv.nodes()],
    )


def exporter_services(inv: Inventory, opts: StackOptions) -> list[Service]:
    services = []
    for place in inv.nodes():
        host = str(place.sim_address)
        services.append(
            Service(
                name=f"exporter-{place.name}",
                kind="exporter",
                argv=[
                    *RACKPANEL,
                    "exporter",
                    *as_argv(exporter_options(inv, place, "sim")),
                    "--interval",
                    str(opts.exporter_interval),
                    # The process serving this node is the simulator: the proc source reads it.
                    "--pid-file",
                    str(simulator_pid_file(opts)),
                ],
                url=f"http://{host}:{inv.ports.exporter}/metrics",
                binds=[(host, inv.ports.exporter)],
                ready_http=f"http://{host}:{inv.ports.exporter}/metrics",
            )
        )
    return services


def writer_services(inv: Inventory) -> list[Service]:
    services = []
    for place in inv.writer_places():
        host = str(place.sim_address)
        options = simulated_writer_options(inv, place, display="none")
        options["keypad-api"] = True  # the terminal panel drives the keypads over HTTP
        services.append(
            Service(
                name=f"writer-{place.name}",
                kind="writer",
                argv=[*RACKPANEL, "writer", *as_argv(options)],
                url=f"http://{host}:{inv.ports.writer}/lcd",
                binds=[(host, inv.ports.writer)],
                ready_http=f"http://{host}:{inv.ports.writer}/lcd",
            )
        )
    return services


def monitor_host(inv: Inventory) -> str:
    return str(inv.monitor.sim_address) if inv.monitor else "127.0.0.1"


def _monitor_ports(inv: Inventory) -> tuple[int, int, int]:
    return inv.monitor_ports


def write_prometheus_config(inv: Inventory, directory: Path) -> Path:
    """Render the demo-profile Prometheus + Alertmanager configuration for the simulator."""
    from rackpanel.prometheus.config import render

    for rel, text in render(inv, placement="sim", profile="demo").items():
        target = directory / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return directory


def prometheus_services(inv: Inventory, opts: StackOptions) -> list[Service]:
    prom_bin = shutil.which("prometheus")
    am_bin = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if not (opts.with_prometheus and prom_bin):
        return []
    host = monitor_host(inv)
    prom_port, am_port, _ = _monitor_ports(inv)
    conf = write_prometheus_config(inv, opts.run_dir / "prometheus")
    services = [
        Service(
            name="prometheus",
            kind="prometheus",
            argv=[
                prom_bin,
                f"--config.file={conf / 'prometheus.yml'}",
                f"--storage.tsdb.path={opts.run_dir / 'data' / 'prometheus'}",
                f"--web.listen-address={host}:{prom_port}",
                "--storage.tsdb.retention.time=1d",
            ],
            url=f"http://{host}:{prom_port}/",
            binds=[(host, prom_port)],
            ready_http=f"http://{host}:{prom_port}/-/ready",
            cwd=str(conf),
        )
    ]
    if am_bin:
        services.append(
            Service(
                name="alertmanager",
                kind="alertmanager",
                argv=[
                    am_bin,
                    f"--config.file={conf / 'alertmanager.yml'}",
                    f"--storage.path={opts.run_dir / 'data' / 'alertmanager'}",
                    f"--web.listen-address={host}:{am_port}",
                    "--cluster.listen-address=",
                ],
                url=f"http://{host}:{am_port}/",
                binds=[(host, am_port)],
                ready_http=f"http://{host}:{am_port}/-/ready",
            )
        )
    return services


def grafana_services(inv: Inventory, opts: StackOptions) -> list[Service]:
    """Grafana, when installed, provisioned with dashboards built from *this* inventory."""
    binary = shutil.which("grafana") or shutil.which("grafana-server")
    if not (opts.with_grafana and opts.with_prometheus and binary):
        return []
    from rackpanel.dashboards.catalog import json_files
    from rackpanel.dashboards.provisioning import grafana_environment, provisioning

    host = monitor_host(inv)
    prom_port, am_port, grafana_port = _monitor_ports(inv)
    base = opts.run_dir / "grafana"
    boards = base / "dashboards"
    for rel, text in json_files(inv).items():
        target = boards / Path(rel).name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    files = provisioning(
        prometheus_url=f"http://{host}:{prom_port}",
        alertmanager_url=f"http://{host}:{am_port}",
        dashboards_dir=str(boards),
    )
    for rel, text in files.items():
        target = base / "provisioning" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    home = Path("/usr/share/grafana")
    argv = [binary, "server"] if binary.endswith("/grafana") else [binary]
    if home.is_dir():
        argv += ["--homepath", str(home)]
    return [
        Service(
            name="grafana",
            kind="grafana",
            argv=argv,
            url=f"http://{host}:{grafana_port}{kiosk_path()}",
            binds=[(host, grafana_port)],
            ready_http=f"http://{host}:{grafana_port}/api/health",
            env={
                **grafana_environment(str(boards)),
                "GF_PATHS_PROVISIONING": str(base / "provisioning"),
                "GF_PATHS_DATA": str(base / "data"),
                "GF_PATHS_LOGS": str(base / "logs"),
                "GF_SERVER_HTTP_ADDR": host,
                "GF_SERVER_HTTP_PORT": str(grafana_port),
                "GF_ANALYTICS_REPORTING_ENABLED": "false",
                "GF_ANALYTICS_CHECK_FOR_UPDATES": "false",
                "GF_SECURITY_ADMIN_PASSWORD": grafana_admin_password(opts.run_dir),
            },
        )
    ]


def grafana_admin_password_file(run_dir: Path) -> Path:
    return run_dir / "grafana-admin-password"


def grafana_admin_password(run_dir: Path) -> str:
    """The demo Grafana's admin password: generated on the first run into the run directory
    (mode 0600) and kept for the next runs, so Grafana never starts with admin/admin."""
    path = grafana_admin_password_file(run_dir)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(18) + "\n")
    warn_if_readable_by_others(path, "the Grafana admin password file")
    return path.read_text().strip()


def kiosk_path() -> str:
    try:
        from rackpanel.dashboards.generate import KIOSK_PATH
    except ImportError:  # the dashboards part is optional for the demo
        return "/d/rackpanel-panel?orgId=1&kiosk&refresh=5s"
    return str(KIOSK_PATH)


def web_panel_service(inv: Inventory, opts: StackOptions, monitoring: list[Service]) -> Service:
    """`rackpanel panel` for this stack, told which monitoring services really run."""
    host = monitor_host(inv)
    urls = {s.kind: s.url.rstrip("/") for s in monitoring}
    return Service(
        name="web-panel",
        kind="web-panel",
        argv=[
            *RACKPANEL,
            "panel",
            "--inventory",
            str(opts.inventory_path),
            "--stack",
            "sim",
            "--listen",
            f"{host}:{opts.web_port}",
            "--prometheus",
            urls.get("prometheus", ""),
            "--alertmanager",
            urls.get("alertmanager", ""),
            "--grafana",
            urls.get("grafana", ""),
        ],
        url=f"http://{host}:{opts.web_port}/",
        binds=[(host, opts.web_port or 0)],
        ready_http=f"http://{host}:{opts.web_port}/api/snapshot",
    )


def phases(inv: Inventory, opts: StackOptions) -> list[list[Service]]:
    """Start order: the simulator first, then everything that talks to it, all at once."""
    monitoring = prometheus_services(inv, opts) + grafana_services(inv, opts)
    rest = exporter_services(inv, opts) + writer_services(inv) + monitoring
    if opts.web_port is not None:
        rest.append(web_panel_service(inv, opts, monitoring))
    return [[simulator_service(inv, opts)], rest]


def write_endpoints(path: Path, services: list[Service]) -> None:
    data = {
        "services": [{"name": s.name, "kind": s.kind, "url": s.url} for s in services],
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)

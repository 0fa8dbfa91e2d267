"""Where the panel finds a running stack's services, and what its emergency stops act on.

- ``sim``: the embedded simulator (``rackpanel sim`` or ``rackpanel demo``): every service on its
  simulator address; the stops are the simulator's power (admin API).
- ``compose``: the docker compose stack: Prometheus, Alertmanager and Grafana on 127.0.0.1
  (the only published ports; node views come through Prometheus); the stops kill and start
  containers.
- ``pi``: the real panel: the inventory's real addresses; the stops are physical, read-only here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rackpanel.panel.sources import ActionFailed, Endpoints, Sources
from rackpanel.topology import Inventory

STACKS = ("sim", "compose", "pi")
PowerAction = Callable[[str, str], Awaitable[Any]]


@dataclass(frozen=True)
class Monitoring:
    """Explicit monitoring URLs (None: the stack's default; "" : none)."""

    prometheus: str | None = None
    alertmanager: str | None = None
    grafana: str | None = None


NO_OVERRIDES = Monitoring()


def _monitor_host(inv: Inventory, stack: str) -> str:
    if stack == "compose" or inv.monitor is None:
        return "127.0.0.1"
    return str(inv.monitor.sim_address if stack == "sim" else inv.monitor.address)


def _pick(given: str | None, default: str | None) -> str | None:
    if given is None:
        return default
    return given.rstrip("/") or None


def kiosk_path() -> str:
    from rackpanel.dashboards.provisioning import KIOSK_PATH

    return str(KIOSK_PATH)


def endpoints(inv: Inventory, stack: str, monitoring: Monitoring = NO_OVERRIDES) -> Endpoints:
    if stack not in STACKS:
        raise ValueError(f"unknown stack {stack!r}: one of {', '.join(STACKS)}")
    host = _monitor_host(inv, stack)
    prom_port, am_port, grafana_port = inv.monitor_ports
    simulated = stack == "sim"
    reachable = stack != "compose"  # compose publishes no exporter or writer port
    from rackpanel.simulator.cluster.admin import admin_token

    return Endpoints(
        admin=f"http://{inv.simulator.admin_address}" if simulated else None,
        admin_token=admin_token() if simulated else None,
        writers={
            w.name: f"http://{w.host(simulated)}:{inv.ports.writer}"
            for w in inv.writer_places()
            if reachable
        },
        exporters={
            p.name: f"http://{p.host(simulated)}:{inv.ports.exporter}/metrics"
            for p in inv.nodes()
            if reachable
        },
        prometheus=_pick(monitoring.prometheus, f"http://{host}:{prom_port}"),
        alertmanager=_pick(monitoring.alertmanager, f"http://{host}:{am_port}"),
        # Grafana is linked when configured: compose and the monitor Pi run one, the
        # simulator's demo only when Grafana is installed (it then says so).
        grafana=_pick(
            monitoring.grafana,
            None if simulated else f"http://{host}:{grafana_port}{kiosk_path()}",
        ),
    )


def header_links(ep: Endpoints) -> list[dict[str, str]]:
    links = []
    if ep.grafana:
        links.append({"label": "Grafana kiosk", "url": ep.grafana})
    if ep.prometheus:
        # Debian's Prometheus 2.42 serves its alerts page on the classic UI only
        links.append({"label": "Prometheus alerts", "url": f"{ep.prometheus}/classic/alerts"})
    if ep.alertmanager:
        links.append({"label": "Alertmanager", "url": f"{ep.alertmanager}/#/alerts"})
    return links


def addresses(inv: Inventory, stack: str) -> dict[str, str]:
    """Node name -> the address its peers report it by (``cassandra_endpoint_up{endpoint}``)."""
    return {p.name: p.host(stack == "sim") for p in inv.nodes()}


def compose_power(inv: Inventory, compose_file: str) -> PowerAction:
    from rackpanel.compose import compose_command, node_services

    async def power(action: str, target: str) -> dict[str, Any]:
        try:
            services = node_services(inv, target)
        except ValueError as exc:
            raise ActionFailed(str(exc)) from exc
        try:
            process = await asyncio.create_subprocess_exec(
                *compose_command(compose_file, action, services),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
        except OSError as exc:
            raise ActionFailed(f"docker compose: {exc.strerror or exc}") from exc
        output, _ = await process.communicate()
        if process.returncode != 0:
            tail = output.decode(errors="replace").strip().splitlines()[-1:] or [""]
            raise ActionFailed(f"docker compose exited with {process.returncode}: {tail[0]}")
        return {"affected": services}

    return power


def power_action(
    inv: Inventory, stack: str, sources: Sources, compose_file: str
) -> PowerAction | None:
    if stack == "sim":
        return sources.power
    if stack == "compose":
        return compose_power(inv, compose_file)
    return None  # the real panel's stops are mushroom buttons on the wood

"""The placement catalogue: where each process of the inventory runs, per placement.

- ``pi``: the hosts' real addresses (Raspberry Pis, the committed Prometheus files);
- ``sim``: the simulator's loopback addresses (``rackpanel demo`` on a laptop);
- ``compose``: container hostnames, named after the inventory hosts (docker-compose.yml).

Every node runs Cassandra (CQL port) and its exporter; every writer its LCD writer; the monitor
host Prometheus, Alertmanager and Grafana. Prometheus targets, the panels and the compose file
ask here for a process's address instead of working it out again.
"""

from __future__ import annotations

from typing import Literal

from rackpanel.topology.model import Inventory, NodePlace, WriterPlace

Placement = Literal["pi", "sim", "compose"]
PLACEMENTS: tuple[Placement, ...] = ("pi", "sim", "compose")

# Compose service names of the monitor host's processes.
COMPOSE_MONITOR = {"prometheus": "prometheus", "alertmanager": "alertmanager", "grafana": "grafana"}


def check_placement(placement: str) -> Placement:
    if placement not in PLACEMENTS:
        raise ValueError(f"unknown placement {placement!r} (known: {', '.join(PLACEMENTS)})")
    return placement  # type: ignore[return-value]


def host(place: NodePlace | WriterPlace, placement: Placement) -> str:
    """The host a node or writer is reached at."""
    if placement == "compose":
        return place.name
    return place.host(simulated=placement == "sim")


def cql_address(inv: Inventory, place: NodePlace, placement: Placement) -> str:
    return f"{host(place, placement)}:{inv.ports.cql}"


def exporter_address(inv: Inventory, place: NodePlace, placement: Placement) -> str:
    return f"{host(place, placement)}:{inv.ports.exporter}"


def writer_address(inv: Inventory, place: WriterPlace, placement: Placement) -> str:
    return f"{host(place, placement)}:{inv.ports.writer}"


def monitor_address(
    inv: Inventory,
    service: Literal["prometheus", "alertmanager", "grafana"],
    placement: Placement,
    *,
    beside: bool = False,
) -> str:
    """A monitor service's address; ``beside``: as seen from the monitor host itself (pi)."""
    port = getattr(inv.monitor_ports, service)
    if placement == "compose":
        return f"{COMPOSE_MONITOR[service]}:{port}"
    if placement == "sim":
        return f"{inv.monitor.sim_address if inv.monitor else '127.0.0.1'}:{port}"
    if beside or inv.monitor is None:
        return f"127.0.0.1:{port}"
    return f"{inv.monitor.address}:{port}"

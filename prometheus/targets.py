"""file_sd target lists: one exporter per node (job cassandra), one per writer (job lcd_writer).

A placement says where the processes are reachable from Prometheus:

- ``pi``: the hosts' real addresses (the committed files, deployed to the monitor host);
- ``sim``: the simulator's loopback addresses (``rackpanel demo`` on a laptop);
- ``compose``: container hostnames, named after the inventory hosts (docker-compose.yml).
"""

from __future__ import annotations

from typing import Literal

from rackpanel.prometheus.jobs import WRITER_RACK
from rackpanel.topology import Inventory, NodePlace, WriterPlace

Placement = Literal["pi", "sim", "compose"]
PLACEMENTS: tuple[Placement, ...] = ("pi", "sim", "compose")


def _host(place: NodePlace | WriterPlace, placement: Placement) -> str:
    if placement == "compose":
        return place.name
    return place.host(simulated=placement == "sim")


def _target_group(
    inv: Inventory,
    place: NodePlace | WriterPlace,
    placement: Placement,
    port: int,
    *,
    dc: str,
    rack: str,
) -> dict[str, object]:
    """One file_sd entry: a process's address with the cluster/dc/rack/node labels."""
    return {
        "targets": [f"{_host(place, placement)}:{port}"],
        "labels": {"cluster": inv.cluster.name, "dc": dc, "rack": rack, "node": place.name},
    }


def cassandra_targets(inv: Inventory, placement: Placement) -> list[dict[str, object]]:
    port = inv.ports.exporter
    return [
        _target_group(inv, place, placement, port, dc=place.dc, rack=place.rack)
        for place in inv.nodes()
    ]


def writer_targets(inv: Inventory, placement: Placement) -> list[dict[str, object]]:
    port = inv.ports.writer
    return [
        _target_group(inv, place, placement, port, dc=place.local_dc, rack=WRITER_RACK)
        for place in inv.writer_places()
    ]


def alertmanager_address(inv: Inventory, placement: Placement) -> str:
    """Where Prometheus finds Alertmanager: beside it on the monitor (or its container)."""
    port = inv.monitor.alertmanager_port if inv.monitor else 9093
    if placement == "compose":
        return f"alertmanager:{port}"
    if placement == "sim" and inv.monitor:
        return f"{inv.monitor.sim_address}:{port}"
    return f"127.0.0.1:{port}"

"""file_sd target lists: one exporter per node (job cassandra), one per writer (job lcd_writer).

Addresses come from the placement catalogue (:mod:`rackpanel.topology.placement`).
"""

from __future__ import annotations

from rackpanel.prometheus.jobs import WRITER_RACK
from rackpanel.topology import Inventory, NodePlace, WriterPlace
from rackpanel.topology.placement import (
    PLACEMENTS,
    Placement,
    exporter_address,
    monitor_address,
    writer_address,
)


def _target_group(
    inv: Inventory,
    place: NodePlace | WriterPlace,
    address: str,
    *,
    dc: str,
    rack: str,
) -> dict[str, object]:
    """One file_sd entry: a process's address with the cluster/dc/rack/node labels."""
    return {
        "targets": [address],
        "labels": {"cluster": inv.cluster.name, "dc": dc, "rack": rack, "node": place.name},
    }


def cassandra_targets(inv: Inventory, placement: Placement) -> list[dict[str, object]]:
    return [
        _target_group(
            inv, place, exporter_address(inv, place, placement), dc=place.dc, rack=place.rack
        )
        for place in inv.nodes()
    ]


def writer_targets(inv: Inventory, placement: Placement) -> list[dict[str, object]]:
    return [
        _target_group(
            inv,
            place,
            writer_address(inv, place, placement),
            dc=place.local_dc,
            rack=WRITER_RACK,
        )
        for place in inv.writer_places()
    ]


def alertmanager_address(inv: Inventory, placement: Placement) -> str:
    """Where Prometheus finds Alertmanager: beside it on the monitor (or its container)."""
    return monitor_address(inv, "alertmanager", placement, beside=True)


__all__ = ["PLACEMENTS", "Placement", "alertmanager_address", "cassandra_targets", "writer_targets"]

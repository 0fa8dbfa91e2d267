"""Whole-file rules of the inventory, each problem one message naming the field at fault."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from rackpanel.topology.model import Inventory


def _duplicates(values: Iterable[str]) -> list[str]:
    return sorted(v for v, n in Counter(values).items() if n > 1)


# The kiosk dashboard draws a rack as one panel with one query per node, and Grafana names a
# panel's queries A to Z: `generate` cannot lay out a bigger rack.
MAX_NODES_PER_RACK = 26


def layout_problems(inv: Inventory) -> list[str]:
    """Limits of the layout that the derived views (simulator addresses, dashboards) need."""
    found: list[str] = []
    for dc_index, dc in enumerate(inv.datacenters, start=1):
        for rack_index, rack in enumerate(dc.racks, start=1):
            where = f"datacenters.{dc.name}.racks.{rack.name}.nodes"
            if len(rack.nodes) > MAX_NODES_PER_RACK:
                found.append(
                    f"{where}: {len(rack.nodes)} nodes; a rack holds at most "
                    f"{MAX_NODES_PER_RACK} (the kiosk dashboard's rack panel has one query per "
                    "node, named A to Z)"
                )
            third = int(f"{dc_index}{rack_index}")
            if third > 255 and any(n.sim_address is None for n in rack.nodes):
                found.append(
                    f"{where}: the default simulator addresses 127.0.{third}.N are not valid "
                    "IPv4 (DC number and rack number side by side); give these nodes a "
                    "sim_address"
                )
    writers_per_dc = Counter(w.local_dc for w in inv.writers if w.sim_address is None)
    dc_index = {dc.name: i for i, dc in enumerate(inv.datacenters, start=1)}
    for dc, count in writers_per_dc.items():
        third = dc_index.get(dc, 0) * 10
        if third > 255 or count > 255:
            found.append(
                f"writers: the default simulator addresses 127.0.{third}.N of DC {dc}'s writers "
                "are not valid IPv4; give them a sim_address"
            )
    return found


def problems(inv: Inventory) -> list[str]:
    """Every cross-field problem of ``inv``; an empty list means the inventory is sound."""
    found = layout_problems(inv)
    if found:  # the checks below derive addresses that do not exist in such a layout
        return found
    node_names = {p.name for p in inv.nodes()}
    dc_names = [dc.name for dc in inv.datacenters]

    if not inv.datacenters:
        found.append("datacenters: at least one datacenter is required")
    for name in _duplicates(dc_names):
        found.append(f"datacenters: duplicate datacenter name {name!r}")
    for dc in inv.datacenters:
        if not dc.racks:
            found.append(f"datacenters.{dc.name}.racks: datacenter {dc.name!r} has no racks")
        for name in _duplicates(r.name for r in dc.racks):
            found.append(f"datacenters.{dc.name}.racks: duplicate rack name {name!r}")
        for rack in dc.racks:
            if not rack.nodes:
                found.append(
                    f"datacenters.{dc.name}.racks.{rack.name}.nodes: rack {rack.name!r} is empty"
                )

    hosts: list[tuple[str, str, str]] = [
        (p.name, str(p.address), str(p.sim_address)) for p in inv.nodes()
    ]
    hosts += [(w.name, str(w.writer.address), str(w.sim_address)) for w in inv.writer_places()]
    if inv.monitor is not None:
        hosts.append((inv.monitor.name, str(inv.monitor.address), str(inv.monitor.sim_address)))
    for name in _duplicates(h[0] for h in hosts):
        found.append(f"hosts: duplicate host name {name!r}")
    for addr in _duplicates(h[1] for h in hosts):
        owners = ", ".join(h[0] for h in hosts if h[1] == addr)
        found.append(f"hosts: address {addr} is used by more than one host ({owners})")
    for addr in _duplicates(h[2] for h in hosts):
        owners = ", ".join(h[0] for h in hosts if h[2] == addr)
        found.append(f"hosts: sim_address {addr} is used by more than one host ({owners})")
    for name, _, sim in hosts:
        if not sim.startswith("127."):
            found.append(f"hosts.{name}.sim_address: {sim} is not a loopback (127.0.0.0/8) address")

    if not inv.seeds:
        found.append("seeds: at least one seed node is required")
    for name in _duplicates(inv.seeds):
        found.append(f"seeds: {name!r} is listed twice")
    for name in inv.seeds:
        if name not in node_names:
            found.append(f"seeds: {name!r} names no node of the inventory")

    for dc, rf in inv.keyspace.replication.items():
        if dc not in dc_names:
            found.append(f"keyspace.replication.{dc}: no datacenter is named {dc!r}")
            continue
        count = sum(1 for p in inv.nodes() if p.dc == dc)
        if rf < 1:
            found.append(f"keyspace.replication.{dc}: replication factor must be at least 1")
        elif rf > count:
            found.append(
                f"keyspace.replication.{dc}: replication factor {rf} is above the "
                f"{count} node(s) of {dc}"
            )

    for dc in inv.datacenters:
        if dc.color is not None and any(c not in (0, 1) for c in dc.color):
            found.append(f"datacenters.{dc.name}.color: each of r, g, b must be 0 or 1")

    for w in inv.writers:
        if w.local_dc not in dc_names:
            found.append(f"writers.{w.name}.local_dc: no datacenter is named {w.local_dc!r}")
        for cp in w.contact_points or []:
            if cp not in node_names:
                found.append(f"writers.{w.name}.contact_points: {cp!r} names no node")
    return found

"""The hosts ``rackpanel deploy`` manages, derived from the inventory, and ``--limit``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rackpanel.topology import Inventory, NodePlace, WriterPlace
from rackpanel.topology.model import Monitor
from rackpanel.topology.targets import TargetError, is_link, select

Role = Literal["node", "writer", "monitor"]


class HostSelectionError(ValueError):
    pass


@dataclass(frozen=True)
class DeployHost:
    """One machine: its inventory name, its role, and where SSH reaches it."""

    name: str
    role: Role
    address: str
    port: int
    node: NodePlace | None = None
    writer: WriterPlace | None = None
    monitor: Monitor | None = None


def all_hosts(inv: Inventory) -> list[DeployHost]:
    """Nodes (inventory order), writers, then the monitor."""
    default_port = inv.ports.ssh
    hosts = [
        DeployHost(p.name, "node", str(p.address), p.node.ssh_port or default_port, node=p)
        for p in inv.nodes()
    ]
    hosts += [
        DeployHost(
            w.name, "writer", str(w.writer.address), w.writer.ssh_port or default_port, writer=w
        )
        for w in inv.writer_places()
    ]
    if inv.monitor is not None:
        m = inv.monitor
        hosts.append(
            DeployHost(m.name, "monitor", str(m.address), m.ssh_port or default_port, monitor=m)
        )
    return hosts


def select_hosts(inv: Inventory, limit: Sequence[str] | None) -> list[DeployHost]:
    """Every host, or those named in ``limit`` (host names, or a DC / DC/RACK of nodes)."""
    hosts = all_hosts(inv)
    if not limit:
        return hosts
    chosen: list[DeployHost] = []
    for wanted in limit:
        matches = [h for h in hosts if _matches(h, wanted)]
        if not matches:
            known = ", ".join(h.name for h in hosts)
            raise HostSelectionError(
                f"--limit {wanted!r} names no host of the inventory (hosts: {known})"
            )
        chosen += [h for h in matches if h not in chosen]
    return [h for h in hosts if h in chosen]


def _matches(host: DeployHost, wanted: str) -> bool:
    """By host name (any role), or a node host by DC / DC/RACK (the one target grammar)."""
    if host.name == wanted:
        return True
    if host.node is None or is_link(wanted):
        return False
    try:
        return bool(select(wanted, [host.node], links=False).members)
    except TargetError:
        return False

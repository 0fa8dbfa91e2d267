"""The options of a writer and of an exporter, derived once from the inventory for every
placement they run in.

The demo (simulator addresses, flags), the compose file (container names, flags) and deploy
(real addresses, a ``--config`` YAML file on the Pi) differ only in where things are; what the
services are told comes from here, so the three cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from rackpanel.topology import Inventory, NodePlace, WriterPlace
from rackpanel.topology.placement import Placement

# Where Cassandra keeps these on a Pi (Debian package) and in its container.
GC_LOG = "/var/log/cassandra/gc.log"
PID_FILE = "/var/run/cassandra/cassandra.pid"


def exporter_options(inv: Inventory, place: NodePlace, placement: Placement) -> dict[str, Any]:
    """Long option name → value for `rackpanel exporter` beside ``place`` in ``placement``.

    ``sim``: on the node's simulator address (the demo adds its interval and pid file);
    ``compose``: in the node container's network namespace (loopback to Cassandra, the node's
    gc.log volume); ``pi``: on the Pi itself, Jolokia only when the inventory installs it.
    """
    cql, exporter, jolokia = inv.ports.cql, inv.ports.exporter, inv.ports.jolokia
    if placement == "sim":
        host = str(place.sim_address)
        return {
            "cassandra": f"{host}:{cql}",
            "listen": f"{host}:{exporter}",
            "jolokia": f"http://{host}:{jolokia}/jolokia/",
            # Every simulated node is the one simulator process: when a busy laptop stalls it,
            # a collection that gave up after the default 1 s would show all nodes down at
            # once. 3 s rides that out and delays no detection: a cut node's exporter is
            # frozen with it (the demo's power follower), a crashed one is refused at once.
            "timeout": "3",
        }
    if placement == "compose":
        return {
            "cassandra": f"127.0.0.1:{cql}",
            "listen": f"0.0.0.0:{exporter}",
            "gc-log": GC_LOG,
            "jolokia": f"http://127.0.0.1:{jolokia}/jolokia/",
            "interval": "2",
        }
    return {
        "cassandra": f"{place.address}:{cql}",
        "listen": f"0.0.0.0:{exporter}",
        "pid-file": PID_FILE,
        "gc-log": GC_LOG,
        "jolokia": f"http://{place.address}:{jolokia}/jolokia/" if inv.jolokia_on() else "none",
    }


def writer_options(
    inv: Inventory,
    place: WriterPlace,
    *,
    contact_points: list[str],
    listen: str,
    display: str,
) -> dict[str, Any]:
    """Long option name → value, as `rackpanel writer` and its ``--config`` file take them."""
    options: dict[str, Any] = {
        "name": place.name,
        "local-dc": place.local_dc,
        "contact-points": contact_points,
        "used-hosts-per-remote-dc": place.writer.used_hosts_per_remote_dc,
        "keyspace": inv.keyspace.name,
        "replication": [f"{dc}:{rf}" for dc, rf in inv.keyspace.replication.items()],
        "listen": listen,
        "display": display,
    }
    colors = [f"{dc}={','.join(map(str, rgb))}" for dc, rgb in inv.dc_colors().items()]
    if colors:
        options["colors"] = colors
    return options


def simulated_writer_options(inv: Inventory, place: WriterPlace, display: str) -> dict[str, Any]:
    """The options of a writer running beside the simulator: its own loopback address, its
    contact points' simulator addresses, and CQL connections from its address (the simulator
    places the client in its DC, so a cut DC link separates it from the other DC's nodes, as the
    panel's switches do)."""
    host = str(place.sim_address)
    options = writer_options(
        inv,
        place,
        contact_points=[
            f"{inv.node(name).sim_address}:{inv.ports.cql}" for name in place.contact_points
        ],
        listen=f"{host}:{inv.ports.writer}",
        display=display,
    )
    options["source-address"] = host
    return options


def as_argv(options: dict[str, Any]) -> list[str]:
    """``{"local-dc": "DC1", "keypad-api": True, "colors": [a, b]}`` → command-line flags."""
    argv: list[str] = []
    for key, value in options.items():
        if value is True:
            argv.append(f"--{key}")
        elif value is False or value is None:
            continue
        elif isinstance(value, list):
            argv += [f"--{key}", *map(str, value)]
        else:
            argv += [f"--{key}", str(value)]
    return argv

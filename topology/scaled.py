"""A bigger simulated cluster derived from an inventory, for rehearsing at scale.

The panel has nine nodes; teams rehearse on clusters of hundreds. ``scaled_inventory`` keeps
what the base inventory says of the cluster (name, Cassandra version, tokens, ports, keyspace
name) and replaces the topology with ``dcs`` datacenters of ``racks`` racks of
``nodes_per_rack`` nodes, one writer per DC and the monitor. The result is an ordinary
inventory: written to a file, it drives ``rackpanel sim`` (and everything else) as any other.

Addresses. Every simulator address lies in ``127.<octet>.0.0/16`` (``octet`` 1-255), so a
rehearsal can run beside the demo (``127.0.x.y``): node ``n`` of rack ``r`` of DC ``d`` at
``127.<octet>.<(d-1)*racks + r>.<n>``, writer ``d`` at ``127.<octet>.0.<d>``, the monitor and
the simulator's admin API at ``127.<octet>.0.100``. The hosts' real addresses come from
198.18.0.0/15, the range RFC 2544 reserves for benchmarks: the hosts do not exist and must not
be confused with a real network; ``rackpanel deploy`` has nothing to reach there.

Settings a big cluster needs. The failure detector is the realistic one (phi 8) unless asked
otherwise: at phi 2 the staleness tail of epidemic gossip makes detectors flap at a few hundred
nodes (docs/benchmarks.md). Above ``DEMO_PROFILE_UP_TO`` nodes the Prometheus profile is
``production``: the demo profile's 2 s evaluations do not fit a thousand nodes' rules.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any

from rackpanel.topology.loader import parse_inventory
from rackpanel.topology.model import Inventory

MAX_NODES = 2000  # the simulator is measured up to 1,000 (docs/benchmarks.md)
DEMO_PROFILE_UP_TO = 200
REAL_BASE = IPv4Address("198.18.0.1")  # RFC 2544 benchmarking range, 198.18.0.0/15
MONITOR_HOST = 100  # 127.<octet>.0.100: monitor and admin API
ADMIN_PORT = 9499


class ScaleError(ValueError):
    """A size or address octet that cannot give a valid inventory; the message names it."""


def _check(dcs: int, racks: int, nodes_per_rack: int, octet: int) -> None:
    problems = []
    if not 1 <= dcs <= 9:
        problems.append(f"--dcs must be 1 to 9, not {dcs}")
    if racks < 1 or dcs * racks > 255:
        problems.append(f"--racks must be at least 1 and dcs x racks at most 255, not {racks}")
    if not 1 <= nodes_per_rack <= 254:
        problems.append(f"--nodes-per-rack must be 1 to 254, not {nodes_per_rack}")
    if not 1 <= octet <= 255:
        problems.append(f"--octet must be 1 to 255 (127.0.x.y is the demo's), not {octet}")
    total = dcs * racks * nodes_per_rack
    if total > MAX_NODES:
        problems.append(f"{dcs} x {racks} x {nodes_per_rack} = {total} nodes: at most {MAX_NODES}")
    if problems:
        raise ScaleError("; ".join(problems))


def scaled_inventory(
    base: Inventory,
    *,
    dcs: int,
    racks: int,
    nodes_per_rack: int,
    octet: int = 1,
    failure_detector: str = "realistic",
) -> Inventory:
    """``base`` with a ``dcs`` x ``racks`` x ``nodes_per_rack`` topology (validated)."""
    _check(dcs, racks, nodes_per_rack, octet)
    real = iter(range(int(REAL_BASE), int(REAL_BASE) + 2 * MAX_NODES))
    datacenters: list[dict[str, Any]] = []
    for d in range(1, dcs + 1):
        rack_list = []
        for r in range(1, racks + 1):
            third = (d - 1) * racks + r
            nodes = [
                {
                    "name": f"dc{d}r{r}n{n}",
                    "address": str(IPv4Address(next(real))),
                    "sim_address": f"127.{octet}.{third}.{n}",
                }
                for n in range(1, nodes_per_rack + 1)
            ]
            rack_list.append({"name": f"RAC{r}", "nodes": nodes})
        datacenters.append({"name": f"DC{d}", "racks": rack_list})
    # two or three seeds a DC, each in another rack (Cassandra's advice: a few per DC)
    seeds = [f"dc{d}r{r}n1" for d in range(1, dcs + 1) for r in range(1, min(racks, 3) + 1)]
    writers = [
        {
            "name": f"writer{d}",
            "local_dc": f"DC{d}",
            "address": str(IPv4Address(next(real))),
            "sim_address": f"127.{octet}.0.{d}",
        }
        for d in range(1, dcs + 1)
    ]
    host = f"127.{octet}.0.{MONITOR_HOST}"
    name = base.monitor.name if base.monitor else "monitor"
    monitor = {"name": name, "address": str(IPv4Address(next(real))), "sim_address": host}
    per_dc = racks * nodes_per_rack
    total = dcs * per_dc
    raw = base.model_dump(mode="json", exclude_none=True, exclude={"deploy"})
    raw.update(
        datacenters=datacenters,
        seeds=seeds,
        writers=writers,
        monitor=monitor,
        keyspace={
            "name": base.keyspace.name,
            "replication": {f"DC{d}": min(3, per_dc) for d in range(1, dcs + 1)},
        },
    )
    raw["simulator"] = {
        **raw.get("simulator", {}),
        "failure_detector": failure_detector,
        "admin_address": f"{host}:{ADMIN_PORT}",
    }
    if total > DEMO_PROFILE_UP_TO:
        raw["prometheus"] = {"profile": "production"}
    source = f"{dcs} x {racks} x {nodes_per_rack} cluster derived from the inventory"
    return parse_inventory(raw, source)

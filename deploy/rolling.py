"""Cassandra restarts one node at a time, seeds first, each waited for until the cluster sees it.

"Seen up" is read from the ``up_check`` command (``nodetool status`` by default) whose output
lists ``UN <address>`` for each node its host judges Up/Normal: first on the restarted node
itself (its new process answers), then on a peer already known up — the node confirmed just
before, or else a node this run does not restart, seeds preferred.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from rackpanel.deploy.hosts import DeployHost, all_hosts
from rackpanel.deploy.remote import Remote
from rackpanel.deploy.ssh import DeployError
from rackpanel.topology import Inventory


def rolling_order(inv: Inventory, hosts: Sequence[DeployHost]) -> list[DeployHost]:
    """Nodes among ``hosts``: seeds first (in the inventory's seed order), then the others."""
    nodes = [h for h in hosts if h.node is not None]
    rank = {name: i for i, name in enumerate(inv.seeds)}
    return sorted(nodes, key=lambda h: (rank.get(h.name, len(rank)), nodes.index(h)))


def observer_for(
    inv: Inventory,
    node: DeployHost,
    confirmed: Sequence[DeployHost],
    restarting: set[str],
) -> DeployHost:
    """The peer whose view decides that ``node`` is up."""
    if confirmed:
        return confirmed[-1]
    others = [h for h in rolling_order(inv, all_hosts(inv)) if h.name not in restarting]
    return others[0] if others else node


def is_up(nodetool_status: str, address: str) -> bool:
    """True when a line of ``nodetool status`` output reads ``UN <address>[:port] ...``."""
    for line in nodetool_status.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "UN" and fields[1].split(":")[0] == address:
            return True
    return False


def wait_seen_up(
    inv: Inventory, node: DeployHost, checks: Sequence[tuple[DeployHost, Remote]]
) -> float:
    """Poll each (observer, session) in turn until it lists ``node`` as UN; seconds waited."""
    start = time.monotonic()
    deadline = start + inv.deploy.up_timeout_seconds
    for observer, remote in checks:
        command = inv.deploy.up_check.format(host=observer.name)
        last = "no answer yet"
        while True:
            result = remote.run(command)
            if result.code == 0 and is_up(result.out, node.address):
                break
            lines = (result.err or result.out).strip().splitlines()
            last = lines[-1] if result.code != 0 and lines else f"exit {result.code}, not UN"
            if time.monotonic() >= deadline:
                raise DeployError(
                    f"{node.name}: not seen up by {observer.name} within "
                    f"{inv.deploy.up_timeout_seconds:g} s after the restart ({last}); "
                    "rolling restart stopped"
                )
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    return time.monotonic() - start

"""/etc/hostname and the managed block of /etc/hosts (every host of the panel by name)."""

from __future__ import annotations

from rackpanel.deploy.files import ManagedFile, whole
from rackpanel.deploy.hosts import DeployHost, all_hosts
from rackpanel.deploy.textmerge import with_block
from rackpanel.topology import Inventory


def hosts_block(inv: Inventory) -> str:
    return "".join(f"{h.address}\t{h.name}\n" for h in all_hosts(inv))


def system_files(inv: Inventory, host: DeployHost) -> list[ManagedFile]:
    block = hosts_block(inv)
    return [
        ManagedFile("/etc/hostname", whole(f"{host.name}\n"), set_hostname=host.name),
        ManagedFile("/etc/hosts", lambda current: with_block(current, block)),
    ]

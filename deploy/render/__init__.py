"""Everything a host must hold, rendered from the inventory: ``files_for(inv, host)``."""

from __future__ import annotations

from rackpanel.deploy.files import ManagedFile
from rackpanel.deploy.hosts import DeployHost
from rackpanel.deploy.render.cassandra import cassandra_files
from rackpanel.deploy.render.monitor import monitor_files
from rackpanel.deploy.render.services import exporter_files, writer_files
from rackpanel.deploy.render.system import system_files
from rackpanel.topology import Inventory


def files_for(inv: Inventory, host: DeployHost) -> list[ManagedFile]:
    files = system_files(inv, host)
    if host.node is not None:
        files += cassandra_files(inv, host.node) + exporter_files(inv, host.node)
    if host.writer is not None:
        files += writer_files(inv, host.writer)
    if host.monitor is not None:
        files += monitor_files(inv, host.monitor)
    return files

"""The inventory: one typed model of the demo topology, loaded and validated from YAML."""

from rackpanel.topology.loader import (
    DEFAULT_INVENTORY,
    InventoryError,
    dump_inventory,
    load_inventory,
    parse_inventory,
)
from rackpanel.topology.model import (
    Datacenter,
    Inventory,
    Node,
    NodePlace,
    Rack,
    Writer,
    WriterPlace,
)

__all__ = [
    "DEFAULT_INVENTORY",
    "Datacenter",
    "Inventory",
    "InventoryError",
    "Node",
    "NodePlace",
    "Rack",
    "Writer",
    "WriterPlace",
    "dump_inventory",
    "load_inventory",
    "parse_inventory",
]

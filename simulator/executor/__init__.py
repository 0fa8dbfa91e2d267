"""Statement execution: CQL requests of a node's connections → schema, local tables, cluster."""

from rackpanel.simulator.executor.context import SimContext
from rackpanel.simulator.executor.node import NodeExecutor

__all__ = ["NodeExecutor", "SimContext"]

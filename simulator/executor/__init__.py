"""Statement execution: CQL requests of a node's connections → schema, local tables, cluster."""

from simulator.executor.context import SimContext
from simulator.executor.node import NodeExecutor

__all__ = ["NodeExecutor", "SimContext"]

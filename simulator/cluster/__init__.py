"""The cluster model: ring and replica placement, per-replica storage, coordinator
logic for every consistency level, gossip and failure detector, hints, power control, the
admin API, the Jolokia endpoint and the virtual tables.

``from rackpanel.simulator.cluster import SimCluster, SimNode, PartitionData``.
"""

from rackpanel.simulator.cluster.model import ClusterListener, SimCluster, UnknownTarget
from rackpanel.simulator.cluster.node import SimNode
from rackpanel.simulator.cluster.storage import PartitionData

__all__ = ["ClusterListener", "PartitionData", "SimCluster", "SimNode", "UnknownTarget"]

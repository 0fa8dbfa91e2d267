"""A full repair (``nodetool repair -full``), reduced to its effect on the data.

For every table of the keyspace (or of every user keyspace), each partition is merged across
its *current* replicas (last write wins, tombstones included) and the merge is written back to
each of them — what the Merkle-tree exchange and streaming of a real repair end with. Nodes
that stopped being replicas after an ALTER KEYSPACE keep their copies (a ``cleanup`` would
remove them); a partition with a replica powered off is skipped and reported, as a repair
session with an endpoint down fails in Cassandra.
"""

from __future__ import annotations

from typing import Any

from rackpanel.simulator.cluster.storage import merge, same_data
from rackpanel.simulator.core import InvalidRequest
from rackpanel.simulator.schema import Schema


def repair(cluster: Any, schema: Schema, keyspace: str | None = None) -> dict[str, Any]:
    if keyspace is not None:
        ks = schema.keyspace(keyspace)
        if ks.system or ks.virtual:
            raise InvalidRequest(f"Cannot repair system keyspace {keyspace}")
        keyspaces = [ks]
    else:
        keyspaces = [k for k in schema.keyspaces.values() if not (k.system or k.virtual)]
    repaired = skipped = streamed = 0
    down: set[str] = set()
    for ks in keyspaces:
        for table in ks.tables:
            stores = {node.name: cluster._store(node) for node in cluster.nodes}
            keys = cluster.storage.keys((ks.name, table), list(stores.values()))
            for key in keys:
                replicas = cluster.replicas(ks.replication, cluster.token(key))
                off = [r.name for r in replicas if not r.powered]
                if off:
                    skipped += 1
                    down.update(off)
                    continue
                copies = cluster.storage.read(
                    (ks.name, table), key, [stores[r.name] for r in replicas]
                )
                merged = merge(copies)
                if merged is None:
                    continue
                for replica, copy in zip(replicas, copies, strict=True):
                    if not same_data(copy, merged):
                        stores[replica.name].apply_partition(ks.name, table, key, merged)
                        streamed += 1
                repaired += 1
    return {
        "keyspaces": [k.name for k in keyspaces],
        "partitions_repaired": repaired,
        "replica_copies_streamed": streamed,
        "partitions_skipped": skipped,
        "replicas_down": sorted(down),
    }

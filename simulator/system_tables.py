"""Per-node rows of system.local, system.peers and system.peers_v2.

Each node answers about itself (``local``) and about every other node as it knows them
(``peers``/``peers_v2``), with the fields the driver needs to build its view of the ring:
address, host_id, data_center, rack, tokens, release_version, schema_version.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from rackpanel.simulator.protocol.connection import CQL_VERSION

NATIVE_PROTOCOL_VERSION = "5"  # what 4.x and 5.0 write in system.local (the newest they serve)
STORAGE_PORT = 7000


def local_row(cluster: Any, node: Any, schema_version: Any, cql_port: int) -> dict[str, Any]:
    address = ipaddress.ip_address(node.address)
    return {
        "key": "local",
        "bootstrapped": "COMPLETED",
        "broadcast_address": address,
        "broadcast_port": STORAGE_PORT,
        "cluster_name": cluster.name,
        "cql_version": CQL_VERSION,
        "data_center": node.dc,
        "gossip_generation": node.generation,
        "host_id": node.host_id,
        "listen_address": address,
        "listen_port": STORAGE_PORT,
        "native_protocol_version": NATIVE_PROTOCOL_VERSION,
        "partitioner": cluster.partitioner,
        "rack": node.rack,
        "release_version": node.release_version,
        "rpc_address": address,
        "rpc_port": cql_port,
        "schema_version": schema_version,
        "tokens": [str(t) for t in node.tokens],
    }


def _peer_common(peer: Any, schema_version: Any) -> dict[str, Any]:
    return {
        "peer": ipaddress.ip_address(peer.address),
        "data_center": peer.dc,
        "host_id": peer.host_id,
        "preferred_ip": None,
        "rack": peer.rack,
        "release_version": peer.release_version,
        "schema_version": schema_version,
        "tokens": [str(t) for t in peer.tokens],
    }


def peers_rows(cluster: Any, node: Any, schema_version: Any) -> list[dict[str, Any]]:
    rows = []
    for peer in cluster.nodes:
        if peer is node:
            continue
        row = _peer_common(peer, schema_version)
        row["rpc_address"] = ipaddress.ip_address(peer.address)
        rows.append(row)
    return rows


def peers_v2_rows(
    cluster: Any, node: Any, schema_version: Any, cql_port: int
) -> list[dict[str, Any]]:
    rows = []
    for peer in cluster.nodes:
        if peer is node:
            continue
        row = _peer_common(peer, schema_version)
        row.update(
            peer_port=STORAGE_PORT,
            native_address=ipaddress.ip_address(peer.address),
            native_port=cql_port,
            preferred_port=None,
        )
        rows.append(row)
    return rows

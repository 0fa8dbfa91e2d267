"""The ``system_views`` virtual tables an exporter reads, with their Cassandra 4.1 schemas.

``VIEWS`` describes the tables (the schema layer turns it into system_virtual_schema rows and
the executor into RESULT metadata); ``view_rows`` computes one observer node's rows as plain
Python values (str, int, float, bool, uuid.UUID, datetime, ipaddress objects, None).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import ip_address
from typing import TYPE_CHECKING, Any, Literal

from rackpanel.simulator.cluster.gossip import STATES
from rackpanel.simulator.cluster.stats import POOL_LIMITS, POOLS
from rackpanel.simulator.core import InvalidRequest

if TYPE_CHECKING:
    from rackpanel.simulator.cluster.model import SimCluster
    from rackpanel.simulator.cluster.node import SimNode

KEYSPACE = "system_views"
HINTS_PER_FILE = 1000


@dataclass(frozen=True)
class ColumnDef:
    name: str
    type: str  # CQL type as in system_schema.columns.type
    kind: Literal["partition_key", "clustering", "regular"]
    position: int  # index within the partition key / clustering; -1 for regular columns


@dataclass(frozen=True)
class ClientInfo:
    """One native-protocol connection, as the protocol layer knows it."""

    address: str
    port: int
    hostname: str
    username: str = "anonymous"
    connection_stage: str = "ready"
    protocol_version: int = 4
    driver_name: str | None = None
    driver_version: str | None = None
    request_count: int = 0
    ssl_enabled: bool = False


Pairs = list[tuple[str, str]]


def _table(keys: Pairs, clustering: Pairs, regular: Pairs) -> list[ColumnDef]:
    return (
        [ColumnDef(n, t, "partition_key", i) for i, (n, t) in enumerate(keys)]
        + [ColumnDef(n, t, "clustering", i) for i, (n, t) in enumerate(clustering)]
        + [ColumnDef(n, t, "regular", -1) for n, t in regular]
    )


_OUTBOUND_COUNTERS = (
    "active_connections",
    "connection_attempts",
    "error_bytes",
    "error_messages",
    "expired_bytes",
    "expired_messages",
    "overload_bytes",
    "overload_messages",
    "pending_bytes",
    "pending_messages",
    "sent_bytes",
    "sent_messages",
    "successful_connection_attempts",
)

VIEWS: dict[str, list[ColumnDef]] = {
    "gossip_info": _table(
        [("address", "inet")],
        [("port", "int")],
        [("hostname", "text"), ("generation", "int"), ("heartbeat", "int")]
        + [col for state in STATES for col in ((state, "text"), (f"{state}_version", "int"))],
    ),
    "settings": _table([("name", "text")], [], [("value", "text")]),
    "thread_pools": _table(
        [("name", "text")],
        [],
        [
            ("active_tasks", "int"),
            ("active_tasks_limit", "int"),
            ("blocked_tasks", "bigint"),
            ("blocked_tasks_all_time", "bigint"),
            ("completed_tasks", "bigint"),
            ("pending_tasks", "int"),
        ],
    ),
    "clients": _table(
        [("address", "inet")],
        [("port", "int")],
        [
            ("client_options", "map<text, text>"),
            ("connection_stage", "text"),
            ("driver_name", "text"),
            ("driver_version", "text"),
            ("hostname", "text"),
            ("protocol_version", "int"),
            ("request_count", "bigint"),
            ("ssl_cipher_suite", "text"),
            ("ssl_enabled", "boolean"),
            ("ssl_protocol", "text"),
            ("username", "text"),
        ],
    ),
    "pending_hints": _table(
        [("host_id", "uuid")],
        [],
        [
            ("address", "inet"),
            ("port", "int"),
            ("rack", "text"),
            ("dc", "text"),
            ("status", "text"),
            ("files", "int"),
            ("newest", "timestamp"),
            ("oldest", "timestamp"),
        ],
    ),
    "internode_outbound": _table(
        [("address", "inet"), ("port", "int")],
        [("dc", "text"), ("rack", "text")],
        [(name, "bigint") for name in _OUTBOUND_COUNTERS],
    ),
}


def _when(wall: float) -> datetime:
    return datetime.fromtimestamp(wall, tz=UTC)


def _gossip_info(cluster: SimCluster, observer: SimNode) -> list[dict[str, Any]]:
    rows = []
    for node in cluster.nodes:
        state = cluster.view(observer, node).state
        if state is None:
            continue
        row: dict[str, Any] = {
            "address": ip_address(node.address),
            "port": cluster.storage_port,
            "hostname": node.name,
            "generation": state.generation,
            "heartbeat": state.heartbeat,
        }
        for name in STATES:
            value, version = state.states.get(name, (None, None))
            row[name] = value
            row[f"{name}_version"] = version
        rows.append(row)
    return rows


def settings(cluster: SimCluster, node: SimNode) -> dict[str, str]:
    """The node's configuration as ``system_views.settings`` shows it (4.1 names)."""
    hint_window_ms = int(cluster.max_hint_window * 1000)
    return {
        "cluster_name": cluster.name,
        "endpoint_snitch": "org.apache.cassandra.locator.GossipingPropertyFileSnitch",
        "partitioner": cluster.partitioner,
        "num_tokens": str(cluster.num_tokens),
        "phi_convict_threshold": f"{cluster.phi_convict_threshold:g}",
        "hinted_handoff_enabled": "true",
        "max_hint_window": f"{hint_window_ms}ms",
        "write_request_timeout": f"{int(cluster.write_request_timeout * 1000)}ms",
        "read_request_timeout": f"{int(cluster.read_request_timeout * 1000)}ms",
        "listen_address": node.address,
        "broadcast_address": node.address,
        "rpc_address": node.address,
        "native_transport_port": str(cluster.cql_port),
        "storage_port": str(cluster.storage_port),
        "start_native_transport": "true",
        "concurrent_reads": str(POOL_LIMITS["ReadStage"]),
        "concurrent_writes": str(POOL_LIMITS["MutationStage"]),
        "native_transport_max_threads": str(POOL_LIMITS["Native-Transport-Requests"]),
    }


def _settings(cluster: SimCluster, observer: SimNode) -> list[dict[str, Any]]:
    return [{"name": k, "value": v} for k, v in sorted(settings(cluster, observer).items())]


def _thread_pools(cluster: SimCluster, observer: SimNode) -> list[dict[str, Any]]:
    stats = cluster.stats(observer)
    completed = stats.completed
    return [
        {
            "name": pool,
            "active_tasks": stats.waiting if pool == "Native-Transport-Requests" else 0,
            "active_tasks_limit": POOL_LIMITS.get(pool, 1),
            "blocked_tasks": 0,
            "blocked_tasks_all_time": 0,
            "completed_tasks": completed[pool],
            "pending_tasks": 0,
        }
        for pool in POOLS
    ]


def _clients(clients: list[ClientInfo]) -> list[dict[str, Any]]:
    return [
        {
            "address": ip_address(c.address),
            "port": c.port,
            "client_options": None,
            "connection_stage": c.connection_stage,
            "driver_name": c.driver_name,
            "driver_version": c.driver_version,
            "hostname": c.hostname,
            "protocol_version": c.protocol_version,
            "request_count": c.request_count,
            "ssl_cipher_suite": None,
            "ssl_enabled": c.ssl_enabled,
            "ssl_protocol": None,
            "username": c.username,
        }
        for c in clients
    ]


def _pending_hints(cluster: SimCluster, observer: SimNode) -> list[dict[str, Any]]:
    rows = []
    for target_name, hints in cluster.pending_hints(observer).items():
        target = cluster.node(target_name)
        created = [h.created for h in hints]
        rows.append(
            {
                "host_id": target.host_id,
                "address": ip_address(target.address),
                "port": cluster.storage_port,
                "rack": target.rack,
                "dc": target.dc,
                "status": "UP" if cluster.is_alive(observer, target) else "DOWN",
                "files": math.ceil(len(hints) / HINTS_PER_FILE),
                "newest": _when(max(created)),
                "oldest": _when(min(created)),
            }
        )
    return rows


def _internode_outbound(cluster: SimCluster, observer: SimNode) -> list[dict[str, Any]]:
    rows = []
    for node in cluster.nodes:
        if node is observer:
            continue
        view = cluster.view(observer, node)
        beats = view.state.heartbeat if view.state else 0
        row: dict[str, Any] = dict.fromkeys(_OUTBOUND_COUNTERS, 0)
        row.update(
            address=ip_address(node.address),
            port=cluster.storage_port,
            dc=node.dc,
            rack=node.rack,
            active_connections=3 if view.alive else 0,
            connection_attempts=1 + node.generation % 7,
            successful_connection_attempts=1,
            sent_messages=beats * 2,
            sent_bytes=beats * 2 * 180,
        )
        rows.append(row)
    return rows


def view_rows(
    cluster: SimCluster, observer: SimNode, table: str, clients: list[ClientInfo] | None = None
) -> list[dict[str, Any]]:
    """The rows of ``system_views.<table>`` as ``observer`` serves them."""
    if table == "gossip_info":
        return _gossip_info(cluster, observer)
    if table == "settings":
        return _settings(cluster, observer)
    if table == "thread_pools":
        return _thread_pools(cluster, observer)
    if table == "clients":
        return _clients(clients or [])
    if table == "pending_hints":
        return _pending_hints(cluster, observer)
    if table == "internode_outbound":
        return _internode_outbound(cluster, observer)
    raise InvalidRequest(f"table {table} does not exist")

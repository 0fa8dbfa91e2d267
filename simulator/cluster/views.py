"""The ``system_views`` virtual tables an exporter reads, with their Cassandra 4.1 schemas.

``VIEWS`` describes the tables (the schema layer turns it into system_virtual_schema rows and
the executor into RESULT metadata); ``view_rows`` computes one observer node's rows as plain
Python values (str, int, float, bool, uuid.UUID, datetime, ipaddress objects, None).
"""

from __future__ import annotations

import functools
import ipaddress
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rackpanel.simulator.cluster.stats import POOL_LIMITS, POOLS
from rackpanel.simulator.cluster.view_columns import (
    APPLICATION_STATES,
    INTERNODE_INBOUND_COUNTERS,
    INTERNODE_OUTBOUND_COUNTERS,
    ColumnDef,
    view_columns,
)
from rackpanel.simulator.core import InvalidRequest
from rackpanel.topology.model import DEFAULT_CASSANDRA_VERSION, release_of

# The few addresses of a cluster, parsed once (gossip_info asks for every node's, each query).
ip_address = functools.lru_cache(maxsize=4096)(ipaddress.ip_address)

if TYPE_CHECKING:
    from rackpanel.simulator.cluster.model import SimCluster
    from rackpanel.simulator.cluster.node import SimNode

KEYSPACE = "system_views"
HINTS_PER_FILE = 1000


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


VIEWS = view_columns(release_of(DEFAULT_CASSANDRA_VERSION))  # the default release's tables


def views_for(node: SimNode) -> dict[str, list[ColumnDef]]:
    """The tables of the release ``node`` claims (its release_version)."""
    return view_columns(release_of(node.release_version))


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
        for name in APPLICATION_STATES[release_of(observer.release_version)]:
            value, version = state.states.get(name, (None, None))
            if name != "tokens":
                row[name] = value
            row[f"{name}_version"] = version
        rows.append(row)
    return rows


def duration(seconds: float) -> str:
    """A duration as cassandra.yaml writes it and ``settings`` shows it (DurationSpec:
    quantity and unit, e.g. ``3h``, ``2000ms``): the largest unit that divides it exactly."""
    millis = round(seconds * 1000)
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if millis and millis % size == 0:
            return f"{millis // size}{unit}"
    return f"{millis}ms"


def settings(cluster: SimCluster, node: SimNode) -> dict[str, str]:
    """The node's configuration as ``system_views.settings`` shows it (4.1/5.0 names, values
    as Config's fields print: doubles with a decimal point, durations as in cassandra.yaml,
    the snitch as configured)."""
    return {
        "cluster_name": cluster.name,
        "endpoint_snitch": "GossipingPropertyFileSnitch",
        "partitioner": cluster.partitioner,
        "num_tokens": str(cluster.num_tokens),
        "phi_convict_threshold": repr(float(cluster.phi_convict_threshold)),
        "hinted_handoff_enabled": "true",
        "max_hint_window": duration(cluster.max_hint_window),
        "write_request_timeout": f"{round(cluster.write_request_timeout * 1000)}ms",
        "read_request_timeout": f"{round(cluster.read_request_timeout * 1000)}ms",
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


def _clients(observer: SimNode, clients: list[ClientInfo]) -> list[dict[str, Any]]:
    rows = [
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
            "keyspace_name": None,
        }
        for c in clients
        if c.address  # a connection still being accepted has no peer yet
    ]
    return _only_columns(observer, "clients", rows)


def _only_columns(
    observer: SimNode, table: str, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The rows with exactly the columns ``table`` has in the observer's release."""
    names = [c.name for c in views_for(observer)[table]]
    return [{name: row.get(name) for name in names} for row in rows]


def _pending_hints(cluster: SimCluster, observer: SimNode) -> list[dict[str, Any]]:
    """Targets whose hints wait for dispatch: as in Cassandra, only once the target is back.

    A real node keeps a target's hints file open for writing while the target is down
    (HintsStore / HintsDispatchTrigger: only closed files are dispatched and listed), so the
    table has no row for a target during its outage; the row appears once the observer sees
    the target alive again and lasts until the hints are delivered.
    """
    rows = []
    for target_name, hints in cluster.pending_hints(observer).items():
        target = cluster.node(target_name)
        if not cluster.is_alive(observer, target):
            continue
        created = [h.created for h in hints]
        rows.append(
            {
                "host_id": target.host_id,
                "address": ip_address(target.address),
                "port": cluster.storage_port,
                "rack": target.rack,
                "dc": target.dc,
                "status": "UP",
                "files": math.ceil(len(hints) / HINTS_PER_FILE),
                "newest": _when(max(created)),
                "oldest": _when(min(created)),
            }
        )
    return rows


def _internode(cluster: SimCluster, observer: SimNode, outbound: bool) -> list[dict[str, Any]]:
    """One row per peer: connections up while the observer judges the peer alive."""
    counters = INTERNODE_OUTBOUND_COUNTERS if outbound else INTERNODE_INBOUND_COUNTERS
    rows = []
    for node in cluster.nodes:
        if node is observer:
            continue
        view = cluster.view(observer, node)
        messages = (view.state.heartbeat if view.state else 0) * 2
        row: dict[str, Any] = dict.fromkeys(counters, 0)
        row.update(address=ip_address(node.address), port=cluster.storage_port)
        row.update(dc=node.dc, rack=node.rack)
        if outbound:
            row.update(
                active_connections=3 if view.alive else 0,
                connection_attempts=1 + node.generation % 7,
                successful_connection_attempts=1,
                sent_count=messages,
                sent_bytes=messages * 180,
            )
        else:
            row.update(
                received_count=messages,
                received_bytes=messages * 180,
                processed_count=messages,
                processed_bytes=messages * 180,
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
        return _clients(observer, clients or [])
    if table == "pending_hints":
        return _pending_hints(cluster, observer)
    if table in ("internode_outbound", "internode_inbound"):
        return _internode(cluster, observer, outbound=table == "internode_outbound")
    raise InvalidRequest(f"table {table} does not exist")

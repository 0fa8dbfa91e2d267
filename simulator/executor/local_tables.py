"""Tables a node answers from its own state, never through replicas.

``system.local/peers/peers_v2`` (this node's view), ``system_schema.*`` and
``system_virtual_schema.*`` (the shared schema) and ``system_views.*`` (the cluster layer's
virtual tables, with this node's connections as ``clients``).
"""

from __future__ import annotations

from typing import Any

from rackpanel.simulator import system_tables
from rackpanel.simulator.executor.context import SimContext

LOCAL_KEYSPACES = frozenset(
    {"system", "system_schema", "system_views", "system_virtual_schema",
     "system_auth", "system_distributed", "system_traces"}
)  # fmt: skip


def is_local(keyspace: str) -> bool:
    return keyspace in LOCAL_KEYSPACES


def client_infos(connections: list) -> list:
    from rackpanel.simulator.cluster.views import ClientInfo

    return [
        ClientInfo(
            address=conn.address,
            port=conn.port,
            hostname=conn.address,
            username="anonymous",
            connection_stage="ready" if conn.ready else "established",
            protocol_version=conn.protocol_version,
            driver_name=conn.driver_name,
            driver_version=conn.driver_version,
            request_count=conn.request_count,
            ssl_enabled=False,
        )
        for conn in connections
    ]


def local_rows(ctx: SimContext, node: Any, keyspace: str, table: str) -> list[dict[str, Any]]:
    schema = ctx.schema
    if keyspace == "system":
        if table == "local":
            return [system_tables.local_row(ctx.cluster, node, schema.version, ctx.cql_port)]
        if table == "peers":
            return system_tables.peers_rows(ctx.cluster, node, schema.version)
        if table == "peers_v2":
            return system_tables.peers_v2_rows(ctx.cluster, node, schema.version, ctx.cql_port)
        return []
    if keyspace == "system_schema":
        return schema.schema_rows(table)
    if keyspace == "system_virtual_schema":
        return schema.virtual_schema_rows(table)
    if keyspace == "system_traces":
        return ctx.traces.rows(table)
    if keyspace == "system_views":
        from rackpanel.simulator.cluster.views import view_rows

        return view_rows(ctx.cluster, node, table, client_infos(ctx.clients_of(node)))
    return []

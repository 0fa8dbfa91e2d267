"""The demo's schema, as CQL: the keyspace of the inventory and the writers' table.

The writers create it (IF NOT EXISTS) when they connect, and the simulator creates it at start
(as the real panel's cluster already has it), so `rackpanel sim` alone can be queried at once.
"""

from __future__ import annotations

from collections.abc import Mapping

TABLE = "messages"


def schema_cql(keyspace: str, replication: Mapping[str, int]) -> list[str]:
    rf = ", ".join(f"'{dc}': '{n}'" for dc, n in replication.items())
    return [
        f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = "
        f"{{'class': 'NetworkTopologyStrategy', {rf}}}",
        f"CREATE TABLE IF NOT EXISTS {keyspace}.{TABLE} "
        "(id timeuuid PRIMARY KEY, msg text, creation_date timestamp)",
    ]

"""The columns of the ``system_views`` tables the simulator serves, per Cassandra release.

Read from Cassandra's source, ``src/java/org/apache/cassandra/db/virtual/<Table>.java`` at
the cassandra-4.1 and cassandra-5.0 branches (docs/cassandra-versions.md lists them with the
paths); gossip_info's state columns come from ``gms/ApplicationState.java``. Types are as
``system_virtual_schema.columns.type`` shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RELEASES = ("4.1", "5.0")


@dataclass(frozen=True)
class ColumnDef:
    name: str
    type: str  # CQL type as in system_schema.columns.type
    kind: Literal["partition_key", "clustering", "regular"]
    position: int  # index within the partition key / clustering; -1 for regular columns


Pairs = list[tuple[str, str]]


def _table(keys: Pairs, clustering: Pairs, regular: Pairs) -> list[ColumnDef]:
    return (
        [ColumnDef(n, t, "partition_key", i) for i, (n, t) in enumerate(keys)]
        + [ColumnDef(n, t, "clustering", i) for i, (n, t) in enumerate(clustering)]
        + [ColumnDef(n, t, "regular", -1) for n, t in regular]
    )


# gms/ApplicationState.java, in enum order (the order is the gossip wire format). 5.0 adds
# INDEX_STATUS (storage-attached indexes) before the padding states.
_STATES_41 = (
    "status", "load", "schema", "dc", "rack", "release_version", "removal_coordinator",
    "internal_ip", "rpc_address", "x_11_padding", "severity", "net_version", "host_id",
    "tokens", "rpc_ready", "internal_address_and_port", "native_address_and_port",
    "status_with_port", "sstable_versions", "disk_usage",
)  # fmt: skip
_PADDING = tuple(f"x{i}" for i in range(1, 11))
APPLICATION_STATES = {
    "4.1": (*_STATES_41, *_PADDING),
    "5.0": (*_STATES_41, "index_status", *_PADDING),
}


def _gossip_info(release: str) -> list[ColumnDef]:
    """GossipInfoTable: a text column per state except TOKENS, an int version per state."""
    states = APPLICATION_STATES[release]
    return _table(
        [("address", "inet")],
        [("port", "int")],
        [("hostname", "text"), ("generation", "int"), ("heartbeat", "int")]
        + [(s, "text") for s in states if s != "tokens"]
        + [(f"{s}_version", "int") for s in states],
    )


_CLIENTS_41: Pairs = [
    ("hostname", "text"),
    ("username", "text"),
    ("connection_stage", "text"),
    ("protocol_version", "int"),
    ("client_options", "frozen<map<text, text>>"),
    ("driver_name", "text"),
    ("driver_version", "text"),
    ("request_count", "bigint"),
    ("ssl_enabled", "boolean"),
    ("ssl_protocol", "text"),
    ("ssl_cipher_suite", "text"),
]
_CLIENTS = {"4.1": _CLIENTS_41, "5.0": [*_CLIENTS_41, ("keyspace_name", "text")]}

INTERNODE_OUTBOUND_COUNTERS = (
    "using_bytes", "using_reserve_bytes", "pending_count", "pending_bytes", "sent_count",
    "sent_bytes", "expired_count", "expired_bytes", "error_count", "error_bytes",
    "overload_count", "overload_bytes", "active_connections", "connection_attempts",
    "successful_connection_attempts",
)  # fmt: skip
INTERNODE_INBOUND_COUNTERS = (
    "using_bytes", "using_reserve_bytes", "corrupt_frames_recovered",
    "corrupt_frames_unrecovered", "error_bytes", "error_count", "expired_bytes",
    "expired_count", "scheduled_bytes", "scheduled_count", "processed_bytes",
    "processed_count", "received_bytes", "received_count", "throttled_count",
    "throttled_nanos",
)  # fmt: skip


def _internode(counters: tuple[str, ...]) -> list[ColumnDef]:
    return _table(
        [("address", "inet"), ("port", "int")],
        [("dc", "text"), ("rack", "text")],
        [(name, "bigint") for name in counters],
    )


def view_columns(release: str) -> dict[str, list[ColumnDef]]:
    """Every simulated ``system_views`` table of ``release`` (``4.1`` or ``5.0``)."""
    if release not in RELEASES:
        raise ValueError(f"no system_views columns for Cassandra {release}: one of {RELEASES}")
    return {
        "gossip_info": _gossip_info(release),
        "settings": _table([("name", "text")], [], [("value", "text")]),
        "thread_pools": _table(
            [("name", "text")],
            [],
            [
                ("active_tasks", "int"),
                ("active_tasks_limit", "int"),
                ("pending_tasks", "int"),
                ("completed_tasks", "bigint"),
                ("blocked_tasks", "bigint"),
                ("blocked_tasks_all_time", "bigint"),
            ],
        ),
        "clients": _table([("address", "inet")], [("port", "int")], _CLIENTS[release]),
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
        "internode_outbound": _internode(INTERNODE_OUTBOUND_COUNTERS),
        "internode_inbound": _internode(INTERNODE_INBOUND_COUNTERS),
    }

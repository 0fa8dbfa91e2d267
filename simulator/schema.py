"""The schema the simulated cluster agrees on: keyspaces, tables, columns.

One :class:`Schema` is shared by every node (schema agreement is immediate), with a
``version`` UUID that changes on every DDL (a digest of the content, as Cassandra's is).
It holds the system keyspaces too — ``system``, ``system_schema`` and friends, and the
virtual ``system_views`` (from :func:`simulator.cluster.view_columns.view_columns`) and
``system_virtual_schema`` — so the executor reads every table through the same model, and
the rows of ``system_schema.*`` / ``system_virtual_schema.*`` are generated from it.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from rackpanel.simulator.core import AlreadyExists, ConfigurationException, InvalidRequest
from rackpanel.topology.model import DEFAULT_CASSANDRA_VERSION, release_of

_NAMESPACE = uuid.UUID("4d2c7a51-8f0e-4b3c-9a6d-2f3b8e1c0a57")
LOCAL_STRATEGY = {"class": "org.apache.cassandra.locator.LocalStrategy"}
_STRATEGY_PREFIX = "org.apache.cassandra.locator."

DEFAULT_TABLE_OPTIONS: dict[str, Any] = {
    "additional_write_policy": "99p",
    "bloom_filter_fp_chance": 0.01,
    "caching": {"keys": "ALL", "rows_per_partition": "NONE"},
    "cdc": False,
    "comment": "",
    "compaction": {
        "class": "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy",
        "max_threshold": "32",
        "min_threshold": "4",
    },
    "compression": {
        "chunk_length_in_kb": "16",
        "class": "org.apache.cassandra.io.compress.LZ4Compressor",
    },
    "crc_check_chance": 1.0,
    "default_time_to_live": 0,
    "extensions": {},
    "flags": {"compound"},
    "gc_grace_seconds": 864000,
    "max_index_interval": 2048,
    "memtable_flush_period_in_ms": 0,
    "min_index_interval": 128,
    "read_repair": "BLOCKING",
    "speculative_retry": "99p",
}


@dataclass
class ColumnDef:
    name: str
    type: str  # as in system_schema.columns.type, e.g. "frozen<map<text, text>>"
    kind: str  # partition_key | clustering | static | regular
    position: int  # index within its kind (-1 for regular columns, as Cassandra stores it)
    clustering_order: str = "none"  # asc | desc | none

    @cached_property
    def cql_type(self):
        from rackpanel.simulator.cql.types import parse_type

        return parse_type(self.type)


@dataclass
class TableDef:
    keyspace: str
    name: str
    columns: list[ColumnDef]
    options: dict[str, Any] = field(default_factory=dict)
    virtual: bool = False

    def __post_init__(self) -> None:
        self.by_name = {c.name: c for c in self.columns}

    @property
    def id(self) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"{self.keyspace}.{self.name}")

    @cached_property
    def partition_key(self) -> list[ColumnDef]:
        return sorted((c for c in self.columns if c.kind == "partition_key"), key=_position)

    @cached_property
    def clustering(self) -> list[ColumnDef]:
        return sorted((c for c in self.columns if c.kind == "clustering"), key=_position)

    @cached_property
    def regular(self) -> list[ColumnDef]:
        return [c for c in self.columns if c.kind in ("regular", "static")]

    @cached_property
    def primary_key(self) -> list[ColumnDef]:
        return self.partition_key + self.clustering

    @cached_property
    def ordered_columns(self) -> list[ColumnDef]:
        """Column order of ``SELECT *``: partition key, clustering, then the rest by name."""
        return self.partition_key + self.clustering + sorted(self.regular, key=lambda c: c.name)

    def column(self, name: str) -> ColumnDef:
        try:
            return self.by_name[name]
        except KeyError:
            raise InvalidRequest(
                f"Undefined column name {name} in table {self.keyspace}.{self.name}"
            ) from None


def _position(column: ColumnDef) -> int:
    return column.position


@dataclass
class KeyspaceDef:
    name: str
    replication: dict[str, str]
    durable_writes: bool = True
    tables: dict[str, TableDef] = field(default_factory=dict)
    virtual: bool = False
    system: bool = False


def _refuse_system_keyspace(ks: KeyspaceDef) -> None:
    """DDL may not touch a system keyspace: Cassandra's refusal, as an InvalidRequest."""
    if ks.system:
        raise InvalidRequest(f"{ks.name} keyspace is not user-modifiable")


# ---- system keyspaces ---------------------------------------------------------------------------


def table_def(
    keyspace: str,
    name: str,
    partition: list[tuple[str, str]],
    clustering: list[tuple[str, str]] = (),  # type: ignore[assignment]
    regular: list[tuple[str, str]] = (),  # type: ignore[assignment]
    virtual: bool = False,
) -> TableDef:
    """A table from (name, type) lists of its partition key, clustering and regular columns."""
    columns = [ColumnDef(n, t, "partition_key", i) for i, (n, t) in enumerate(partition)]
    columns += [ColumnDef(n, t, "clustering", i, "asc") for i, (n, t) in enumerate(clustering)]
    columns += [ColumnDef(n, t, "regular", -1) for n, t in regular]
    return TableDef(keyspace, name, columns, dict(DEFAULT_TABLE_OPTIONS), virtual)


_TEXT_MAP = "frozen<map<text, text>>"
_TABLE_OPTION_COLUMNS = [
    ("additional_write_policy", "text"),
    ("bloom_filter_fp_chance", "double"),
    ("caching", _TEXT_MAP),
    ("cdc", "boolean"),
    ("comment", "text"),
    ("compaction", _TEXT_MAP),
    ("compression", _TEXT_MAP),
    ("crc_check_chance", "double"),
    ("default_time_to_live", "int"),
    ("extensions", "frozen<map<text, blob>>"),
    ("gc_grace_seconds", "int"),
    ("max_index_interval", "int"),
    ("memtable_flush_period_in_ms", "int"),
    ("min_index_interval", "int"),
    ("read_repair", "text"),
    ("speculative_retry", "text"),
]
_KS = [("keyspace_name", "text")]
_COLUMN_COLUMNS = [
    ("clustering_order", "text"),
    ("column_name_bytes", "blob"),
    ("kind", "text"),
    ("position", "int"),
    ("type", "text"),
]


def _trace_tables() -> list[TableDef]:
    """system_traces.sessions and .events, with TraceKeyspace's columns (Cassandra 5.0)."""
    return [
        table_def(
            "system_traces", "sessions", [("session_id", "uuid")], [],
            [("client", "inet"), ("command", "text"), ("coordinator", "inet"),
             ("coordinator_port", "int"), ("duration", "int"),
             ("parameters", "map<text, text>"), ("request", "text"),
             ("started_at", "timestamp")],
        ),
        table_def(
            "system_traces", "events", [("session_id", "uuid")], [("event_id", "timeuuid")],
            [("activity", "text"), ("source", "inet"), ("source_elapsed", "int"),
             ("source_port", "int"), ("thread", "text")],
        ),
    ]  # fmt: skip


def _system_tables() -> list[TableDef]:
    ss, sys_, vs = "system_schema", "system", "system_virtual_schema"
    fn_args = [("argument_types", "frozen<list<text>>")]
    return [
        *_trace_tables(),
        table_def(
            ss, "keyspaces", _KS, [], [("durable_writes", "boolean"), ("replication", _TEXT_MAP)],
        ),
        table_def(
            ss, "tables", _KS, [("table_name", "text")],
            [*_TABLE_OPTION_COLUMNS, ("flags", "frozen<set<text>>"), ("id", "uuid")],
        ),
        table_def(
            ss, "columns", _KS, [("table_name", "text"), ("column_name", "text")], _COLUMN_COLUMNS,
        ),
        table_def(
            ss, "dropped_columns", _KS, [("table_name", "text"), ("column_name", "text")],
            [("dropped_time", "timestamp"), ("kind", "text"), ("type", "text")],
        ),
        table_def(
            ss, "types", _KS, [("type_name", "text")],
            [("field_names", "frozen<list<text>>"), ("field_types", "frozen<list<text>>")],
        ),
        table_def(
            ss, "functions", _KS, [("function_name", "text"), *fn_args],
            [("argument_names", "frozen<list<text>>"), ("body", "text"),
             ("called_on_null_input", "boolean"), ("language", "text"), ("return_type", "text")],
        ),
        table_def(
            ss, "aggregates", _KS, [("aggregate_name", "text"), *fn_args],
            [("final_func", "text"), ("initcond", "text"), ("return_type", "text"),
             ("state_func", "text"), ("state_type", "text")],
        ),
        table_def(
            ss, "triggers", _KS, [("table_name", "text"), ("trigger_name", "text")],
            [("options", _TEXT_MAP)],
        ),
        table_def(
            ss, "indexes", _KS, [("table_name", "text"), ("index_name", "text")],
            [("kind", "text"), ("options", _TEXT_MAP)],
        ),
        table_def(
            ss, "views", _KS, [("view_name", "text")],
            [*_TABLE_OPTION_COLUMNS, ("base_table_id", "uuid"), ("base_table_name", "text"),
             ("id", "uuid"), ("include_all_columns", "boolean"), ("where_clause", "text")],
        ),
        table_def(
            sys_, "local", [("key", "text")], [],
            [("bootstrapped", "text"), ("broadcast_address", "inet"), ("broadcast_port", "int"),
             ("cluster_name", "text"), ("cql_version", "text"), ("data_center", "text"),
             ("gossip_generation", "int"), ("host_id", "uuid"), ("listen_address", "inet"),
             ("listen_port", "int"), ("native_protocol_version", "text"),
             ("partitioner", "text"), ("rack", "text"), ("release_version", "text"),
             ("rpc_address", "inet"), ("rpc_port", "int"), ("schema_version", "uuid"),
             ("tokens", "set<text>")],
        ),
        table_def(
            sys_, "peers", [("peer", "inet")], [],
            [("data_center", "text"), ("host_id", "uuid"), ("preferred_ip", "inet"),
             ("rack", "text"), ("release_version", "text"), ("rpc_address", "inet"),
             ("schema_version", "uuid"), ("tokens", "set<text>")],
        ),
        table_def(
            sys_, "peers_v2", [("peer", "inet")], [("peer_port", "int")],
            [("data_center", "text"), ("host_id", "uuid"), ("native_address", "inet"),
             ("native_port", "int"), ("preferred_ip", "inet"), ("preferred_port", "int"),
             ("rack", "text"), ("release_version", "text"), ("schema_version", "uuid"),
             ("tokens", "set<text>")],
        ),
        table_def(vs, "keyspaces", _KS, virtual=True),
        table_def(vs, "tables", _KS, [("table_name", "text")], [("comment", "text")], virtual=True),
        table_def(
            vs, "columns", _KS, [("table_name", "text"), ("column_name", "text")],
            _COLUMN_COLUMNS, virtual=True,
        ),
    ]  # fmt: skip


def _view_tables(release: str) -> list[TableDef]:
    """system_views.* of ``release`` from the cluster layer's column definitions."""
    from rackpanel.simulator.cluster.view_columns import view_columns

    tables = []
    for name, defs in view_columns(release).items():
        columns = [
            ColumnDef(
                d.name, d.type, d.kind, d.position if d.kind != "regular" else -1,
                "asc" if d.kind == "clustering" else "none",
            )
            for d in defs
        ]  # fmt: skip
        tables.append(TableDef("system_views", name, columns, {"comment": name}, virtual=True))
    return tables


SYSTEM_REPLICATION = {
    "system": LOCAL_STRATEGY,
    "system_schema": LOCAL_STRATEGY,
    "system_auth": {"class": _STRATEGY_PREFIX + "SimpleStrategy", "replication_factor": "1"},
    "system_distributed": {"class": _STRATEGY_PREFIX + "SimpleStrategy", "replication_factor": "3"},
    "system_traces": {"class": _STRATEGY_PREFIX + "SimpleStrategy", "replication_factor": "2"},
}
VIRTUAL_KEYSPACES = ("system_views", "system_virtual_schema")
DEFAULT_RELEASE = release_of(DEFAULT_CASSANDRA_VERSION)


# ---- the schema ---------------------------------------------------------------------------------


class Schema:
    """Keyspaces and tables, with DDL operations raising Cassandra's errors."""

    def __init__(self, release: str = DEFAULT_RELEASE) -> None:
        self.keyspaces: dict[str, KeyspaceDef] = {}
        for name, replication in SYSTEM_REPLICATION.items():
            self.keyspaces[name] = KeyspaceDef(name, dict(replication), system=True)
        for name in VIRTUAL_KEYSPACES:
            self.keyspaces[name] = KeyspaceDef(
                name, dict(LOCAL_STRATEGY), virtual=True, system=True
            )
        for table in [*_system_tables(), *_view_tables(release)]:
            self.keyspaces[table.keyspace].tables[table.name] = table
        self.version = self._digest()

    # ---- lookups ------------------------------------------------------------------------
    def keyspace(self, name: str) -> KeyspaceDef:
        try:
            return self.keyspaces[name]
        except KeyError:
            raise InvalidRequest(f"Keyspace '{name}' does not exist") from None

    def table(self, keyspace: str, name: str) -> TableDef:
        ks = self.keyspaces.get(keyspace)
        if ks is None:
            raise InvalidRequest(f"keyspace {keyspace} does not exist")  # Schema.validateTable
        try:
            return ks.tables[name]
        except KeyError:
            raise InvalidRequest(f"table {name} does not exist") from None

    # ---- DDL (each returns True when something changed) ----------------------------------
    def create_keyspace(
        self, name: str, replication: dict[str, str], durable_writes: bool, if_not_exists: bool
    ) -> bool:
        if name in self.keyspaces:
            if if_not_exists:
                return False
            raise AlreadyExists(f"Keyspace {name} already exists", name)
        self.keyspaces[name] = KeyspaceDef(name, normalise_replication(replication), durable_writes)
        return self._schema_changed()

    def drop_keyspace(self, name: str, if_exists: bool) -> bool:
        ks = self.keyspaces.get(name)
        if ks is None:
            if if_exists:
                return False
            raise InvalidRequest(f"Keyspace '{name}' doesn't exist")  # DropKeyspaceStatement
        _refuse_system_keyspace(ks)
        del self.keyspaces[name]
        return self._schema_changed()

    def create_table(self, table: TableDef, if_not_exists: bool) -> bool:
        ks = self.keyspaces.get(table.keyspace)
        if ks is None:
            raise InvalidRequest(f"Keyspace '{table.keyspace}' doesn't exist")
        _refuse_system_keyspace(ks)
        if table.name in ks.tables:
            if if_not_exists:
                return False
            raise AlreadyExists(
                f"Object {table.keyspace}.{table.name} already exists", table.keyspace, table.name
            )
        ks.tables[table.name] = table
        return self._schema_changed()

    def drop_table(self, keyspace: str, name: str, if_exists: bool) -> bool:
        ks = self.keyspaces.get(keyspace)
        if ks is None or name not in ks.tables:
            if if_exists:
                return False
            raise InvalidRequest(f"Table '{keyspace}.{name}' doesn't exist")
        _refuse_system_keyspace(ks)
        del ks.tables[name]
        return self._schema_changed()

    def alter_keyspace(
        self, name: str, replication: dict[str, str] | None, durable: bool | None, if_exists: bool
    ) -> KeyspaceDef | None:
        """The keyspace as it was (None when IF EXISTS found nothing)."""
        ks = self.keyspaces.get(name)
        if ks is None:
            if if_exists:
                return None
            raise InvalidRequest(f"Keyspace '{name}' doesn't exist")
        _refuse_system_keyspace(ks)
        before = KeyspaceDef(ks.name, dict(ks.replication), ks.durable_writes)
        if replication is not None:
            ks.replication = normalise_replication(replication)
        if durable is not None:
            ks.durable_writes = durable
        self._schema_changed()
        return before

    def replace_table(self, table: TableDef) -> None:
        """ALTER TABLE: the new definition takes the old one's place."""
        ks = self.keyspaces[table.keyspace]
        _refuse_system_keyspace(ks)
        ks.tables[table.name] = table
        self._schema_changed()

    def _schema_changed(self) -> bool:
        """A new schema version (what drivers compare for agreement); True, for the DDL."""
        self.version = self._digest()
        return True

    def _digest(self) -> uuid.UUID:
        h = hashlib.md5(usedforsecurity=False)
        for ks in sorted(self.keyspaces.values(), key=lambda k: k.name):
            h.update(f"{ks.name}{sorted(ks.replication.items())}{ks.durable_writes}".encode())
            for t in sorted(ks.tables.values(), key=lambda t: t.name):
                h.update(
                    f"{t.name}{[(c.name, c.type, c.kind, c.position) for c in t.columns]}".encode()
                )
        return uuid.UUID(bytes=h.digest(), version=3)

    # ---- rows of system_schema.* and system_virtual_schema.* ---------------------------------
    def schema_rows(self, table: str) -> list[dict[str, Any]]:
        """Rows of ``system_schema.<table>`` (regular keyspaces, system ones included)."""
        real = [k for k in self.keyspaces.values() if not k.virtual]
        if table == "keyspaces":
            return [
                {
                    "keyspace_name": k.name,
                    "durable_writes": k.durable_writes,
                    "replication": k.replication,
                }
                for k in real
            ]
        if table == "tables":
            return [_table_row(t) for k in real for t in k.tables.values()]
        if table == "columns":
            return [_column_row(t, c) for k in real for t in k.tables.values() for c in t.columns]
        return []  # types, functions, aggregates, triggers, indexes, views, dropped_columns

    def virtual_schema_rows(self, table: str) -> list[dict[str, Any]]:
        virtual = [k for k in self.keyspaces.values() if k.virtual]
        if table == "keyspaces":
            return [{"keyspace_name": k.name} for k in virtual]
        if table == "tables":
            return [
                {
                    "keyspace_name": k.name,
                    "table_name": t.name,
                    "comment": t.options.get("comment", ""),
                }
                for k in virtual
                for t in k.tables.values()
            ]
        if table == "columns":
            return [
                _column_row(t, c) for k in virtual for t in k.tables.values() for c in t.columns
            ]
        return []


def _table_row(table: TableDef) -> dict[str, Any]:
    row = {"keyspace_name": table.keyspace, "table_name": table.name, "id": table.id}
    row.update({k: v for k, v in DEFAULT_TABLE_OPTIONS.items()})
    row.update(table.options)
    return row


def _column_row(table: TableDef, column: ColumnDef) -> dict[str, Any]:
    return {
        "keyspace_name": table.keyspace,
        "table_name": table.name,
        "column_name": column.name,
        "clustering_order": column.clustering_order,
        "column_name_bytes": column.name.encode(),
        "kind": column.kind,
        "position": column.position,
        "type": column.type,
    }


def normalise_replication(replication: dict[str, str]) -> dict[str, str]:
    """Full strategy class names and string factors, validated as Cassandra does."""
    options = {k: str(v) for k, v in replication.items()}
    cls = options.get("class")
    if not cls:
        raise ConfigurationException("Missing replication strategy class")
    short = cls.rsplit(".", 1)[-1]
    if short not in ("SimpleStrategy", "NetworkTopologyStrategy"):
        raise ConfigurationException(f"Unable to find replication strategy class '{cls}'")
    options["class"] = _STRATEGY_PREFIX + short
    for key, value in options.items():
        if key == "class":
            continue
        if not value.isdigit():
            raise ConfigurationException(
                f"Replication factor must be non-negative integer; found {value}"
            )
        if short == "SimpleStrategy" and key != "replication_factor":
            raise ConfigurationException(
                f"Unrecognized strategy option {{{key}}} passed to SimpleStrategy"
            )
    if short == "SimpleStrategy" and "replication_factor" not in options:
        raise ConfigurationException(
            "SimpleStrategy requires a replication_factor strategy option."
        )
    return options

"""CREATE/DROP KEYSPACE and TABLE: schema changes, storage purges, SCHEMA_CHANGE events."""

from __future__ import annotations

from typing import Any

from rackpanel.simulator.core import ConsistencyLevel, InvalidRequest, Unavailable
from rackpanel.simulator.cql import ast
from rackpanel.simulator.executor.context import SimContext
from rackpanel.simulator.protocol import messages
from rackpanel.simulator.schema import DEFAULT_TABLE_OPTIONS, ColumnDef, TableDef

_TABLE_OPTIONS = set(DEFAULT_TABLE_OPTIONS) - {"flags", "extensions"}


def _announce(ctx: SimContext, change: str, target: str, keyspace: str, name: str = "") -> bytes:
    ctx.broadcast("SCHEMA_CHANGE", messages.event_schema_change(change, target, keyspace, name))
    return messages.result_schema_change(change, target, keyspace, name)


def _unchanged() -> bytes:
    return messages.result_void()


def create_keyspace(ctx: SimContext, stmt: ast.CreateKeyspace) -> bytes:
    if not ctx.schema.create_keyspace(
        stmt.name, dict(stmt.replication), stmt.durable_writes, stmt.if_not_exists
    ):
        return _unchanged()
    return _announce(ctx, "CREATED", "KEYSPACE", stmt.name)


RF_INCREASE_WARNING = (
    "When increasing replication factor you need to run a full (-full) repair to distribute "
    "the data."
)  # AlterKeyspaceStatement's client warning


def alter_keyspace(ctx: SimContext, stmt: ast.AlterKeyspace, warnings: list[str]) -> bytes:
    """New replication moves replica placement at once; the data stays on the replicas that
    hold it until a repair (POST /repair), as in Cassandra."""
    if stmt.replication is not None:
        ctx.cluster.validate_replication(stmt.replication, stmt.name)
    before = ctx.schema.alter_keyspace(
        stmt.name, stmt.replication, stmt.durable_writes, stmt.if_exists
    )
    if before is None:
        return _unchanged()
    after = ctx.schema.keyspace(stmt.name)
    old = ctx.cluster.replication(before.replication).dc_factors
    new = ctx.cluster.replication(after.replication).dc_factors
    if any(new.get(dc, 0) > old.get(dc, 0) for dc in set(new) | set(old)):
        warnings.append(RF_INCREASE_WARNING)
    return _announce(ctx, "UPDATED", "KEYSPACE", stmt.name)


def alter_table(ctx: SimContext, keyspace: str, stmt: ast.AlterTable) -> bytes:
    ks = ctx.schema.keyspaces.get(keyspace)
    table = ks.tables.get(stmt.name) if ks is not None else None
    if table is None:
        if stmt.if_exists:
            return _unchanged()
        raise InvalidRequest(f"Table '{keyspace}.{stmt.name}' doesn't exist")
    if table.virtual:
        raise InvalidRequest(f"Cannot alter virtual table {keyspace}.{stmt.name}")
    columns, options = list(table.columns), dict(table.options)
    if stmt.action == "ADD":
        columns = _added(table, columns, stmt)
    elif stmt.action == "DROP":
        columns = _dropped(table, columns, stmt)
    else:
        unknown = set(stmt.options) - _TABLE_OPTIONS
        if unknown:
            raise InvalidRequest(f"Unknown property '{sorted(unknown)[0]}'")
        options.update(stmt.options)
    if columns == table.columns and options == table.options:
        return _unchanged()
    ctx.schema.replace_table(TableDef(keyspace, table.name, columns, options))
    return _announce(ctx, "UPDATED", "TABLE", keyspace, table.name)


def _added(table: TableDef, columns: list[ColumnDef], stmt: ast.AlterTable) -> list[ColumnDef]:
    for name, cql_type, static in stmt.columns:
        if name in table.by_name:
            if stmt.column_if:
                continue
            raise InvalidRequest(f"Column with name '{name}' already exists")
        if static and not table.clustering:
            raise InvalidRequest(
                "Static columns are only useful (and thus allowed) if the table has at least "
                "one clustering column"
            )
        column = ColumnDef(name, cql_type.cql_name, "static" if static else "regular", -1)
        column.__dict__["cql_type"] = cql_type
        columns.append(column)
    return columns


def _dropped(table: TableDef, columns: list[ColumnDef], stmt: ast.AlterTable) -> list[ColumnDef]:
    for name in stmt.names:
        column = table.by_name.get(name)
        if column is None:
            if stmt.column_if:
                continue
            raise InvalidRequest(
                f"Column {name} was not found in table {table.keyspace}.{table.name}"
            )
        if column.kind in ("partition_key", "clustering"):
            raise InvalidRequest(f"Cannot drop PRIMARY KEY column {name}")
        columns = [c for c in columns if c.name != name]
    return columns


def drop_keyspace(ctx: SimContext, stmt: ast.DropKeyspace) -> bytes:
    if not ctx.schema.drop_keyspace(stmt.name, stmt.if_exists):
        return _unchanged()
    ctx.cluster.drop_keyspace(stmt.name)
    return _announce(ctx, "DROPPED", "KEYSPACE", stmt.name)


def _table_def(keyspace: str, stmt: ast.CreateTable) -> TableDef:
    names = [name for name, _ in stmt.columns]
    for name in {n for n in names if names.count(n) > 1}:
        raise InvalidRequest(
            f"Duplicate column '{name}' declaration for table {keyspace}.{stmt.name}"
        )
    for name in (*stmt.partition_key, *stmt.clustering):
        if name not in names:
            raise InvalidRequest(f"Unknown definition {name} referenced in PRIMARY KEY")
    for name in stmt.clustering_order:
        if name not in stmt.clustering:
            raise InvalidRequest(
                f"Only clustering key columns can be defined in CLUSTERING ORDER directive: {name}"
            )
    unknown = set(stmt.options) - _TABLE_OPTIONS
    if unknown:
        raise InvalidRequest(f"Unknown property '{sorted(unknown)[0]}'")
    columns: list[ColumnDef] = []
    for name, cql_type in stmt.columns:
        if name in stmt.partition_key:
            column = ColumnDef(
                name, cql_type.cql_name, "partition_key", stmt.partition_key.index(name)
            )
        elif name in stmt.clustering:
            order = stmt.clustering_order.get(name, "ASC").lower()
            column = ColumnDef(
                name, cql_type.cql_name, "clustering", stmt.clustering.index(name), order
            )
        else:
            kind = "static" if name in stmt.static_columns else "regular"
            column = ColumnDef(name, cql_type.cql_name, kind, -1)
        column.__dict__["cql_type"] = cql_type  # the parsed type, no need to re-parse it
        columns.append(column)
    options: dict[str, Any] = dict(DEFAULT_TABLE_OPTIONS)
    options.update(stmt.options)
    return TableDef(keyspace, stmt.name, columns, options)


def create_table(ctx: SimContext, keyspace: str, stmt: ast.CreateTable) -> bytes:
    if not ctx.schema.create_table(_table_def(keyspace, stmt), stmt.if_not_exists):
        return _unchanged()
    return _announce(ctx, "CREATED", "TABLE", keyspace, stmt.name)


def drop_table(ctx: SimContext, keyspace: str, stmt: ast.DropTable) -> bytes:
    if not ctx.schema.drop_table(keyspace, stmt.name, stmt.if_exists):
        return _unchanged()
    ctx.cluster.drop_table(keyspace, stmt.name)
    return _announce(ctx, "DROPPED", "TABLE", keyspace, stmt.name)


def truncate(ctx: SimContext, coordinator: Any, keyspace: str, table: str) -> bytes:
    """TRUNCATE empties a table on every replica, so (as in Cassandra) every node must be up."""
    definition = ctx.schema.table(keyspace, table)
    if definition.virtual or keyspace.startswith("system"):
        raise InvalidRequest(f"Cannot truncate table {keyspace}.{table}: system table")
    nodes = ctx.cluster.nodes
    alive = sum(1 for node in nodes if ctx.cluster.is_alive(coordinator, node))
    if alive < len(nodes):
        raise Unavailable(ConsistencyLevel.ALL, len(nodes), alive)
    ctx.cluster.drop_table(keyspace, table)
    return messages.result_void()

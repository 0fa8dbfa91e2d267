"""DESCRIBE, answered by the server as Cassandra 5.0's ``DescribeStatement`` does.

Result columns (table ``system.describe``): ``keyspace_name, type, name`` for the listings
(KEYSPACES, TABLES, TYPES, FUNCTIONS, AGGREGATES) plus ``create_statement`` for the elements
(KEYSPACE, TABLE, SCHEMA, the generic ``DESCRIBE name``); ``cluster, partitioner, snitch``
(plus ``range_ownership`` when a non-system keyspace is in use) for CLUSTER. Keyspaces are
listed by name; a keyspace's elements follow it (types, functions, aggregates: none in the
simulator, then each table). Errors keep Cassandra's texts: ``'x' not found in keyspaces``,
``'t' not found in keyspace 'ks'``, ``No keyspace specified and no current keyspace``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rackpanel.simulator.core import InvalidRequest
from rackpanel.simulator.cql import ast
from rackpanel.simulator.cql.types import parse_type
from rackpanel.simulator.protocol.messages import ColumnSpec
from rackpanel.simulator.schema import KeyspaceDef, Schema, TableDef
from rackpanel.simulator.schema_cql import keyspace_cql, quote, table_cql

TEXT = parse_type("text")
RANGE_OWNERSHIP = parse_type("map<text, frozen<list<text>>>")
_SYSTEM_KEYSPACES = frozenset(
    {"system", "system_schema", "system_auth", "system_distributed", "system_traces",
     "system_views", "system_virtual_schema"}
)  # fmt: skip
_LISTINGS = {"TABLES": "table", "TYPES": "type", "FUNCTIONS": "function", "AGGREGATES": "aggregate"}

Element = tuple[str, str, str, str]  # keyspace_name, type, name, create_statement


def _spec(name: str, cql_type: Any = TEXT) -> ColumnSpec:
    return ColumnSpec("system", "describe", name, cql_type.encode_option())


LIST_COLUMNS = [_spec("keyspace_name"), _spec("type"), _spec("name")]
ELEMENT_COLUMNS = [*LIST_COLUMNS, _spec("create_statement")]


def _keyspace(schema: Schema, name: str) -> KeyspaceDef:
    ks = schema.keyspaces.get(name)
    if ks is None:
        raise InvalidRequest(f"'{name}' not found in keyspaces")
    return ks


def _current(named: str | None, session: str | None) -> str:
    keyspace = named or session
    if keyspace is None:
        raise InvalidRequest("No keyspace specified and no current keyspace")
    return keyspace


def _table_element(table: TableDef, internals: bool) -> Element:
    return (quote(table.keyspace), "table", quote(table.name), table_cql(table, internals))


def _keyspace_elements(ks: KeyspaceDef, only: bool, internals: bool) -> Iterator[Element]:
    yield quote(ks.name), "keyspace", quote(ks.name), keyspace_cql(ks)
    if not only:
        for name in sorted(ks.tables):
            yield _table_element(ks.tables[name], internals)


def _sorted_keyspaces(schema: Schema) -> list[KeyspaceDef]:
    return [schema.keyspaces[name] for name in sorted(schema.keyspaces)]


def describe(
    stmt: ast.Describe, schema: Schema, session: str | None, cluster: Any
) -> tuple[list[ColumnSpec], list[list[bytes | None]]]:
    """(result columns, serialised rows) of one DESCRIBE statement."""
    columns, rows = _describe(stmt, schema, session, cluster)
    types = [RANGE_OWNERSHIP if c.name == "range_ownership" else TEXT for c in columns]
    return columns, [[t.serialize(v) for t, v in zip(types, row, strict=True)] for row in rows]


def _describe(
    stmt: ast.Describe, schema: Schema, session: str | None, cluster: Any
) -> tuple[list[ColumnSpec], list[list[Any]]]:
    kind = stmt.kind
    if kind == "CLUSTER":
        return describe_cluster(cluster, schema, session)
    if kind == "KEYSPACES":
        rows = [[quote(k.name), "keyspace", quote(k.name)] for k in _sorted_keyspaces(schema)]
        return LIST_COLUMNS, rows
    if kind in _LISTINGS:
        keyspaces = [_keyspace(schema, session)] if session else _sorted_keyspaces(schema)
        rows = []
        if kind == "TABLES":
            rows = [
                [quote(ks.name), "table", quote(name)]
                for ks in keyspaces
                for name in sorted(ks.tables)
            ]
        return LIST_COLUMNS, rows
    return ELEMENT_COLUMNS, [list(e) for e in _elements(stmt, schema, session)]


def _elements(stmt: ast.Describe, schema: Schema, session: str | None) -> Iterator[Element]:
    kind, internals = stmt.kind, stmt.internals
    if kind == "SCHEMA":
        for ks in _sorted_keyspaces(schema):
            if stmt.full or ks.name not in _SYSTEM_KEYSPACES:
                yield from _keyspace_elements(ks, False, internals)
        return
    if kind == "KEYSPACE":
        ks = _keyspace(schema, _current(stmt.name, session))
        yield from _keyspace_elements(ks, stmt.only, internals)
        return
    if kind == "GENERIC" and stmt.keyspace is None:
        # "a keyspace or a table or an index or a materialized view (in this order)"
        if stmt.name in schema.keyspaces:
            yield from _keyspace_elements(schema.keyspaces[stmt.name], False, internals)
            return
        keyspace = session or stmt.name or ""
    else:
        keyspace = _current(stmt.keyspace, session)
    ks = _keyspace(schema, keyspace)
    table = ks.tables.get(stmt.name or "")
    if kind == "TABLE":
        if table is None:
            raise InvalidRequest(f"Table '{stmt.name}' not found in keyspace '{ks.name}'")
        yield _table_element(table, internals)
    elif kind == "GENERIC":
        if table is None:
            raise InvalidRequest(f"'{stmt.name}' not found in keyspace '{ks.name}'")
        yield _table_element(table, internals)
    else:  # an element kind the simulator never has: INDEX, MATERIALIZED VIEW, TYPE, ...
        raise InvalidRequest(_NOT_FOUND[kind].format(name=stmt.name, keyspace=ks.name))


_NOT_FOUND = {
    "INDEX": "Index '{name}' not found in '{keyspace}'",
    "MATERIALIZED VIEW": "Materialized view '{name}' not found in '{keyspace}'",
    "TYPE": "User defined type '{name}' not found in '{keyspace}'",
    "FUNCTION": "User defined function '{name}' not found in '{keyspace}'",
    "AGGREGATE": "User defined aggregate '{name}' not found in '{keyspace}'",
}


def describe_cluster(
    cluster: Any, schema: Schema, session: str | None
) -> tuple[list[ColumnSpec], list[list[Any]]]:
    columns = [_spec("cluster"), _spec("partitioner"), _spec("snitch")]
    row: list[Any] = [cluster.name, "Murmur3Partitioner", "GossipingPropertyFileSnitch"]
    if session is not None and session not in _SYSTEM_KEYSPACES and session in schema.keyspaces:
        columns.append(_spec("range_ownership", RANGE_OWNERSHIP))
        row.append(_range_ownership(cluster, schema.keyspaces[session].replication))
    return columns, [row]


def _range_ownership(cluster: Any, replication: dict[str, str]) -> dict[str, list[str]]:
    """Each token range's end token → its replicas as ``/address:7000`` (the storage port),
    what ``StorageService.getRangeToAddressMap`` gives DESCRIBE CLUSTER."""
    repl = cluster.replication(replication)
    ring = cluster.ring
    return {
        str(tok): [f"/{node.address}:7000" for node in ring.replicas_at(repl, index)]
        for index, tok in enumerate(ring.tokens)
    }

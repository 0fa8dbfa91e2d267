"""Prepared statements: ids, bind metadata (with pk_index for token-aware routing), results."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from rackpanel.simulator.cql import ast
from rackpanel.simulator.executor.binding import marker_columns, pk_indexes
from rackpanel.simulator.executor.select import outputs
from rackpanel.simulator.protocol.messages import ColumnSpec, metadata_id
from rackpanel.simulator.schema import TableDef


@dataclass(frozen=True)
class Prepared:
    statement_id: bytes
    query: str
    statement: ast.Statement
    keyspace: str | None  # the connection's keyspace when it was prepared
    bind_columns: list[ColumnSpec]
    pk_indexes: list[int]
    result_columns: list[ColumnSpec]
    result_metadata_id: bytes  # v5: a digest of result_columns


def statement_id(keyspace: str | None, query: str) -> bytes:
    """MD5 of the keyspace and the text, as Cassandra computes it: the same on every node."""
    return hashlib.md5(((keyspace or "") + query).encode(), usedforsecurity=False).digest()


def prepare(
    query: str, statement: ast.Statement, keyspace: str | None, table: TableDef | None
) -> Prepared:
    ks, name = (table.keyspace, table.name) if table is not None else ("", "")
    bind_columns = [
        ColumnSpec(ks, name, col_name, cql_type.encode_option())
        for col_name, cql_type in marker_columns(statement, table)
    ]
    result_columns: list[ColumnSpec] = []
    if isinstance(statement, ast.Select) and table is not None:
        result_columns = [o.spec for o in outputs(table, statement)]
    return Prepared(
        statement_id(keyspace, query),
        query,
        statement,
        keyspace,
        bind_columns,
        pk_indexes(statement, table),
        result_columns,
        metadata_id(result_columns),
    )

"""Terms → serialised values, and the type of every bind marker of a statement.

A bound value arrives already serialised by the driver (with the types the PREPARED
metadata announced), so it is used as is; a literal (or ``now()``-style function) is coerced
with its column's type by ``CqlType.from_literal``.
"""

from __future__ import annotations

from typing import Any

from rackpanel.simulator.core import InvalidRequest
from rackpanel.simulator.cql import ast
from rackpanel.simulator.cql.types import parse_type
from rackpanel.simulator.protocol.wire import UNSET
from rackpanel.simulator.schema import TableDef

INT = parse_type("int")
BIGINT = parse_type("bigint")


class Bound:
    """The values bound to a statement's markers, by marker index (or by name)."""

    __slots__ = ("by_name", "values")

    def __init__(self, values: list, names: list[str] | None, markers: tuple[ast.BindMarker, ...]):
        if names is not None:
            by_name = dict(zip(names, values, strict=False))
            self.values = []
            for marker in markers:
                if marker.name not in by_name:
                    raise InvalidRequest(f"Invalid bind variable name {marker.name}")
                self.values.append(by_name[marker.name])
        else:
            if len(values) != len(markers):
                raise InvalidRequest(
                    f"There were {len(markers)} markers(?) in CQL but {len(values)} bound variables"
                )
            self.values = values

    def __getitem__(self, index: int) -> Any:
        return self.values[index]


def term_bytes(term: ast.Term, cql_type: Any, bound: Bound, column: str) -> Any:
    """The serialised value of ``term`` for a column: bytes, None (null) or UNSET."""
    if isinstance(term, ast.BindMarker):
        return bound[term.index]
    value = cql_type.from_literal(term, column)
    return None if value is None else cql_type.serialize(value)


def term_python(term: ast.Term, cql_type: Any, bound: Bound, column: str) -> Any:
    """The Python value of ``term`` (for LIMIT, TTL, USING TIMESTAMP and comparisons)."""
    raw = term_bytes(term, cql_type, bound, column)
    if raw is None or raw is UNSET:
        return raw
    return cql_type.deserialize(raw)


# ---- the type of each bind marker (PREPARED metadata) -------------------------------------------


def marker_columns(statement: ast.Statement, table: TableDef | None) -> list[tuple[str, Any]]:
    """(name, CqlType) of every marker, in index order, as Cassandra names them."""
    found: dict[int, tuple[str, Any]] = {}

    def column_type(name: str) -> Any:
        if table is None:
            raise InvalidRequest("Bind markers need a table")
        return table.column(name).cql_type

    def note(term: Any, name: str, cql_type: Any) -> None:
        if isinstance(term, ast.BindMarker):
            found[term.index] = (term.name or name, cql_type)

    def relations(where: tuple) -> None:
        for rel in where:
            if rel.token:
                for term in rel.terms:
                    note(term, "partition key token", BIGINT)
                continue
            col_type = column_type(rel.column)
            if rel.op == "IN" and len(rel.terms) == 1 and isinstance(rel.terms[0], ast.BindMarker):
                note(rel.terms[0], f"in({rel.column})", parse_type(f"list<{col_type.cql_name}>"))
            else:
                for term in rel.terms:
                    note(term, rel.column, col_type)

    def using(ttl: Any, timestamp: Any) -> None:
        note(ttl, "[ttl]", INT)
        note(timestamp, "[timestamp]", BIGINT)

    if isinstance(statement, ast.Insert):
        for name, term in zip(statement.columns, statement.values, strict=False):
            note(term, name, column_type(name))
        using(statement.ttl, statement.timestamp)
    elif isinstance(statement, ast.Update):
        using(statement.ttl, statement.timestamp)
        for a in statement.assignments:
            note(a.value, a.column, column_type(a.column))
        relations(statement.where)
        for c in statement.conditions:
            for term in c.terms:
                note(term, c.column, column_type(c.column))
    elif isinstance(statement, ast.Delete):
        using(None, statement.timestamp)
        relations(statement.where)
        for c in statement.conditions:
            for term in c.terms:
                note(term, c.column, column_type(c.column))
    elif isinstance(statement, ast.Select):
        relations(statement.where)
        note(statement.limit, "[limit]", INT)
        note(statement.per_partition_limit, "[per_partition_limit]", INT)
    markers = statement.bind_markers
    missing = [m.index for m in markers if m.index not in found]
    if missing:
        raise InvalidRequest("Bind markers are not supported in this position by the simulator")
    return [found[m.index] for m in markers]


def pk_indexes(statement: ast.Statement, table: TableDef | None) -> list[int]:
    """For token-aware routing: the marker index bound to each partition key column."""
    if table is None or not isinstance(
        statement, ast.Insert | ast.Update | ast.Delete | ast.Select
    ):
        return []
    by_column: dict[str, int] = {}
    if isinstance(statement, ast.Insert):
        for name, term in zip(statement.columns, statement.values, strict=False):
            if isinstance(term, ast.BindMarker):
                by_column[name] = term.index
    else:
        for rel in statement.where:
            if rel.op == "=" and not rel.token and isinstance(rel.term, ast.BindMarker):
                by_column[rel.column] = rel.term.index
    indexes = [by_column.get(c.name) for c in table.partition_key]
    return [] if None in indexes else indexes  # type: ignore[return-value]

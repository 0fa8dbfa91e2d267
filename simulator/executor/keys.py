"""Primary-key values of a statement: WHERE restrictions → partition keys and clusterings."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from rackpanel.simulator.core import InvalidRequest
from rackpanel.simulator.cql import ast
from rackpanel.simulator.cql.types import parse_type, routing_key
from rackpanel.simulator.executor.binding import BIGINT, Bound, term_bytes
from rackpanel.simulator.protocol.wire import UNSET
from rackpanel.simulator.schema import ColumnDef, TableDef


def key_value(raw: Any, column: ColumnDef) -> bytes:
    if raw is UNSET:
        raise InvalidRequest(f"Invalid unset value for column {column.name}")
    if raw is None:
        raise InvalidRequest(f"Invalid null value in condition for column {column.name}")
    return raw


def relation_values(rel: ast.Relation, column: ColumnDef, bound: Bound) -> list[bytes]:
    """The serialised values an ``=`` or ``IN`` relation allows for its column."""
    cql_type = column.cql_type
    if rel.op == "IN" and len(rel.terms) == 1 and isinstance(rel.terms[0], ast.BindMarker):
        raw = bound[rel.terms[0].index]
        if raw is None or raw is UNSET:
            raise InvalidRequest(f"Invalid null value for {column.name} IN list")
        items = parse_type(f"list<{cql_type.cql_name}>").deserialize(raw)
        return [cql_type.serialize(item) for item in items]
    return [key_value(term_bytes(term, cql_type, bound, column.name), column) for term in rel.terms]


def restrictions(
    table: TableDef, where: tuple[ast.Relation, ...], allow_token: bool = False
) -> dict[str, list[ast.Relation]]:
    """The column restrictions by column; ``token(...)`` ones are left to :func:`token_filter`
    (SELECT only: Cassandra refuses them in modifications)."""
    by_column: dict[str, list[ast.Relation]] = {}
    for rel in where:
        if rel.token:
            if allow_token:
                continue
            raise InvalidRequest(
                f"The token function cannot be used in WHERE clauses for "
                f"UPDATE and DELETE statements: token({', '.join(rel.columns)})"
            )
        table.column(rel.column)
        by_column.setdefault(rel.column, []).append(rel)
    return by_column


_TOKEN_OPS: dict[str, Callable[[int, int], bool]] = {
    ">": lambda tok, bound: tok > bound,
    ">=": lambda tok, bound: tok >= bound,
    "<": lambda tok, bound: tok < bound,
    "<=": lambda tok, bound: tok <= bound,
    "=": lambda tok, bound: tok == bound,
}


def token_filter(
    table: TableDef, where: tuple[ast.Relation, ...], bound: Bound
) -> Callable[[int], bool] | None:
    """Whether a partition's token passes the statement's ``token(pk) op x`` restrictions (what
    range-scanning tools such as cqlsh's COPY TO send); None when it has none."""
    checks = []
    names = [c.name for c in table.partition_key]
    for rel in where:
        if not rel.token:
            continue
        if list(rel.columns) != names:  # TokenRestriction's check
            raise InvalidRequest(
                "The token function arguments must be in the partition key order: "
                + ", ".join(names)
            )
        if rel.op not in _TOKEN_OPS:
            raise InvalidRequest(f'Unsupported "{rel.op}" relation: token({", ".join(names)})')
        value = term_bytes(rel.term, BIGINT, bound, "partition key token")
        if value is None or value is UNSET:
            raise InvalidRequest("Invalid null value for partition key token")
        checks.append((_TOKEN_OPS[rel.op], BIGINT.deserialize(value)))
    if not checks:
        return None
    return lambda tok: all(check(tok, limit) for check, limit in checks)


def equal_values(
    columns: list[ColumnDef], by_column: dict[str, list[ast.Relation]], bound: Bound
) -> list[list[bytes]] | None:
    """Per column the allowed values of its ``=``/``IN`` restriction; None if one is missing."""
    values = []
    for column in columns:
        rels = [r for r in by_column.get(column.name, []) if r.op in ("=", "IN")]
        if not rels:
            return None
        values.append(relation_values(rels[0], column, bound))
    return values


def partition_keys(table: TableDef, components: list[list[bytes]]) -> list[bytes]:
    """Routing keys of every combination of partition-key values (IN gives several)."""
    return [routing_key(list(combo)) for combo in itertools.product(*components)]


def modification_keys(
    table: TableDef, where: tuple[ast.Relation, ...], bound: Bound, full_clustering: bool
) -> tuple[list[bytes], list[tuple[bytes, ...]]]:
    """(partition keys, clusterings) an UPDATE/DELETE touches, validated as Cassandra does."""
    by_column = restrictions(table, where)
    key_names = {c.name for c in table.primary_key}
    stray = [name for name in by_column if name not in key_names]
    if stray:
        raise InvalidRequest(f"Non PRIMARY KEY columns found in where clause: {', '.join(stray)}")
    for name, rels in by_column.items():
        if any(r.op not in ("=", "IN") for r in rels):
            column = table.column(name)
            if column.kind == "partition_key":
                raise InvalidRequest(
                    "Only EQ and IN relation are supported on the partition key "
                    "(unless you use the token() function or allow filtering)"
                )
            raise InvalidRequest(
                "Slice restrictions on clustering columns in modifications "
                "are not supported by the simulator"
            )
    pk = equal_values(table.partition_key, by_column, bound)
    if pk is None:
        missing = [c.name for c in table.partition_key if c.name not in by_column]
        raise InvalidRequest(f"Some partition key parts are missing: {', '.join(missing)}")
    given = [c for c in table.clustering if c.name in by_column]
    if given != table.clustering[: len(given)]:
        missing = [c.name for c in table.clustering if c.name not in by_column]
        raise InvalidRequest(f"Some clustering keys are missing: {', '.join(missing)}")
    if full_clustering and len(given) < len(table.clustering):
        missing = [c.name for c in table.clustering[len(given) :]]
        raise InvalidRequest(f"Some clustering keys are missing: {', '.join(missing)}")
    ck = equal_values(given, by_column, bound) or []
    clusterings = [tuple(combo) for combo in itertools.product(*ck)] if given else [()]
    return partition_keys(table, pk), clusterings

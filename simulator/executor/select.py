"""SELECT: find the partitions (local table, partition-key reads or a full scan), filter,
order, project the selectors, apply LIMIT, and cut pages.

Paging state is the offset of the next row in the query's full result (8 bytes), so a
page's query is re-run and sliced: simple, and exact while the data does not change.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import struct
import time
from dataclasses import dataclass, field
from typing import Any

from rackpanel.simulator.cluster.coordinator import RepairObserver
from rackpanel.simulator.cluster.ring import token as murmur3_token
from rackpanel.simulator.core import Cell, ConsistencyLevel, InvalidRequest, ProtocolError
from rackpanel.simulator.cql import ast
from rackpanel.simulator.cql.types import parse_type, routing_key, split_routing_key
from rackpanel.simulator.executor.binding import INT, Bound, term_python
from rackpanel.simulator.executor.keys import (
    equal_values,
    partition_keys,
    relation_values,
    restrictions,
    token_filter,
)
from rackpanel.simulator.protocol import heavy
from rackpanel.simulator.protocol.messages import ColumnSpec
from rackpanel.simulator.schema import ColumnDef, TableDef

BOOLEAN = parse_type("boolean")
BIGINT = parse_type("bigint")
_OFFSET = struct.Struct(">q")
FILTERING_MESSAGE = (
    "Cannot execute this query as it might involve data filtering and thus may have "
    "unpredictable performance. If you want to execute this query despite the performance "
    "unpredictability, use ALLOW FILTERING"
)


@dataclass(slots=True)
class Row:
    values: dict[str, bytes | None]
    cells: dict[str, Cell] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Output:
    """One result column: its spec and how to compute it from a row."""

    spec: ColumnSpec
    kind: str  # column | writetime | ttl | count | min | max | sum | avg
    column: str = ""
    cql_type: Any = None  # the column's type, for the aggregates that compute on values
    table: Any = None  # for token(): the table whose partition key it hashes


AGGREGATES = ("count", "min", "max", "sum", "avg")
NUMERIC = ("int", "bigint", "smallint", "tinyint", "varint", "float", "double", "decimal")


def outputs(table: TableDef, stmt: ast.Select) -> list[Output]:
    def spec(name: str, cql_type: Any) -> ColumnSpec:
        return ColumnSpec(table.keyspace, table.name, name, cql_type.encode_option())

    if stmt.selectors == "*":
        return [Output(spec(c.name, c.cql_type), "column", c.name) for c in table.ordered_columns]
    result = []
    for selector in stmt.selectors:  # type: ignore[union-attr]
        expr, name = selector.expression, selector.result_name
        if isinstance(expr, ast.ColumnSelector):
            result.append(Output(spec(name, table.column(expr.name).cql_type), "column", expr.name))
        elif isinstance(expr, ast.CountAll):
            result.append(Output(spec(name, BIGINT), "count"))
        elif (
            isinstance(expr, ast.FunctionSelector)
            and expr.name in ("writetime", "ttl", "count")
            and len(expr.args) == 1
            and isinstance(expr.args[0], ast.ColumnSelector)
        ):
            column = table.column(expr.args[0].name)
            if expr.name != "count" and column.kind in ("partition_key", "clustering"):
                raise InvalidRequest(
                    f"Cannot use selection function {expr.name} on PRIMARY KEY part {column.name}"
                )
            cql_type = {"writetime": BIGINT, "ttl": INT, "count": BIGINT}[expr.name]
            result.append(Output(spec(name, cql_type), expr.name, column.name))
        elif (
            isinstance(expr, ast.FunctionSelector)
            and expr.name in ("min", "max", "sum", "avg")
            and len(expr.args) == 1
            and isinstance(expr.args[0], ast.ColumnSelector)
        ):
            column = table.column(expr.args[0].name)
            if expr.name in ("sum", "avg") and column.type not in NUMERIC:
                raise InvalidRequest(
                    f"Invalid call to function {expr.name}, none of its type signatures match "
                    f"(known type signatures: system.{expr.name} : (numeric) -> numeric)"
                )
            out_spec = spec(name, column.cql_type)
            result.append(Output(out_spec, expr.name, column.name, column.cql_type))
        elif isinstance(expr, ast.FunctionSelector) and expr.name == "token":
            _check_token_arguments(table, expr)
            result.append(Output(spec(name, BIGINT), "token", table=table))
        else:
            raise InvalidRequest(f"Unsupported selector {name} in the simulator")
    return result


def _check_token_arguments(table: TableDef, expr: ast.FunctionSelector) -> None:
    names = [c.name for c in table.partition_key]
    given = [a.name if isinstance(a, ast.ColumnSelector) else None for a in expr.args]
    if given != names:
        raise InvalidRequest(
            "Invalid number of arguments in call to function system.token: "
            f"{len(names)} required but {len(given)} provided"
            if len(given) != len(names)
            else f"Type error: token() arguments must be the partition key: {', '.join(names)}"
        )


def _token_of(row: Row, table: TableDef) -> bytes:
    """The Murmur3 token of the row's partition (``token(pk)`` in a SELECT list)."""
    key = routing_key([row.values[c.name] for c in table.partition_key])  # type: ignore[misc]
    return BIGINT.serialize(murmur3_token(key))


# ---- finding rows -------------------------------------------------------------------------------


def _filters(
    table: TableDef, stmt: ast.Select, bound: Bound, local: bool
) -> tuple[list[list[bytes]] | None, list[tuple[ColumnDef, str, list[bytes]]]]:
    """(partition-key values when fully restricted, row filters)."""
    by_column = restrictions(table, stmt.where, allow_token=True)
    pk = equal_values(table.partition_key, by_column, bound)
    if pk is not None and any(len(by_column[c.name]) > 1 for c in table.partition_key):
        pk = None
    needs_filtering = False
    filters = []
    for name, rels in by_column.items():
        column = table.column(name)
        if pk is not None and column.kind == "partition_key":
            continue
        if column.kind == "partition_key" or column.kind in ("regular", "static"):
            needs_filtering = True
        for rel in rels:
            if rel.op not in ("=", "IN", "<", "<=", ">", ">="):
                raise InvalidRequest(f"Unsupported operator {rel.op} in the simulator")
            filters.append((column, rel.op, relation_values(rel, column, bound)))
    if needs_filtering and not (stmt.allow_filtering or local):
        raise InvalidRequest(FILTERING_MESSAGE)
    return pk, filters


def _passes(row: Row, filters: list[tuple[ColumnDef, str, list[bytes]]]) -> bool:
    for column, op, wanted in filters:
        value = row.values.get(column.name)
        if op == "=":
            if value != wanted[0]:
                return False
        elif op == "IN":
            if value not in wanted:
                return False
        else:
            if value is None:
                return False
            key, other = column.cql_type.sort_key(value), column.cql_type.sort_key(wanted[0])
            if not {"<": key < other, "<=": key <= other, ">": key > other, ">=": key >= other}[op]:
                return False
    return True


def _sorted_clusterings(table: TableDef, clusterings: list, reverse: bool) -> list:
    """Clustering tuples in the table's clustering order (each column ASC or DESC)."""
    ordered = list(clusterings)
    for i in reversed(range(len(table.clustering))):
        column = table.clustering[i]
        desc = (column.clustering_order == "desc") != reverse
        ordered.sort(key=lambda ck, i=i, t=column.cql_type: t.sort_key(ck[i]), reverse=desc)
    return ordered


def partition_rows(
    table: TableDef, key: bytes, data: Any, reverse: bool, per_partition: int | None
) -> list[Row]:
    pk_names = [c.name for c in table.partition_key]
    components = split_routing_key(key, len(pk_names)) if len(pk_names) > 1 else [key]
    rows = []
    for clustering in _sorted_clusterings(table, list(data), reverse):
        cells = data[clustering]
        values: dict[str, bytes | None] = dict(zip(pk_names, components, strict=True))
        for column, value in zip(table.clustering, clustering, strict=True):
            values[column.name] = value
        for name, cell in cells.items():
            values[name] = cell.value
        rows.append(Row(values, cells))
        if per_partition is not None and len(rows) >= per_partition:
            break
    return rows


def columns_read(table: TableDef, stmt: ast.Select) -> list[ColumnDef]:
    """The columns a SELECT reads: those it selects, restricts or orders by, and the partition
    key; every column for ``*``, JSON or any selector other than a plain column."""
    selectors = stmt.selectors
    if (
        selectors == "*"
        or stmt.json
        or not all(isinstance(s.expression, ast.ColumnSelector) for s in selectors)
    ):
        return list(table.columns)
    names = {s.expression.name for s in selectors if isinstance(s.expression, ast.ColumnSelector)}
    for relation in stmt.where:
        names.add(relation.column)
        names.update(relation.columns)
    names.update(name for name, _ in stmt.order_by)
    names.update(c.name for c in table.partition_key)
    return [c for c in table.columns if c.name in names]


def local_table_rows(
    table: TableDef, raw_rows: list[dict[str, Any]], columns: list[ColumnDef] | None = None
) -> list[Row]:
    """A virtual table's rows, serialised: only ``columns`` (default: all) are, since a
    collection's query of 1,000 gossip_info rows wants a few of their 40 columns."""
    rows = []
    for raw in raw_rows:
        values = {}
        for column in table.columns if columns is None else columns:
            value = raw.get(column.name)
            values[column.name] = None if value is None else column.cql_type.serialize(value)
        rows.append(Row(values))
    return rows


def _reverse_requested(table: TableDef, stmt: ast.Select) -> bool:
    if not stmt.order_by:
        return False
    if not table.clustering:
        raise InvalidRequest(
            "Order by is currently only supported on the clustered columns of the PRIMARY KEY, got "
            + stmt.order_by[0][0]
        )
    first_name, first_dir = stmt.order_by[0]
    if first_name != table.clustering[0].name:
        raise InvalidRequest(
            "Order by currently only supports the ordering of columns following their "
            "declared order in the PRIMARY KEY"
        )
    natural = table.clustering[0].clustering_order.upper()
    return first_dir.upper() != (natural if natural in ("ASC", "DESC") else "ASC")


def _int_option(term: Any, bound: Bound, what: str) -> int | None:
    if term is None:
        return None
    value = term_python(term, INT, bound, what)
    if not isinstance(value, int) or value <= 0:
        raise InvalidRequest(
            f"{what.strip('[]').upper().replace('_', ' ')} must be strictly positive"
        )
    return value


async def find_rows(
    cluster: Any,
    coordinator: Any,
    replication: dict[str, str] | None,
    table: TableDef,
    stmt: ast.Select,
    bound: Bound,
    cl: ConsistencyLevel,
    local_rows: list[dict[str, Any]] | None,
    on_repair: RepairObserver | None = None,
) -> list[Row]:
    """Every row the query selects (before LIMIT), in result order; ``on_repair`` is told of
    each read repair of a partition-key read.

    A big request (an IN list of thousands of keys) computes its keys and its rows on the
    heavy lane and reads its partitions in chunks, so the shared loop keeps serving."""
    terms = sum(len(rel.terms) for rel in stmt.where)
    pk, filters = await heavy.run_if(
        terms > heavy.YIELD_EVERY, _filters, table, stmt, bound, local_rows is not None
    )
    reverse = _reverse_requested(table, stmt)
    per_partition = _int_option(stmt.per_partition_limit, bound, "[per_partition_limit]")
    if local_rows is not None:
        rows = local_table_rows(table, local_rows, columns_read(table, stmt))
        if pk is not None:
            keys = {tuple(combo) for combo in _combos(pk)}
            names = [c.name for c in table.partition_key]
            rows = [r for r in rows if tuple(r.values[n] for n in names) in keys]
        return [r for r in rows if _passes(r, filters)]
    if pk is not None:
        keys = await heavy.run_if(terms > heavy.YIELD_EVERY, partition_keys, table, pk)
        datas = await _read_partitions(
            cluster, coordinator, replication, table, keys, cl, on_repair
        )
        partitions = list(zip(keys, datas, strict=True))
    else:
        if stmt.order_by:
            raise InvalidRequest(
                "ORDER BY is only supported when the partition key is restricted by an EQ or an IN."
            )
        partitions = await cluster.scan(coordinator, replication, table.keyspace, table.name, cl)
    in_range = token_filter(table, stmt.where, bound)
    if in_range is not None:  # scans come in token order, so a token range is a slice of it
        partitions = [(k, d) for k, d in partitions if in_range(cluster.token(k))]
    return await heavy.run_if(
        len(partitions) > heavy.HEAVY_ROWS,
        _partitions_rows, table, partitions, reverse, per_partition, filters,
    )  # fmt: skip


async def _read_partitions(
    cluster: Any,
    coordinator: Any,
    replication: dict[str, str] | None,
    table: TableDef,
    keys: list[bytes],
    cl: ConsistencyLevel,
    on_repair: RepairObserver | None,
) -> list[Any]:
    """One read at a time (a read only waits when it ends in a timeout, which ends the whole
    request anyway), giving the loop a turn every YIELD_EVERY partitions."""
    datas: list[Any] = []
    many = len(keys) > heavy.HEAVY_ROWS
    ks, name = table.keyspace, table.name
    with heavy.gc_paused() if many else contextlib.nullcontext():
        for i, key in enumerate(keys, 1):
            datas.append(await cluster.read(coordinator, replication, ks, name, key, cl, on_repair))
            if i % heavy.YIELD_EVERY == 0:
                await asyncio.sleep(0)
    return datas


def _partitions_rows(
    table: TableDef,
    partitions: list[tuple[bytes, Any]],
    reverse: bool,
    per_partition: int | None,
    filters: list[tuple[ColumnDef, str, list[bytes]]],
) -> list[Row]:
    rows = []
    for key, data in partitions:
        for row in partition_rows(table, key, data, reverse, per_partition):
            if _passes(row, filters):
                rows.append(row)
    return rows


def _combos(values: list[list[bytes]]) -> list[tuple[bytes, ...]]:
    return list(itertools.product(*values))


# ---- projecting --------------------------------------------------------------------------------


def _ttl_left(cell: Cell | None) -> bytes | None:
    if cell is None or cell.expires_at is None:
        return None
    return INT.serialize(max(0, int(cell.expires_at - time.time() + 0.999)))


def project(rows: list[Row], outs: list[Output]) -> list[list[bytes | None]]:
    """Result rows; with an aggregate, one row (other columns from the first row selected)."""
    if any(o.kind in AGGREGATES for o in outs):
        first = rows[0] if rows else None
        return [
            [
                _aggregate(rows, out)
                if out.kind in AGGREGATES
                else (_value(first, out) if first else None)
                for out in outs
            ]
        ]
    return [[_value(row, out) for out in outs] for row in rows]


def _aggregate(rows: list[Row], out: Output) -> bytes | None:
    raw = [r.values.get(out.column) for r in rows] if out.column else [b""] * len(rows)
    present = [v for v in raw if v is not None]
    if out.kind == "count":
        return BIGINT.serialize(len(present))
    values = [out.cql_type.deserialize(v) for v in present]
    if out.kind in ("min", "max"):
        if not present:
            return None
        keyed = sorted(present, key=out.cql_type.sort_key)
        return keyed[0] if out.kind == "min" else keyed[-1]
    total = sum(values) if values else 0
    if out.kind == "avg" and values:
        total = total / len(values)
        if out.cql_type.cql_name not in ("float", "double", "decimal"):
            total = int(total)
    return out.cql_type.serialize(total)


def _value(row: Row, out: Output) -> bytes | None:
    if out.kind == "column":
        return row.values.get(out.column)
    if out.kind == "token":
        return _token_of(row, out.table)
    cell = row.cells.get(out.column)
    if out.kind == "writetime":
        return None if cell is None else BIGINT.serialize(cell.timestamp)
    return _ttl_left(cell)


def limit_of(stmt: ast.Select, bound: Bound) -> int | None:
    return _int_option(stmt.limit, bound, "[limit]")


def page(
    rows: list[list[bytes | None]], page_size: int | None, paging_state: bytes | None
) -> tuple[list[list[bytes | None]], bytes | None]:
    start = 0
    if paging_state:
        if len(paging_state) != _OFFSET.size:
            raise ProtocolError("Invalid value for the paging state")
        start = _OFFSET.unpack(paging_state)[0]
    if not page_size or page_size <= 0:
        return rows[start:], None
    end = start + page_size
    more = _OFFSET.pack(end) if end < len(rows) else None
    return rows[start:end], more


def distinct_partitions(table: TableDef, stmt: ast.Select, rows: list[Row]) -> list[Row]:
    """SELECT DISTINCT: one row per partition; only partition key (and static) columns."""
    if stmt.selectors != "*":
        for selector in stmt.selectors:  # type: ignore[union-attr]
            expr = selector.expression
            if isinstance(expr, ast.ColumnSelector):
                kind = table.column(expr.name).kind
                if kind not in ("partition_key", "static"):
                    raise InvalidRequest(
                        "SELECT DISTINCT queries must only request partition key columns "
                        f"and/or static columns (not {expr.name})"
                    )
    else:
        raise InvalidRequest("SELECT DISTINCT queries must request at least one column")
    names = [c.name for c in table.partition_key]
    seen: set[tuple] = set()
    unique = []
    for row in rows:
        key = tuple(row.values.get(n) for n in names)
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique

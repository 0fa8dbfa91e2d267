"""INSERT / UPDATE / DELETE → mutations; the lightweight-transaction conditions.

Writes are timestamped with USING TIMESTAMP, else the client's default timestamp, else the
coordinator's clock (microseconds); TTLs become absolute expiry times on the cells.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from rackpanel.simulator.cluster.partition import inserted_row
from rackpanel.simulator.cluster.ring import Replication
from rackpanel.simulator.core import Cell, InvalidRequest, Mutation
from rackpanel.simulator.cql import ast
from rackpanel.simulator.cql.types import routing_key
from rackpanel.simulator.executor.binding import BIGINT, INT, Bound, term_bytes, term_python
from rackpanel.simulator.executor.keys import key_value, modification_keys
from rackpanel.simulator.protocol.wire import UNSET
from rackpanel.simulator.schema import ColumnDef, TableDef

MAX_TTL = 20 * 365 * 86400


def now_micros() -> int:
    return time.time_ns() // 1000


class WriteTiming(NamedTuple):  # built per write: a tuple is cheaper than a dataclass
    timestamp: int  # microseconds
    expires_at: float | None  # absolute seconds, from USING TTL or the table's default


def timing(
    table: TableDef, ttl: Any, timestamp: Any, bound: Bound, default_timestamp: int | None
) -> WriteTiming:
    ts = default_timestamp if default_timestamp is not None else now_micros()
    if timestamp is not None:
        given = term_python(timestamp, BIGINT, bound, "[timestamp]")
        if given is not None and given is not UNSET:
            ts = given
    seconds = _default_ttl(table)
    if ttl is not None:
        given = term_python(ttl, INT, bound, "[ttl]")
        if given is not None and given is not UNSET:
            if given < 0:
                raise InvalidRequest(f"A TTL must be greater or equal to 0, but was {given}")
            if given > MAX_TTL:
                raise InvalidRequest(f"ttl is too large. requested ({given}) maximum ({MAX_TTL})")
            seconds = given
    return WriteTiming(ts, time.time() + seconds if seconds else None)


def _default_ttl(table: TableDef) -> int:
    return table.options.get("default_time_to_live", 0) or 0


def _check_writable(table: TableDef) -> None:
    if table.virtual or table.keyspace.startswith("system"):
        raise InvalidRequest(f"Modification on table {table.keyspace}.{table.name} is not allowed")


def _cell(raw: Any, timestamp: int, expires_at: float | None) -> Cell | None:
    if raw is UNSET:
        return None
    if raw is None:
        return Cell(None, timestamp)
    return Cell(raw, timestamp, expires_at)


@dataclass(frozen=True, slots=True)
class _Slot:
    """One column an INSERT names, and how its value is found: a bind marker's position in
    the bound values, or a literal (or function call) coerced per request."""

    column: ColumnDef
    term: ast.Term
    marker: int  # the marker's index, -1 for a literal

    def raw(self, bound: Bound) -> Any:
        if self.marker >= 0:
            return bound.values[self.marker]
        return term_bytes(self.term, self.column.cql_type, bound, self.column.name)


@dataclass(frozen=True, slots=True)
class _InsertShape:
    """What an INSERT's text and its table's schema fix, checked once: which value goes to
    which key part or cell (regular columns by name, the order rows keep them in)."""

    table: TableDef
    key: tuple[_Slot, ...]
    clustering: tuple[_Slot, ...]
    regular: tuple[_Slot, ...]
    timed: bool  # USING TTL / TIMESTAMP, or a table default TTL: see timing()
    ttl: Any
    timestamp: Any
    plain: bool  # untimed, every value a bind marker: see new_row()

    def new_row(
        self, values: list, default_ts: int | None
    ) -> tuple[bytes, tuple[bytes, ...], tuple] | None:
        """A plain INSERT's partition key, clustering and row as storage keeps it
        (:func:`partition.inserted_row`); None when a key part is null or unset or a value
        unset, which :meth:`mutation` handles (or refuses)."""
        if len(self.key) == 1:
            key = values[self.key[0].marker]
            if type(key) is not bytes:
                return None
        else:
            parts = _key_values(self.key, values)
            if parts is None:
                return None
            key = routing_key(list(parts))
        clustering: tuple[bytes, ...] | None = ()
        if self.clustering:
            clustering = _key_values(self.clustering, values)
            if clustering is None:
                return None
        cells = []
        for slot in self.regular:
            value = values[slot.marker]
            if value is UNSET:
                return None
            cells.append((slot.column.name, value))
        timestamp = default_ts if default_ts is not None else now_micros()
        return key, clustering, inserted_row(timestamp, cells)

    def mutation(self, bound: Bound, default_ts: int | None) -> Mutation:
        if self.timed:
            timestamp, expires_at = timing(self.table, self.ttl, self.timestamp, bound, default_ts)
        else:  # most writes: the client's timestamp or the clock, no expiry
            timestamp = default_ts if default_ts is not None else now_micros()
            expires_at = None
        values = bound.values
        if len(self.key) == 1:
            slot = self.key[0]
            key = values[slot.marker] if slot.marker >= 0 else slot.raw(bound)
            if type(key) is not bytes:
                key = key_value(key, slot.column)  # null or unset: refused
        else:
            key = routing_key([key_value(slot.raw(bound), slot.column) for slot in self.key])
        clustering = (
            tuple(key_value(slot.raw(bound), slot.column) for slot in self.clustering)
            if self.clustering
            else ()
        )
        cells = {}
        for slot in self.regular:
            raw = values[slot.marker] if slot.marker >= 0 else slot.raw(bound)
            cell = _cell(raw, timestamp, expires_at)
            if cell is not None:
                cells[slot.column.name] = cell
        table = self.table
        return Mutation(table.keyspace, table.name, key, clustering, cells, timestamp)


def _key_values(slots: tuple[_Slot, ...], values: list) -> tuple[bytes, ...] | None:
    """The values bound to key-part ``slots`` (bind markers), or None if one is null or unset."""
    found = tuple([values[slot.marker] for slot in slots])
    for value in found:
        if type(value) is not bytes:
            return None
    return found


def _slot(column: ColumnDef, term: ast.Term) -> _Slot:
    return _Slot(column, term, term.index if isinstance(term, ast.BindMarker) else -1)


def _insert_shape(table: TableDef, stmt: ast.Insert) -> _InsertShape:
    _check_writable(table)
    given: dict[str, _Slot] = {}
    for name, term in zip(stmt.columns, stmt.values, strict=True):
        given[name] = _slot(table.column(name), term)
    missing = [c.name for c in table.partition_key if c.name not in given]
    if missing:
        raise InvalidRequest(f"Some partition key parts are missing: {', '.join(missing)}")
    missing = [c.name for c in table.clustering if c.name not in given]
    if missing:
        raise InvalidRequest(f"Some clustering keys are missing: {', '.join(missing)}")
    regular = sorted((c for c in table.regular if c.name in given), key=lambda c: c.name)
    timed = bool(stmt.ttl is not None or stmt.timestamp is not None or _default_ttl(table))
    return _InsertShape(
        table,
        tuple(given[c.name] for c in table.partition_key),
        tuple(given[c.name] for c in table.clustering),
        tuple(given[c.name] for c in regular),
        timed,
        stmt.ttl,
        stmt.timestamp,
        not timed and all(slot.marker >= 0 for slot in given.values()),
    )


@dataclass(frozen=True, slots=True)
class WriteTarget:
    """What an INSERT/UPDATE/DELETE's text and the schema fix, found once per schema version
    (any DDL makes a new one): its table and keyspace replication (as CQL gives it, and as
    the cluster parsed it), whether it is a lightweight transaction, and an INSERT's shape."""

    schema_version: object
    statement: ast.Statement
    table: TableDef
    replication: Mapping[str, str]  # its keyspace's
    placement: Replication
    conditional: bool
    shape: _InsertShape | None


def write_target(
    schema_version: object,
    stmt: ast.Statement,
    table: TableDef,
    replication: Mapping[str, str],
    placement: Replication,
) -> WriteTarget:
    shape = _insert_shape(table, stmt) if isinstance(stmt, ast.Insert) else None
    conditional = is_conditional(stmt)
    return WriteTarget(schema_version, stmt, table, replication, placement, conditional, shape)


def update_mutations(
    table: TableDef, stmt: ast.Update, bound: Bound, when: WriteTiming
) -> list[Mutation]:
    _check_writable(table)
    cells: dict[str, Cell] = {}
    for assignment in stmt.assignments:
        column = table.column(assignment.column)
        if column.kind in ("partition_key", "clustering"):
            raise InvalidRequest(f"PRIMARY KEY part {column.name} found in SET part")
        if assignment.op != "set":
            raise InvalidRequest(
                f"Operation '{assignment.op}' on column {column.name} "
                "is not supported by the simulator"
            )
        raw = term_bytes(assignment.value, column.cql_type, bound, column.name)
        cell = _cell(raw, when.timestamp, when.expires_at)
        if cell is not None:
            cells[column.name] = cell
    keys, clusterings = modification_keys(table, stmt.where, bound, full_clustering=True)
    return [
        Mutation(table.keyspace, table.name, key, clustering, dict(cells))
        for key in keys
        for clustering in clusterings
    ]


def delete_mutations(
    table: TableDef, stmt: ast.Delete, bound: Bound, when: WriteTiming
) -> list[Mutation]:
    _check_writable(table)
    if stmt.elements:
        raise InvalidRequest("Deleting collection elements is not supported by the simulator")
    for name in stmt.columns:
        column = table.column(name)
        if column.kind in ("partition_key", "clustering"):
            raise InvalidRequest(
                f"Invalid identifier {name} for deletion (should not be a PRIMARY KEY part)"
            )
    whole_rows = not stmt.columns
    keys, clusterings = modification_keys(table, stmt.where, bound, full_clustering=not whole_rows)
    partial = clusterings != [()] and len(clusterings[0]) < len(table.clustering)
    if partial:
        raise InvalidRequest("Range deletions are not supported by the simulator")
    mutations = []
    for key in keys:
        for clustering in clusterings:
            if whole_rows and table.clustering and clustering == ():
                mutations.append(
                    Mutation(table.keyspace, table.name, key, partition_tombstone=when.timestamp)
                )
            elif whole_rows:
                mutations.append(
                    Mutation(
                        table.keyspace, table.name, key, clustering, row_tombstone=when.timestamp
                    )
                )
            else:
                cells = {name: Cell(None, when.timestamp) for name in stmt.columns}
                mutations.append(Mutation(table.keyspace, table.name, key, clustering, cells))
    return mutations


def mutations_of(target: WriteTarget, bound: Bound, default_ts: int | None) -> list[Mutation]:
    if target.shape is not None:
        return [target.shape.mutation(bound, default_ts)]
    table, stmt = target.table, target.statement
    when = timing(table, getattr(stmt, "ttl", None), stmt.timestamp, bound, default_ts)
    if isinstance(stmt, ast.Update):
        return update_mutations(table, stmt, bound, when)
    return delete_mutations(table, stmt, bound, when)


# ---- lightweight transactions ---------------------------------------------------------------


def is_conditional(stmt: Any) -> bool:
    return bool(
        getattr(stmt, "if_not_exists", False)
        or getattr(stmt, "if_exists", False)
        or getattr(stmt, "conditions", ())
    )


def _compare(op: str, current: Any, wanted: Any) -> bool:
    if op == "=":
        return current == wanted
    if op == "!=":
        return current != wanted
    if current is None or wanted is None:
        return False
    return {
        ">": current > wanted,
        ">=": current >= wanted,
        "<": current < wanted,
        "<=": current <= wanted,
    }[op]


def condition_check(
    table: TableDef, stmt: Any, bound: Bound, clustering: tuple[bytes, ...]
) -> tuple[Callable[[Any], bool], list[str]]:
    """(does the current partition satisfy the IF clause?, columns to echo when it does not)."""
    if getattr(stmt, "if_not_exists", False):
        return (lambda data: clustering not in data), [c.name for c in table.ordered_columns]
    if getattr(stmt, "if_exists", False):
        return (lambda data: clustering in data), []
    checks = []
    for cond in stmt.conditions:
        column = table.column(cond.column)
        if cond.element is not None:
            raise InvalidRequest(
                "Conditions on collection elements are not supported by the simulator"
            )
        if cond.op == "IN":
            options = [term_python(t, column.cql_type, bound, column.name) for t in cond.terms]
            checks.append((column, "IN", options))
        else:
            checks.append(
                (column, cond.op, term_python(cond.term, column.cql_type, bound, column.name))
            )

    def holds(data: Any) -> bool:
        row = data.get(clustering)
        for column, op, wanted in checks:
            cell = row.get(column.name) if row is not None else None
            current = column.cql_type.deserialize(cell.value) if cell is not None else None
            if op == "IN":
                if current not in wanted:
                    return False
            elif not _compare(op, current, wanted):
                return False
        return True

    return holds, [c.column for c in stmt.conditions]

"""A node's executor: the requests of its connections → schema, local tables or the cluster.

It implements :class:`simulator.protocol.connection.RequestHandler`; each method gives the
body of a RESULT frame (or the coroutine that produces it) or raises a
:class:`simulator.core.CqlError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from rackpanel.simulator.cluster.consistency import SERIALS
from rackpanel.simulator.cluster.coordinator import RepairObserver
from rackpanel.simulator.cluster.ring import Replication
from rackpanel.simulator.core import (
    ConsistencyLevel,
    CqlError,
    InvalidRequest,
    Mutation,
    Unprepared,
)
from rackpanel.simulator.cql import ast
from rackpanel.simulator.cql.types import split_routing_key
from rackpanel.simulator.executor import ddl, dml, guards
from rackpanel.simulator.executor.binding import Bound
from rackpanel.simulator.executor.caches import ByteBoundedLRU, statement_bytes
from rackpanel.simulator.executor.context import SimContext
from rackpanel.simulator.executor.describe import describe
from rackpanel.simulator.executor.keys import equal_values, partition_keys, restrictions
from rackpanel.simulator.executor.local_tables import is_local, local_rows
from rackpanel.simulator.executor.prepared import Prepared, prepare
from rackpanel.simulator.executor.select import (
    AGGREGATES,
    BOOLEAN,
    distinct_partitions,
    find_rows,
    limit_of,
    outputs,
    page,
    project,
)
from rackpanel.simulator.executor.tracing import read_repair_events, replica_events
from rackpanel.simulator.protocol import heavy, messages
from rackpanel.simulator.protocol.connection import Outcome
from rackpanel.simulator.protocol.messages import ColumnSpec, QueryParams
from rackpanel.simulator.schema import TableDef

_UNTRACED: contextlib.nullcontext[None] = contextlib.nullcontext()

MODIFICATIONS = (ast.Insert, ast.Update, ast.Delete)
# the CLs of plain_write, by code: every one a write may use (consistency.validate_for_write)
# but ANY, which is hinted only
_PLAIN_WRITE_CLS = {
    int(cl): cl for cl in ConsistencyLevel if cl is not ConsistencyLevel.ANY and cl not in SERIALS
}
BATCH_WRITE_TYPES = {0: "BATCH", 1: "UNLOGGED_BATCH", 2: "COUNTER"}
BATCH_KINDS = {"LOGGED": 0, "UNLOGGED": 1, "COUNTER": 2}
TRACED_PARTITIONS = 3  # partitions whose replicas a trace tells about (an IN list has more)
# Each node's prepared statements, by estimated size (Cassandra's prepared_statements_cache_size
# is max(10 MiB, heap / 256); an evicted statement answers Unprepared and drivers re-prepare).
PREPARED_CACHE_BYTES = 10 * 1024 * 1024
WRITE_TARGETS = 4096  # statements whose write target a node keeps (then it starts again)
NO_KEYSPACE = (
    "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename"
)


class PlainInsert:
    """A prepared statement as :meth:`NodeExecutor.plain_write` runs it, fixed by the schema
    version it was found under: its bind markers, how its values make a row, where it goes."""

    __slots__ = ("markers", "new_row", "placement", "prepared", "schema_version", "table_key")

    def __init__(self, prepared: Prepared, schema_version: object) -> None:
        self.prepared = prepared
        self.schema_version = schema_version
        # markers -1 (no EXECUTE has -1 values): not a plain INSERT, and the rest stays unset
        self.markers = -1
        self.new_row: Callable[[list, int | None], Any] | None = None
        self.placement: Replication | None = None
        self.table_key: tuple[str, str] = ("", "")


class NodeExecutor:
    def __init__(self, ctx: SimContext, node: Any) -> None:
        self.ctx = ctx
        self.node = node
        self.prepared: ByteBoundedLRU[Prepared] = ByteBoundedLRU(PREPARED_CACHE_BYTES)
        self._targets: dict[tuple[int, str | None], dml.WriteTarget] = {}
        self._plain_inserts: dict[bytes, PlainInsert] = {}

    # ---- RequestHandler -----------------------------------------------------------------
    async def query(self, conn: Any, request: messages.Query) -> bytes:
        big = len(request.query) > heavy.HEAVY_TEXT
        with heavy.gc_paused() if big else contextlib.nullcontext():
            statement, markers = await self.ctx.parse(request.query)
            params = request.params
            bound = Bound(params.values, params.names, markers)
            session = params.keyspace or conn.keyspace  # v5 may name the keyspace per request
            with self._traced(conn, request, request.query, params):
                return await self._run(conn, statement, session, bound, params, False, request)

    async def prepare(self, conn: Any, request: messages.Prepare) -> bytes:
        statement, _ = await self.ctx.parse(request.query)
        session = request.keyspace or conn.keyspace
        table = self._table_of(statement, session)
        prepared = prepare(request.query, statement, session, table)
        self.prepared.put(prepared.statement_id, prepared, statement_bytes(request.query))
        return messages.result_prepared(
            prepared.statement_id,
            prepared.bind_columns,
            prepared.pk_indexes,
            prepared.result_columns,
            prepared.result_metadata_id if conn.protocol_version >= 5 else None,
            conn.protocol_version,
        )

    def execute(self, conn: Any, request: messages.Execute) -> Outcome:
        """Most EXECUTEs are writes whose replicas all answer: those are answered by this call
        (no coroutine to build and step); the others come back as the coroutine to run."""
        prepared = self._prepared(request.statement_id)
        params = request.params
        statement = prepared.statement
        bound = Bound(params.values, params.names, statement.bind_markers)
        if not request.tracing and isinstance(statement, MODIFICATIONS):
            return self._modify(statement, prepared.keyspace, bound, params, request)
        return self._execute(conn, request, prepared, bound)

    def plain_write(
        self, statement_id: bytes, consistency: int, values: list, timestamp: int | None
    ) -> bytes | None:
        """The usual EXECUTE, done without request, Bound or Mutation objects: a prepared
        INSERT with every value a bind marker, no TTL, TIMESTAMP or IF, of a new partition
        whose replicas all answer. None, with nothing done, for any other: :meth:`execute`
        runs those (and raises what they raise, in its order)."""
        prepared = self.prepared.get(statement_id)
        cl = _PLAIN_WRITE_CLS.get(consistency)
        if prepared is None or cl is None:
            return None
        lane = self._plain_inserts.get(statement_id)
        version = self.ctx.schema.version
        if lane is None or lane.prepared is not prepared or lane.schema_version is not version:
            lane = self._plain_insert(prepared)
        if len(values) != lane.markers:  # markers -1: not a plain INSERT
            return None
        row = lane.new_row(values, timestamp)
        if row is None:
            return None
        key, clustering, cells = row
        written = self.ctx.cluster.insert_new(
            self.node, lane.placement, lane.table_key, key, clustering, cells, cl
        )
        return messages.RESULT_VOID_BODY if written else None

    def _plain_insert(self, prepared: Prepared) -> PlainInsert:
        """What :meth:`plain_write` needs of ``prepared`` under the current schema, found once
        (``markers`` -1 when it is not a plain INSERT)."""
        statement = prepared.statement
        lane = PlainInsert(prepared, self.ctx.schema.version)
        if type(statement) is ast.Insert:
            target = self._write_target(statement, prepared.keyspace)
            shape = target.shape
            if shape is not None and shape.plain and not target.conditional:
                lane.markers = len(statement.bind_markers)
                lane.new_row = shape.new_row
                lane.placement = target.placement
                lane.table_key = (shape.table.keyspace, shape.table.name)
        if len(self._plain_inserts) >= WRITE_TARGETS:
            self._plain_inserts.clear()
        self._plain_inserts[prepared.statement_id] = lane
        return lane

    async def _execute(
        self, conn: Any, request: messages.Execute, prepared: Prepared, bound: Bound
    ) -> bytes:
        params = request.params
        changed = None  # v5: the client holds stale result metadata
        if request.result_metadata_id not in (None, prepared.result_metadata_id):
            changed = prepared.result_metadata_id
        with self._traced(conn, request, prepared.query, params):
            return await self._run(
                conn,
                prepared.statement,
                prepared.keyspace,
                bound,
                params,
                params.skip_metadata,
                request,
                changed,
            )

    async def batch(self, conn: Any, request: messages.Batch) -> bytes:
        timestamp = request.timestamp if request.timestamp is not None else dml.now_micros()
        batch = guards.BatchSize()
        for child in request.children:
            if child.statement_id is not None:
                prepared = self._prepared(child.statement_id)
                statement, keyspace = prepared.statement, prepared.keyspace
                markers = statement.bind_markers
            else:
                statement, markers = await self.ctx.parse(child.query or "")
                keyspace = request.keyspace or conn.keyspace
            bound = Bound(child.values, None, markers)
            batch.add(self._batch_mutations(statement, keyspace, bound, timestamp))
        batch.warn(request.warnings)
        await self._write_batch(batch.mutations, request.consistency, request.kind)
        return messages.result_void()

    # ---- dispatch ---------------------------------------------------------------------------
    def _prepared(self, statement_id: bytes) -> Prepared:
        prepared = self.prepared.get(statement_id)
        if prepared is None:
            raise Unprepared(
                f"Prepared query with ID {statement_id.hex()} not found (either the query was "
                "not prepared on this host (maybe the host has been restarted?) or you have "
                "prepared too many queries and it has been evicted from the internal cache)",
                statement_id,
            )
        return prepared

    def _keyspace(self, named: str | None, session: str | None) -> str:
        keyspace = named or session
        if not keyspace:
            raise InvalidRequest(NO_KEYSPACE)
        return keyspace

    def _table_of(self, statement: ast.Statement, session: str | None) -> TableDef | None:
        if isinstance(statement, (*MODIFICATIONS, ast.Select)):
            return self.ctx.schema.table(
                self._keyspace(statement.keyspace, session), statement.table
            )
        return None

    # ---- tracing ----------------------------------------------------------------------------
    def _traced(
        self, conn: Any, request: messages.Request, text: str, params: QueryParams
    ) -> contextlib.AbstractContextManager[None]:
        """A trace session around the request when its frame asked for one."""
        if not request.tracing:
            return _UNTRACED  # most requests: no generator-based context manager to build
        return self._trace_session(conn, request, text, params)

    @contextlib.contextmanager
    def _trace_session(
        self, conn: Any, request: messages.Request, text: str, params: QueryParams
    ) -> Iterator[None]:
        trace = self.ctx.traces.start(
            self.node.address,
            conn.address,
            "Execute CQL3 query",
            {"query": text, "consistency_level": params.consistency.name},
        )
        request.trace, request.trace_id = trace, trace.session_id
        trace.event(f"Parsing {text[:200]}")
        trace.event(f"Preparing statement; coordinator /{self.node.address} "
                    f"({self.node.dc}/{self.node.rack}) at {params.consistency.name}")  # fmt: skip
        try:
            yield
        except CqlError as exc:
            trace.event(f"Request failed: {type(exc).__name__}: {exc.message}")
            raise
        else:
            trace.event("Request complete")
        finally:
            trace.finish()

    def _trace_replicas(
        self,
        request: messages.Request,
        replication: Any,
        keys: list[bytes],
        cl: ConsistencyLevel,
        write: bool,
    ) -> None:
        trace = request.trace
        if trace is None:
            return
        for key in list(dict.fromkeys(keys))[:TRACED_PARTITIONS]:
            replica_events(trace, self.ctx.cluster, self.node, replication, key, cl, write)

    def _repair_tracer(self, request: messages.Request) -> RepairObserver | None:
        """What puts a read repair in the request's trace (None when it is not traced)."""
        trace = request.trace
        if trace is None:
            return None
        return lambda repair: read_repair_events(trace, self.ctx.cluster, self.node, repair)

    async def _run(
        self,
        conn: Any,
        statement: ast.Statement,
        session: str | None,
        bound: Bound,
        params: QueryParams,
        skip_metadata: bool,
        request: messages.Request,
        new_metadata_id: bytes | None = None,
    ) -> bytes:
        if isinstance(statement, ast.Select):
            return await self._select(
                statement, session, bound, params, skip_metadata, new_metadata_id, request
            )
        if isinstance(statement, MODIFICATIONS):
            return await settled(self._modify(statement, session, bound, params, request))
        if isinstance(statement, ast.Batch):
            timestamp = params.timestamp if params.timestamp is not None else dml.now_micros()
            batch = guards.BatchSize()
            for child in statement.statements:
                batch.add(self._batch_mutations(child, session, bound, timestamp))
            batch.warn(request.warnings)
            kind = BATCH_KINDS[statement.kind]
            await self._write_batch(batch.mutations, params.consistency, kind)
            return messages.result_void()
        if isinstance(statement, ast.Describe):
            columns, rows = describe(statement, self.ctx.schema, session, self.ctx.cluster)
            page_rows, paging_state = page(rows, params.page_size, params.paging_state)
            return messages.result_rows(columns, page_rows, paging_state)
        if isinstance(statement, ast.Use):
            self.ctx.schema.keyspace(statement.keyspace)
            conn.keyspace = statement.keyspace
            return messages.result_set_keyspace(statement.keyspace)
        return self._ddl(statement, session, request)

    def _ddl(
        self, statement: ast.Statement, session: str | None, request: messages.Request
    ) -> bytes:
        ctx = self.ctx
        if isinstance(statement, ast.CreateKeyspace):
            ctx.cluster.validate_replication(statement.replication, statement.name)
            result = ddl.create_keyspace(ctx, statement)
        elif isinstance(statement, ast.DropKeyspace):
            result = ddl.drop_keyspace(ctx, statement)
        elif isinstance(statement, ast.AlterKeyspace):
            result = ddl.alter_keyspace(ctx, statement, request.warnings)
        elif isinstance(statement, ast.AlterTable):
            result = ddl.alter_table(ctx, self._keyspace(statement.keyspace, session), statement)
        elif isinstance(statement, ast.CreateTable):
            result = ddl.create_table(ctx, self._keyspace(statement.keyspace, session), statement)
        elif isinstance(statement, ast.DropTable):
            result = ddl.drop_table(ctx, self._keyspace(statement.keyspace, session), statement)
        elif isinstance(statement, ast.Truncate):
            keyspace = self._keyspace(statement.keyspace, session)
            return ddl.truncate(ctx, self.node, keyspace, statement.table)
        else:
            raise InvalidRequest(
                f"{type(statement).__name__.upper()} is not supported by the simulator"
            )
        ctx.cluster.schema_version = ctx.schema.version
        return result

    # ---- reads ------------------------------------------------------------------------------
    async def _select(
        self,
        stmt: ast.Select,
        session: str | None,
        bound: Bound,
        params: QueryParams,
        skip_metadata: bool,
        new_metadata_id: bytes | None,
        request: messages.Request,
    ) -> bytes:
        keyspace = self._keyspace(stmt.keyspace, session)
        table = self.ctx.schema.table(keyspace, stmt.table)
        if stmt.json:
            raise InvalidRequest("SELECT JSON is not supported by the simulator")
        outs = outputs(table, stmt)
        if any(o.kind in AGGREGATES for o in outs) and not _restricts_partition_key(table, stmt):
            request.warnings.append(guards.AGGREGATION_WITHOUT_KEY)
        local = (
            local_rows(self.ctx, self.node, keyspace, stmt.table) if is_local(keyspace) else None
        )
        replication = None if local is not None else self.ctx.schema.keyspace(keyspace).replication
        if request.trace is not None and replication is not None:
            keys = traced_keys(table, stmt, bound)
            if keys is None:
                request.trace.event("No partition key restriction: scanning every token range")
            self._trace_replicas(request, replication, keys or [], params.consistency, False)
        rows = await find_rows(
            self.ctx.cluster,
            self.node,
            replication,
            table,
            stmt,
            bound,
            params.consistency,
            local,
            self._repair_tracer(request),
        )
        return await heavy.run_if(
            len(rows) > heavy.HEAVY_ROWS,
            _rows_result, table, stmt, rows, outs, bound, params, skip_metadata, new_metadata_id,
        )  # fmt: skip

    # ---- writes -----------------------------------------------------------------------------
    def _write_target(self, stmt: Any, session: str | None) -> dml.WriteTarget:
        """What ``stmt`` writes to, looked up once per statement, session and schema version."""
        schema = self.ctx.schema
        key = (id(stmt), session)
        target = self._targets.get(key)
        stale = target is None or target.schema_version is not schema.version
        if stale or target.statement is not stmt:
            table = schema.table(self._keyspace(stmt.keyspace, session), stmt.table)
            replication = schema.keyspace(table.keyspace).replication
            placement = self.ctx.cluster.replication(replication)
            target = dml.write_target(schema.version, stmt, table, replication, placement)
            if len(self._targets) >= WRITE_TARGETS:
                self._targets.clear()
            self._targets[key] = target
        return target

    def _modify(
        self,
        stmt: Any,
        session: str | None,
        bound: Bound,
        params: QueryParams,
        request: messages.Request,
    ) -> Outcome:
        """An INSERT/UPDATE/DELETE, answered in this call unless it waits (see ``execute``)."""
        target = self._write_target(stmt, session)
        if target.conditional:
            return self._cas(target, bound, params)
        mutations = dml.mutations_of(target, bound, params.timestamp)
        if request.trace is not None:
            keys = [m.partition_key for m in mutations]
            self._trace_replicas(request, target.replication, keys, params.consistency, True)
        waiting = self.ctx.cluster.write_now(
            self.node, target.placement, mutations, params.consistency
        )
        if waiting is None:
            return messages.RESULT_VOID_BODY
        return _void_after(waiting)

    def _batch_mutations(
        self, stmt: ast.Statement, session: str | None, bound: Bound, timestamp: int
    ) -> list[Mutation]:
        if not isinstance(stmt, MODIFICATIONS):
            raise InvalidRequest(
                "Invalid statement in batch: only UPDATE, INSERT and DELETE statements are allowed."
            )
        target = self._write_target(stmt, session)
        if target.conditional:
            raise InvalidRequest(
                "Conditional statements in batches are not supported by the simulator"
            )
        return dml.mutations_of(target, bound, timestamp)

    async def _write_batch(
        self, mutations: list[Mutation], cl: ConsistencyLevel, kind: int
    ) -> None:
        by_keyspace: dict[str, list[Mutation]] = {}
        for m in mutations:
            by_keyspace.setdefault(m.keyspace, []).append(m)
        for keyspace, group in by_keyspace.items():
            replication = self.ctx.schema.keyspace(keyspace).replication
            await self.ctx.cluster.write(
                self.node, replication, group, cl, write_type=BATCH_WRITE_TYPES[kind]
            )

    async def _cas(self, target: dml.WriteTarget, bound: Bound, params: QueryParams) -> bytes:
        table, stmt = target.table, target.statement
        mutations = dml.mutations_of(target, bound, params.timestamp)
        if len(mutations) != 1:
            raise InvalidRequest(
                "IN on the clustering key columns is not supported with conditional updates"
            )
        mutation = mutations[0]
        holds, echo = dml.condition_check(table, stmt, bound, mutation.clustering)
        serial = params.serial_consistency or ConsistencyLevel.SERIAL
        applied, current = await self.ctx.cluster.cas(
            self.node,
            target.replication,
            table.keyspace,
            table.name,
            mutation.partition_key,
            lambda data: [mutation] if holds(data) else None,
            serial,
            params.consistency,
        )
        columns = [ColumnSpec(table.keyspace, table.name, "[applied]", BOOLEAN.encode_option())]
        row: list[bytes | None] = [BOOLEAN.serialize(applied)]
        existing = current.get(mutation.clustering)
        if not applied and echo and existing is not None:
            values = _row_values(table, mutation, existing)
            for name in echo:
                column = table.column(name)
                columns.append(
                    ColumnSpec(table.keyspace, table.name, name, column.cql_type.encode_option())
                )
                row.append(values.get(name))
        return messages.result_rows(columns, [row])


async def settled(outcome: Outcome) -> bytes:
    """The RESULT body of an :data:`Outcome`, awaiting it when it is still to run."""
    return outcome if isinstance(outcome, bytes) else await outcome


async def _void_after(waiting: Awaitable[None]) -> bytes:
    await waiting  # it raises (WriteTimeout) unless the write completed
    return messages.RESULT_VOID_BODY


def traced_keys(table: TableDef, stmt: ast.Select, bound: Bound) -> list[bytes] | None:
    """The partition keys an EQ/IN restriction names, for the trace (None for a scan)."""
    by_column = restrictions(table, stmt.where, allow_token=True)
    pk = equal_values(table.partition_key, by_column, bound)
    return None if pk is None else partition_keys(table, pk)[:TRACED_PARTITIONS]


def _restricts_partition_key(table: TableDef, stmt: ast.Select) -> bool:
    keys = {c.name for c in table.partition_key}
    return any(rel.token or rel.column in keys for rel in stmt.where)


def _rows_result(
    table: TableDef,
    stmt: ast.Select,
    rows: list,
    outs: list,
    bound: Bound,
    params: QueryParams,
    skip_metadata: bool,
    new_metadata_id: bytes | None,
) -> bytes:
    """DISTINCT, LIMIT, the selectors, the page: the RESULT body (pure; big ones run off-loop)."""
    if stmt.distinct:
        rows = distinct_partitions(table, stmt, rows)
    limit = limit_of(stmt, bound)
    if limit is not None:
        rows = rows[:limit]
    page_rows, paging_state = page(project(rows, outs), params.page_size, params.paging_state)
    return messages.result_rows(
        [o.spec for o in outs], page_rows, paging_state, skip_metadata, new_metadata_id
    )


def _row_values(table: TableDef, mutation: Mutation, cells: dict) -> dict[str, bytes | None]:
    names = [c.name for c in table.partition_key]
    key = mutation.partition_key
    parts = split_routing_key(key, len(names)) if len(names) > 1 else [key]
    values: dict[str, bytes | None] = dict(zip(names, parts, strict=True))
    for column, value in zip(table.clustering, mutation.clustering, strict=True):
        values[column.name] = value
    for name, cell in cells.items():
        values[name] = cell.value
    return values

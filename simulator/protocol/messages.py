"""Request bodies decoded into plain objects, and response bodies encoded (protocol v4, v5).

Only the protocol shapes live here; what a request *means* is the executor's business.
v5 differs in: [int] query flags with WITH_KEYSPACE / NOW_IN_SECONDS, PREPARE flags with a
keyspace, the result-metadata id in EXECUTE and in PREPARED, and METADATA_CHANGED in rows.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass, field
from typing import Any

from rackpanel.simulator.core import (
    AlreadyExists,
    ConsistencyLevel,
    CqlError,
    ProtocolError,
    ReadTimeout,
    Unavailable,
    Unprepared,
    WriteTimeout,
)
from rackpanel.simulator.protocol.wire import (
    INT,
    LONG,
    SHORT,
    UNSET,
    Reader,
    enc_bytes,
    enc_inet,
    enc_int,
    enc_short,
    enc_short_bytes,
    enc_string,
    enc_string_multimap,
)

# QUERY / EXECUTE parameter flags
_VALUES = 0x01
_SKIP_METADATA = 0x02
_PAGE_SIZE = 0x04
_PAGING_STATE = 0x08
_SERIAL_CONSISTENCY = 0x10
_DEFAULT_TIMESTAMP = 0x20
_NAMES_FOR_VALUES = 0x40
_WITH_KEYSPACE = 0x80  # v5
_NOW_IN_SECONDS = 0x100  # v5
_PREPARE_WITH_KEYSPACE = 0x01  # v5 PREPARE flags

# RESULT kinds
RESULT_VOID = 0x0001
RESULT_ROWS = 0x0002
RESULT_SET_KEYSPACE = 0x0003
RESULT_PREPARED = 0x0004
RESULT_SCHEMA_CHANGE = 0x0005

# Rows metadata flags
_GLOBAL_TABLES_SPEC = 0x0001
_HAS_MORE_PAGES = 0x0002
_NO_METADATA = 0x0004
_METADATA_CHANGED = 0x0008  # v5


_CONSISTENCIES = {int(cl): cl for cl in ConsistencyLevel}


def consistency(code: int) -> ConsistencyLevel:
    cl = _CONSISTENCIES.get(code)
    if cl is None:
        raise ProtocolError(f"Unknown code {code} for a consistency level")
    return cl


# ---- requests -------------------------------------------------------------------------------


@dataclass(slots=True)
class QueryParams:
    consistency: ConsistencyLevel = ConsistencyLevel.ONE
    values: list = field(default_factory=list)  # bytes | None | UNSET
    names: list[str] | None = None
    skip_metadata: bool = False
    page_size: int | None = None
    paging_state: bytes | None = None
    serial_consistency: ConsistencyLevel | None = None
    timestamp: int | None = None
    keyspace: str | None = None  # v5 WITH_KEYSPACE
    now_in_seconds: int | None = None  # v5 NOW_IN_SECONDS


@dataclass(slots=True)
class Request:
    """What every request carries beside its body: the tracing flag of its frame, and what
    the answer's frame will carry (a trace session id, client warnings)."""

    tracing: bool = field(default=False, kw_only=True)
    trace_id: uuid.UUID | None = field(default=None, kw_only=True)
    warnings: list[str] = field(default_factory=list, kw_only=True)
    trace: Any = field(default=None, kw_only=True)  # the executor's trace session


@dataclass(slots=True)
class Query(Request):
    query: str
    params: QueryParams


@dataclass(slots=True)
class Prepare(Request):
    query: str
    keyspace: str | None = None  # v5


@dataclass(slots=True)
class Execute(Request):
    statement_id: bytes
    params: QueryParams
    result_metadata_id: bytes | None = None  # v5


@dataclass(slots=True)
class BatchChild:
    query: str | None  # text of an unprepared child
    statement_id: bytes | None  # id of a prepared child
    values: list


@dataclass(slots=True)
class Batch(Request):
    kind: int  # 0 LOGGED, 1 UNLOGGED, 2 COUNTER
    children: list[BatchChild]
    consistency: ConsistencyLevel
    serial_consistency: ConsistencyLevel | None
    timestamp: int | None
    keyspace: str | None = None  # v5


@dataclass(slots=True)
class Startup:
    options: dict[str, str]


@dataclass(slots=True)
class Register:
    events: list[str]


_PARAMS_V4 = struct.Struct(">HB")  # <consistency><flags>
_PARAMS_V5 = struct.Struct(">Hi")


_OPTIONAL = _PAGE_SIZE | _PAGING_STATE | _SERIAL_CONSISTENCY | _DEFAULT_TIMESTAMP
_OPTIONAL |= _WITH_KEYSPACE | _NOW_IN_SECONDS


def read_params(r: Reader, version: int = 4) -> QueryParams:
    code, flags = r.fields(_PARAMS_V5 if version >= 5 else _PARAMS_V4)
    cl = _CONSISTENCIES.get(code)
    if cl is None:
        cl = consistency(code)  # raises
    names: list[str] | None = None
    values: list = []
    if flags & _VALUES:
        if flags & _NAMES_FOR_VALUES:
            names = []
            for _ in range(r.short()):
                names.append(r.string())
                values.append(r.value())
        else:
            values = r.values()
    skip_metadata = bool(flags & _SKIP_METADATA)
    if not flags & _OPTIONAL:  # a plain write: built in one call
        return QueryParams(cl, values, names, skip_metadata)
    page_size = r.int() if flags & _PAGE_SIZE else None
    paging_state = r.bytes() if flags & _PAGING_STATE else None
    serial = consistency(r.short()) if flags & _SERIAL_CONSISTENCY else None
    timestamp = r.long() if flags & _DEFAULT_TIMESTAMP else None
    keyspace = now_in_seconds = None
    if version >= 5:
        keyspace = r.string() if flags & _WITH_KEYSPACE else None
        now_in_seconds = r.int() if flags & _NOW_IN_SECONDS else None
    return QueryParams(
        cl, values, names, skip_metadata, page_size, paging_state, serial, timestamp, keyspace,
        now_in_seconds,
    )  # fmt: skip


_PLAIN = _VALUES | _SKIP_METADATA | _PAGE_SIZE | _DEFAULT_TIMESTAMP
# <consistency><flags><value count> of a plain EXECUTE (flags: [byte] before v5, [int] in v5)
_PLAIN_HEAD_V4 = struct.Struct(">HBH")
_PLAIN_HEAD_V5 = struct.Struct(">HiH")


def read_plain_execute(body: bytes, version: int) -> tuple[bytes, int, list, int | None] | None:
    """The usual EXECUTE, read without building request objects: (statement id, consistency
    code, values, the client's timestamp or None). It binds values by position and may carry
    a page size (ignored here: a write has no pages) and the client's timestamp; any other
    body (named values, a paging state, a serial CL, a v5 keyspace or clock, a malformed one)
    gives None, for :func:`read_execute` (which raises for the malformed). Read with structs at
    the offsets the lengths give rather than a :class:`Reader`: this runs for most requests."""
    try:
        end = 2 + SHORT.unpack_from(body)[0]
        statement_id = body[2:end]
        if version >= 5:  # the result metadata id: a write's answer has no rows
            end += 2 + SHORT.unpack_from(body, end)[0]
        head = _PLAIN_HEAD_V5 if version >= 5 else _PLAIN_HEAD_V4
        code, flags, count = head.unpack_from(body, end)
        if flags & ~_PLAIN or not flags & _VALUES:
            return None
        pos = end + head.size
        values: list = []
        for _ in range(count):
            length = INT.unpack_from(body, pos)[0]
            pos += 4
            if length >= 0:
                values.append(body[pos : pos + length])
                pos += length
            else:
                values.append(UNSET if length == -2 else None)
        if flags & _PAGE_SIZE:
            pos += 4
        timestamp = None
        if flags & _DEFAULT_TIMESTAMP:
            timestamp = LONG.unpack_from(body, pos)[0]
            pos += 8
    except struct.error:  # a length or a field runs past the end of the body
        return None
    if pos > len(body):  # a value, the page size or the timestamp cut short
        return None
    return statement_id, code, values, timestamp


def read_query(r: Reader, version: int = 4) -> Query:
    return Query(r.long_string(), read_params(r, version))


def read_prepare(r: Reader, version: int = 4) -> Prepare:
    prepare = Prepare(r.long_string())
    if version >= 5 and r.int() & _PREPARE_WITH_KEYSPACE:
        prepare.keyspace = r.string()
    return prepare


def read_execute(r: Reader, version: int = 4) -> Execute:
    statement_id = r.short_bytes()
    metadata_id = r.short_bytes() if version >= 5 else None
    return Execute(statement_id, read_params(r, version), metadata_id)


def read_batch(r: Reader, version: int = 4) -> Batch:
    kind = r.byte()
    if kind > 2:
        raise ProtocolError(f"Invalid BATCH message: unknown batch type {kind}")
    children = []
    for _ in range(r.short()):
        child_kind = r.byte()
        if child_kind == 0:
            query, statement_id = r.long_string(), None
        elif child_kind == 1:
            query, statement_id = None, r.short_bytes()
        else:
            raise ProtocolError(
                f"Invalid query kind in BATCH messages. Must be 0 or 1 but got {child_kind}"
            )
        values = [r.value() for _ in range(r.short())]
        children.append(BatchChild(query, statement_id, values))
    cl = consistency(r.short())
    flags = r.int() if version >= 5 else r.byte()
    serial = consistency(r.short()) if flags & _SERIAL_CONSISTENCY else None
    timestamp = r.long() if flags & _DEFAULT_TIMESTAMP else None
    keyspace = r.string() if version >= 5 and flags & _WITH_KEYSPACE else None
    if version >= 5 and flags & _NOW_IN_SECONDS:
        r.int()
    return Batch(kind, children, cl, serial, timestamp, keyspace)


def read_startup(r: Reader) -> Startup:
    return Startup(r.string_map())


def read_register(r: Reader) -> Register:
    return Register(r.string_list())


# ---- responses ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    keyspace: str
    table: str
    name: str
    type_option: bytes  # the protocol [option] of the column's type


def supported_body(options: dict[str, list[str]]) -> bytes:
    return enc_string_multimap(options)


def error_body(exc: CqlError) -> bytes:
    body = enc_int(exc.code) + enc_string(exc.message)
    if isinstance(exc, Unavailable):
        body += enc_short(exc.cl) + enc_int(exc.required) + enc_int(exc.alive)
    elif isinstance(exc, WriteTimeout):
        body += enc_short(exc.cl) + enc_int(exc.received) + enc_int(exc.block_for)
        body += enc_string(exc.write_type)
    elif isinstance(exc, ReadTimeout):
        body += enc_short(exc.cl) + enc_int(exc.received) + enc_int(exc.block_for)
        body += bytes([1 if exc.data_present else 0])
    elif isinstance(exc, AlreadyExists):
        body += enc_string(exc.keyspace) + enc_string(exc.table)
    elif isinstance(exc, Unprepared):
        body += enc_short_bytes(exc.statement_id)
    return body


def _column_specs(
    columns: list[ColumnSpec], extra: bytes = b"", flags: int = 0
) -> tuple[int, bytes]:
    """(flags, encoded specs): one global table spec when every column shares it."""
    if columns and len({(c.keyspace, c.table) for c in columns}) == 1:
        head = enc_string(columns[0].keyspace) + enc_string(columns[0].table)
        specs = b"".join(enc_string(c.name) + c.type_option for c in columns)
        return flags | _GLOBAL_TABLES_SPEC, head + specs
    specs = b"".join(
        enc_string(c.keyspace) + enc_string(c.table) + enc_string(c.name) + c.type_option
        for c in columns
    )
    return flags, specs


def rows_metadata(
    columns: list[ColumnSpec],
    paging_state: bytes | None = None,
    no_metadata: bool = False,
    new_metadata_id: bytes | None = None,
) -> bytes:
    """``new_metadata_id`` (v5): the client's result metadata is stale, here is the new id."""
    flags = _HAS_MORE_PAGES if paging_state is not None else 0
    paging = enc_bytes(paging_state) if paging_state is not None else b""
    if no_metadata and new_metadata_id is None:
        return enc_int(flags | _NO_METADATA) + enc_int(len(columns)) + paging
    if new_metadata_id is not None:
        flags |= _METADATA_CHANGED
        paging += enc_short_bytes(new_metadata_id)
    flags, specs = _column_specs(columns, flags=flags)
    return enc_int(flags) + enc_int(len(columns)) + paging + specs


def metadata_id(columns: list[ColumnSpec]) -> bytes:
    """The v5 result-metadata id: a digest of the result columns (names and types)."""
    import hashlib

    return hashlib.md5(rows_metadata(columns), usedforsecurity=False).digest()


RESULT_VOID_BODY = enc_int(RESULT_VOID)


def result_void() -> bytes:
    return RESULT_VOID_BODY


def result_rows(
    columns: list[ColumnSpec],
    rows: list[list[bytes | None]],
    paging_state: bytes | None = None,
    no_metadata: bool = False,
    new_metadata_id: bytes | None = None,
) -> bytes:
    parts = [
        enc_int(RESULT_ROWS),
        rows_metadata(columns, paging_state, no_metadata, new_metadata_id),
    ]
    parts.append(enc_int(len(rows)))
    for row in rows:
        for cell in row:
            parts.append(enc_bytes(cell))
    return b"".join(parts)


def result_set_keyspace(keyspace: str) -> bytes:
    return enc_int(RESULT_SET_KEYSPACE) + enc_string(keyspace)


def result_prepared(
    statement_id: bytes,
    bind_columns: list[ColumnSpec],
    pk_indexes: list[int],
    result_columns: list[ColumnSpec],
    result_metadata_id: bytes | None = None,
    version: int = 4,
) -> bytes:
    """``result_metadata_id`` is sent on v5 connections only (None on v4); the partition-key
    indexes exist from v4 on (a v3 PREPARED has none)."""
    flags, specs = _column_specs(bind_columns)
    pk = b""
    if version >= 4:
        pk = enc_int(len(pk_indexes)) + b"".join(enc_short(i) for i in pk_indexes)
    prepared_meta = enc_int(flags) + enc_int(len(bind_columns)) + pk + specs
    return (
        enc_int(RESULT_PREPARED)
        + enc_short_bytes(statement_id)
        + (enc_short_bytes(result_metadata_id) if result_metadata_id is not None else b"")
        + prepared_meta
        + rows_metadata(result_columns)
    )


def schema_change_fields(change: str, target: str, keyspace: str, name: str = "") -> bytes:
    """<change><target><options> as in RESULT Schema_change and the SCHEMA_CHANGE event."""
    body = enc_string(change) + enc_string(target) + enc_string(keyspace)
    if target != "KEYSPACE":
        body += enc_string(name)
    return body


def result_schema_change(change: str, target: str, keyspace: str, name: str = "") -> bytes:
    return enc_int(RESULT_SCHEMA_CHANGE) + schema_change_fields(change, target, keyspace, name)


def event_status_change(up: bool, address: str, port: int) -> bytes:
    return (
        enc_string("STATUS_CHANGE") + enc_string("UP" if up else "DOWN") + enc_inet(address, port)
    )


def event_schema_change(change: str, target: str, keyspace: str, name: str = "") -> bytes:
    return enc_string("SCHEMA_CHANGE") + schema_change_fields(change, target, keyspace, name)

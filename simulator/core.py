"""Shared vocabulary of the simulator's layers.

The simulator has four layers, each in its own subpackage:

- ``simulator.cql``      — CQL text → AST (tokenizer + recursive descent) and CQL types
                           (type model, literal coercion, wire serialisation).
- ``simulator.cluster``  — the cluster model: ring and replica placement, per-replica storage,
                           coordinator logic for every consistency level, gossip, failure
                           detector, hints, power control, admin API, Jolokia, virtual tables.
- ``simulator.executor`` — statement execution per node: AST + schema → cluster calls and
                           local/system tables → results.
- ``simulator.protocol`` — the CQL native protocol server per node: frames (and v5 segments),
                           messages, connections.

This module is what the layers agree on: consistency levels, the errors a request can end
in (each knows its protocol error code and body fields), and the storage unit ``Mutation``.
Values are stored *serialised* (native protocol value bytes, the same in v4 and v5), so the
cluster layer stays type-agnostic; the executor (de)serialises with ``simulator.cql.types``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import NamedTuple


class ConsistencyLevel(IntEnum):
    """Protocol codes of the consistency levels (native_protocol_v4.spec §3)."""

    ANY = 0x0000
    ONE = 0x0001
    TWO = 0x0002
    THREE = 0x0003
    QUORUM = 0x0004
    ALL = 0x0005
    LOCAL_QUORUM = 0x0006
    EACH_QUORUM = 0x0007
    SERIAL = 0x0008
    LOCAL_SERIAL = 0x0009
    LOCAL_ONE = 0x000A


# ---- errors a request can end in (native_protocol_v4.spec §9) -------------------------------


class CqlError(Exception):
    """An error the server answers with an ERROR frame; ``code`` is the protocol code."""

    code = 0x0000  # Server error

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ServerError(CqlError):
    code = 0x0000


class ProtocolError(CqlError):
    code = 0x000A


class SyntaxException(CqlError):
    code = 0x2000


class Unauthorized(CqlError):
    code = 0x2100


class InvalidRequest(CqlError):
    code = 0x2200


class ConfigurationException(CqlError):
    code = 0x2300


class AlreadyExists(CqlError):
    code = 0x2400

    def __init__(self, message: str, keyspace: str, table: str = "") -> None:
        super().__init__(message)
        self.keyspace = keyspace
        self.table = table


class Unprepared(CqlError):
    code = 0x2500

    def __init__(self, message: str, statement_id: bytes) -> None:
        super().__init__(message)
        self.statement_id = statement_id


class Unavailable(CqlError):
    """Decided before sending: the coordinator's live view holds too few replicas."""

    code = 0x1000

    def __init__(self, cl: ConsistencyLevel, required: int, alive: int, dc: str = "") -> None:
        # UnavailableException's wording; per DC for EACH_QUORUM
        super().__init__(
            f"Cannot achieve consistency level {cl.name}" + (f" in DC {dc}" if dc else "")
        )
        self.cl = cl
        self.required = required
        self.alive = alive


def _timed_out(cl: ConsistencyLevel, received: int, block_for: int) -> str:
    """Cassandra's wording of a read or write timeout (RequestTimeoutException); the
    consistency level and block_for travel in the error body's own fields."""
    return f"Operation timed out - received only {received} responses."


class WriteTimeout(CqlError):
    """Enough replicas looked alive, too few acknowledged within write_request_timeout."""

    code = 0x1100

    def __init__(
        self, cl: ConsistencyLevel, received: int, block_for: int, write_type: str = "SIMPLE"
    ) -> None:
        super().__init__(_timed_out(cl, received, block_for))
        self.cl = cl
        self.received = received
        self.block_for = block_for
        self.write_type = write_type  # SIMPLE, BATCH, UNLOGGED_BATCH, CAS, BATCH_LOG, ...


class ReadTimeout(CqlError):
    code = 0x1200

    def __init__(
        self, cl: ConsistencyLevel, received: int, block_for: int, data_present: bool
    ) -> None:
        super().__init__(_timed_out(cl, received, block_for))
        self.cl = cl
        self.received = received
        self.block_for = block_for
        self.data_present = data_present


# ---- storage unit ---------------------------------------------------------------------------


class Cell(NamedTuple):
    """One column value on one replica. ``value`` None is a cell tombstone.

    Storage does not keep Cells: CPython's GC never untracks a tuple subclass, so stored
    rows hold the three fields flat (see ``cluster.partition``).
    """

    value: bytes | None
    timestamp: int  # microseconds since the epoch (USING TIMESTAMP or the coordinator's clock)
    expires_at: float | None = None  # wall-clock seconds when a TTL makes it vanish


@dataclass(slots=True)
class Mutation:
    """A write to one partition of one table, as sent to each replica (never changed once
    built: hints and replicas share it; not frozen only because a frozen dataclass costs a
    microsecond more to build, on every write).

    ``partition_key`` is the routing key exactly as the driver computes it (a single
    component's bytes, or the composite encoding of several), so ``token(partition_key)``
    is the same on both sides. ``clustering`` is the tuple of serialised clustering values
    (empty for tables without clustering columns). ``cells`` maps regular column names to
    cells; the primary key columns are implied by the keys. A row written by INSERT also
    carries a row marker (``row_marker`` = its timestamp) so it exists even with no cells.
    """

    keyspace: str
    table: str
    partition_key: bytes
    clustering: tuple[bytes, ...] = ()
    cells: dict[str, Cell] = field(default_factory=dict)
    row_marker: int | None = None
    row_tombstone: int | None = None  # DELETE of the row at this timestamp
    partition_tombstone: int | None = None  # DELETE of the whole partition at this timestamp

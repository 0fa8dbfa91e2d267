"""One partition's raw data, reconciled as Cassandra does, in a shape the GC can ignore.

Each replica keeps raw data (cells with timestamps, row markers, tombstones) so that the
coordinator can merge what several replicas answer by last-write-wins, exactly as
Cassandra reconciles: the higher timestamp wins; on a tie a tombstone beats a live cell, then
the greater value wins. Tombstones and TTLs are applied only when the merged data is turned
into a :class:`PartitionData` (what a client sees).

The shapes are plain built-ins on purpose. A partition is a ``dict`` whose two reserved int
keys hold the bitmask of the replicas sharing it (:data:`HOLDERS`) and the partition
tombstone (:data:`TOMBSTONE`); every other key is a clustering tuple mapping to a row, one
flat ``tuple``: ``(marker, marker_expires_at, tombstone)`` then ``name, value, timestamp,
expires_at`` for each cell, sorted by name (a :class:`~rackpanel.simulator.core.Cell` is
rebuilt when read). Holding only str, bytes, numbers and ``None``, a row is untracked by
CPython's cyclic GC at its first collection and a partition at its first full one, so full
collections do not grow with what is stored (with ``__slots__`` objects a 240,000-key run
paused every node for 0.5-0.8 s per full collection). Only exact tuples and dicts are ever
untracked: a ``NamedTuple`` such as ``Cell`` stays tracked, which is why rows do not hold
cells. The same shapes also take half the memory of the objects they replace.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator
from itertools import islice

from rackpanel.simulator.core import Cell, Mutation

Clustering = tuple[bytes, ...]
Row = tuple  # (marker, marker_expires_at, tombstone, then name, value, timestamp, expires_at
#               for each cell)
Partition = dict  # HOLDERS → int, TOMBSTONE → int | None, clustering → Row

HOLDERS = 0  # bitmask of the replica stores holding this very dict (see storage.Storage)
TOMBSTONE = 1  # timestamp of the partition's DELETE, or None
RESERVED = 2  # the reserved keys come first, so the rows are the items after them


def _newer(a: Cell, b: Cell) -> Cell:
    """The cell that wins reconciliation between two versions of one column."""
    if a.timestamp != b.timestamp:
        return a if a.timestamp > b.timestamp else b
    if (a.value is None) != (b.value is None):
        return a if a.value is None else b
    if (a.value or b"") != (b.value or b""):
        return a if (a.value or b"") > (b.value or b"") else b
    return a if (a.expires_at or 0) >= (b.expires_at or 0) else b


def _max(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _marker(
    mine: int | None, expires: float | None, theirs: int | None, their_expiry: float | None
) -> tuple[int | None, float | None]:
    """The row marker that wins, with its expiry."""
    if theirs is None or (mine is not None and theirs < mine):
        return mine, expires
    if mine is None or theirs > mine:
        return theirs, their_expiry
    if expires is None or their_expiry is None:  # a tie: the marker without TTL wins
        return mine, None
    return mine, max(expires, their_expiry)  # ... or the one with the later expiry


_cell = tuple.__new__  # Cell from a (value, timestamp, expires_at) slice, without Cell.__new__


def pairs(row: Row) -> list[tuple[str, Cell]]:
    """A row's (column name, cell) pairs."""
    return [(row[i], _cell(Cell, row[i + 1 : i + 4])) for i in range(3, len(row), 4)]


def _combine(
    row: Row | None,
    marker: int | None,
    marker_expires_at: float | None,
    tombstone: int | None,
    new_cells: Collection[tuple[str, Cell]],
) -> Row:
    """``row`` (None: no row yet) reconciled with another version's fields."""
    if row is None:  # the version's fields as they are, cells sorted by name
        if len(new_cells) == 1:  # most new rows: one cell
            ((name, cell),) = new_cells
            return (marker, marker_expires_at, tombstone, name, *cell)
        flat = [marker, marker_expires_at, tombstone]
        for name, cell in sorted(new_cells):
            flat.append(name)
            flat.extend(cell)
        return tuple(flat)
    marker, marker_expires_at = _marker(row[0], row[1], marker, marker_expires_at)
    tombstone = _max(row[2], tombstone)
    merged = dict(pairs(row))
    for name, cell in new_cells:
        mine = merged.get(name)
        merged[name] = cell if mine is None else _newer(mine, cell)
    flat = [marker, marker_expires_at, tombstone]
    for name, cell in sorted(merged.items()) if len(merged) > 1 else merged.items():
        flat.append(name)
        flat.extend(cell)
    return tuple(flat)


def inserted_row(timestamp: int, cells: list[tuple[str, bytes | None]]) -> Row:
    """The row an INSERT without TTL writes: its marker and ``cells`` (column name and value,
    sorted by name; None a null) all at ``timestamp``, as :func:`apply` stores it."""
    flat: list = [timestamp, None, None]
    for name, value in cells:
        flat += (name, value, timestamp, None)
    return tuple(flat)


def new(holders: int = 0, tombstone: int | None = None) -> Partition:
    return {HOLDERS: holders, TOMBSTONE: tombstone}


def rows(partition: Partition) -> Iterator[tuple[Clustering, Row]]:
    return islice(partition.items(), RESERVED, None)


def apply(partition: Partition, mutation: Mutation, marker_expires_at: float | None) -> None:
    """Merge one mutation into ``partition`` in place."""
    if mutation.partition_tombstone is not None:
        partition[TOMBSTONE] = _max(partition[TOMBSTONE], mutation.partition_tombstone)
    if mutation.cells or mutation.row_marker is not None or mutation.row_tombstone is not None:
        partition[mutation.clustering] = _combine(
            partition.get(mutation.clustering),
            mutation.row_marker,
            marker_expires_at if mutation.row_marker is not None else None,
            mutation.row_tombstone,
            mutation.cells.items(),
        )


def merge_into(partition: Partition, other: Partition) -> None:
    partition[TOMBSTONE] = _max(partition[TOMBSTONE], other[TOMBSTONE])
    for clustering, row in rows(other):
        mine = partition.get(clustering)
        if mine is None:
            partition[clustering] = row  # rows are immutable: shared, never copied
        elif mine != row:
            partition[clustering] = _combine(mine, row[0], row[1], row[2], pairs(row))


def copy(partition: Partition, holders: int = 0) -> Partition:
    fresh = partition.copy()
    fresh[HOLDERS] = holders
    return fresh


def same_data(a: Partition | None, b: Partition | None) -> bool:
    """Whether two partitions hold the same data (whoever holds them)."""
    if a is None or b is None:
        return a is b
    return (
        a[TOMBSTONE] == b[TOMBSTONE]
        and len(a) == len(b)
        and all(b.get(clustering) == row for clustering, row in rows(a))
    )


def merge(partitions: list[Partition | None]) -> Partition | None:
    """The reconciliation of what several replicas hold (a new partition, held by none)."""
    present = [p for p in partitions if p is not None]
    if not present:
        return None
    merged = copy(present[0])
    for other in present[1:]:
        if other is not present[0]:
            merge_into(merged, other)
    return merged


def marker_expiry(mutation: Mutation) -> float | None:
    """When the row marker of an INSERT expires.

    ``core.Mutation`` carries no TTL for the marker itself; an INSERT ... USING TTL gives
    the same TTL (hence the same ``expires_at``) to every cell it writes at the marker's
    timestamp, so the marker expires with them. An INSERT of only the primary key with a
    TTL is the one case this cannot see: its row then outlives the TTL.
    """
    stamp = mutation.row_marker
    if stamp is None:
        return None
    expiry: float | None = None
    for cell in mutation.cells.values():
        if cell.timestamp == stamp:
            if cell.expires_at is None or (expiry is not None and expiry != cell.expires_at):
                return None
            expiry = cell.expires_at
    return expiry


class PartitionData(dict[Clustering, dict[str, Cell]]):
    """A partition as a client sees it: clustering tuple → {column: live Cell}.

    Only live rows appear (a live cell or a live row marker); a row written by INSERT with
    only its primary key maps to an empty dict. ``row_markers`` holds each live row's marker
    timestamp (absent for rows that exist only through UPDATEd cells). Rows are in no
    particular order: the executor sorts clustering values with their types' sort keys.
    """

    def __init__(self) -> None:
        super().__init__()
        self.row_markers: dict[Clustering, int] = {}


def resolve(partition: Partition | None, now: float | None = None) -> PartitionData:
    """Apply tombstones and TTLs to merged raw data."""
    data = PartitionData()
    if partition is None:
        return data
    now = time.time() if now is None else now
    for clustering, row in rows(partition):
        marker, marker_expires_at, tombstone = row[0], row[1], row[2]
        shadow = _max(partition[TOMBSTONE], tombstone)
        floor = -1 << 63 if shadow is None else shadow
        live = {
            name: cell
            for name, cell in pairs(row)
            if cell.value is not None
            and cell.timestamp > floor
            and (cell.expires_at is None or cell.expires_at > now)
        }
        marker_live = (
            marker is not None
            and marker > floor
            and (marker_expires_at is None or marker_expires_at > now)
        )
        if live or marker_live:
            data[clustering] = live
            if marker_live:
                data.row_markers[clustering] = marker
    return data

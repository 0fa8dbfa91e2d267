"""Per-replica storage with Cassandra's reconciliation rules, and the merged read result.

Each replica keeps raw data (cells with timestamps, row markers, tombstones) so that the
coordinator can merge what several replicas answer by last-write-wins, exactly as
Cassandra reconciles: the higher timestamp wins; on a tie a tombstone beats a live cell, then
the greater value wins. Tombstones and TTLs are applied only when the merged data is turned
into a :class:`PartitionData` (what a client sees).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence

from rackpanel.simulator.core import Cell, Mutation

Clustering = tuple[bytes, ...]


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


class Row:
    __slots__ = ("cells", "marker", "marker_expires_at", "tombstone")

    def __init__(self) -> None:
        self.marker: int | None = None  # timestamp of the row marker written by INSERT
        self.tombstone: int | None = None
        self.cells: dict[str, Cell] = {}
        self.marker_expires_at: float | None = None  # an INSERT ... USING TTL marker expires

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Row) and (
            self.marker,
            self.tombstone,
            self.cells,
            self.marker_expires_at,
        ) == (other.marker, other.tombstone, other.cells, other.marker_expires_at)

    def set_marker(self, timestamp: int | None, expires_at: float | None) -> None:
        if timestamp is None:
            return
        if self.marker is None or timestamp > self.marker:
            self.marker, self.marker_expires_at = timestamp, expires_at
        elif timestamp == self.marker and self.marker_expires_at is not None:
            # a tie: the marker without TTL (or with the later expiry) wins
            later = None if expires_at is None else max(expires_at, self.marker_expires_at)
            self.marker_expires_at = later

    def merge(self, other: Row) -> None:
        self.set_marker(other.marker, other.marker_expires_at)
        self.tombstone = _max(self.tombstone, other.tombstone)
        for name, cell in other.cells.items():
            mine = self.cells.get(name)
            self.cells[name] = cell if mine is None else _newer(mine, cell)


class Partition:
    """One partition's raw data. Replicas holding equal data share one object (``owners``
    counts them); a replica about to diverge gets its own copy first."""

    __slots__ = ("owners", "rows", "tombstone")

    def __init__(self) -> None:
        self.tombstone: int | None = None
        self.rows: dict[Clustering, Row] = {}
        self.owners = 0

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Partition)
            and self.tombstone == other.tombstone
            and self.rows == other.rows
        )

    def apply(self, mutation: Mutation, marker_expires_at: float | None) -> None:
        if mutation.partition_tombstone is not None:
            self.tombstone = _max(self.tombstone, mutation.partition_tombstone)
        if mutation.cells or mutation.row_marker is not None or mutation.row_tombstone is not None:
            row = self.rows.get(mutation.clustering)
            if row is None:
                row = self.rows[mutation.clustering] = Row()
            row.set_marker(mutation.row_marker, marker_expires_at)
            row.tombstone = _max(row.tombstone, mutation.row_tombstone)
            cells = row.cells
            for name, cell in mutation.cells.items():
                mine = cells.get(name)
                cells[name] = cell if mine is None else _newer(mine, cell)

    def merge(self, other: Partition) -> None:
        self.tombstone = _max(self.tombstone, other.tombstone)
        for clustering, row in other.rows.items():
            self.rows.setdefault(clustering, Row()).merge(row)

    def copy(self) -> Partition:
        merged = Partition()
        merged.merge(self)
        return merged


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
    for clustering, row in partition.rows.items():
        shadow = _max(partition.tombstone, row.tombstone)
        floor = -1 << 63 if shadow is None else shadow
        live = {
            name: cell
            for name, cell in row.cells.items()
            if cell.value is not None
            and cell.timestamp > floor
            and (cell.expires_at is None or cell.expires_at > now)
        }
        marker_live = (
            row.marker is not None
            and row.marker > floor
            and (row.marker_expires_at is None or row.marker_expires_at > now)
        )
        if live or marker_live:
            data[clustering] = live
            if marker_live:
                data.row_markers[clustering] = row.marker  # type: ignore[assignment]
    return data


def merge(partitions: list[Partition | None]) -> Partition | None:
    present = [p for p in partitions if p is not None]
    if not present:
        return None
    merged = present[0].copy()
    for other in present[1:]:
        merged.merge(other)
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


_UNKNOWN = -1.0
TableKey = tuple[str, str]
DEFAULT_MAX_PARTITIONS = 500_000


class ReplicaStore:
    """One node's data: (keyspace, table) → partition key → Partition."""

    def __init__(self, storage: Storage | None = None) -> None:
        self.tables: dict[TableKey, dict[bytes, Partition]] = {}
        self.storage = storage if storage is not None else Storage()
        self.count = 0  # partitions held

    def apply(self, mutation: Mutation, marker_expires_at: float | None = _UNKNOWN) -> None:
        """Merge one mutation (``marker_expires_at``: :func:`marker_expiry`, if known)."""
        self.storage.apply([self], mutation, marker_expires_at)

    def apply_partition(self, keyspace: str, table: str, key: bytes, data: Partition) -> None:
        """Read repair: merge a whole (merged) partition into this replica."""
        partitions = self.tables.setdefault((keyspace, table), {})
        mine = partitions.get(key)
        fresh = data.copy()
        if mine is not None:
            mine.owners -= 1
            fresh.merge(mine)
        else:
            self.count += 1
            self.storage.remember((keyspace, table), key, (self,))
        fresh.owners = 1
        partitions[key] = fresh

    def partition(self, keyspace: str, table: str, key: bytes) -> Partition | None:
        return self.tables.get((keyspace, table), {}).get(key)

    def partition_count(self) -> int:
        return self.count

    def keys(self, keyspace: str, table: str) -> list[bytes]:
        return list(self.tables.get((keyspace, table), {}))

    def forget(self, table_key: TableKey, key: bytes) -> None:
        partition = self.tables.get(table_key, {}).pop(key, None)
        if partition is not None:
            partition.owners -= 1
            self.count -= 1

    def drop_keyspace(self, keyspace: str) -> None:
        for key in [k for k in self.tables if k[0] == keyspace]:
            self.count -= len(self.tables.pop(key))

    def drop_table(self, keyspace: str, table: str) -> None:
        self.count -= len(self.tables.pop((keyspace, table), {}))


class Storage:
    """What every replica stores, with a bound: at most ``max_partitions`` partitions are kept
    (counted once per partition key, whatever its replicas); past it the partitions first
    written longest ago are dropped from every replica that holds them, as if a TTL had
    expired. So a demo left writing for days stays within a fixed memory."""

    def __init__(self, max_partitions: int = DEFAULT_MAX_PARTITIONS) -> None:
        if max_partitions < 1:
            raise ValueError(f"max_partitions must be at least 1, not {max_partitions}")
        self.max_partitions = max_partitions
        self._order: deque[tuple[TableKey, bytes, tuple[ReplicaStore, ...]]] = deque()
        self._holders: dict[tuple[ReplicaStore, ...], tuple[ReplicaStore, ...]] = {}
        self.evicted = 0

    def apply(
        self,
        stores: Sequence[ReplicaStore],
        mutation: Mutation,
        marker_expires_at: float | None = _UNKNOWN,
    ) -> None:
        """Apply ``mutation`` on every replica of ``stores``: replicas that held the same
        partition object keep sharing one (updated in place when nobody else holds it)."""
        if marker_expires_at == _UNKNOWN:
            marker_expires_at = marker_expiry(mutation)
        table_key = (mutation.keyspace, mutation.table)
        key = mutation.partition_key
        held = [store.tables.setdefault(table_key, {}).get(key) for store in stores]
        first = held[0]
        if all(p is first for p in held):  # the usual case: every replica had the same data
            if first is not None and first.owners == len(stores):
                first.apply(mutation, marker_expires_at)
                return
            if first is None:
                created = Partition()
                created.apply(mutation, marker_expires_at)
                created.owners = len(stores)
                for store in stores:
                    store.tables[table_key][key] = created
                    store.count += 1
                self.remember(table_key, key, tuple(stores))
                return
        groups: dict[int, tuple[Partition | None, list[ReplicaStore]]] = {}
        for store, current in zip(stores, held, strict=True):
            entry = groups.get(id(current))
            if entry is None:
                groups[id(current)] = (current, [store])
            else:
                entry[1].append(store)
        for current, members in groups.values():
            if current is not None and current.owners == len(members):
                current.apply(mutation, marker_expires_at)
                continue
            updated = Partition() if current is None else current.copy()
            updated.apply(mutation, marker_expires_at)
            updated.owners = len(members)
            for store in members:
                store.tables[table_key][key] = updated
            if current is not None:
                current.owners -= len(members)
            else:
                for store in members:
                    store.count += 1
                self.remember(table_key, key, tuple(members))

    def remember(self, table_key: TableKey, key: bytes, stores: tuple[ReplicaStore, ...]) -> None:
        """Note when replicas first got a partition; evict the oldest past the bound."""
        shared = self._holders.setdefault(stores, stores)
        self._order.append((table_key, key, shared))
        while len(self._order) > self.max_partitions:
            old_table, old_key, holders = self._order.popleft()
            for store in holders:
                store.forget(old_table, old_key)
            self.evicted += 1

    def __len__(self) -> int:
        return len(self._order)

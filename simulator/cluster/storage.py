"""What every replica stores, kept once for all of them and mostly out of the GC's sight.

Replicas holding equal data share one partition (a dict from :mod:`.partition`); its
:data:`~.partition.HOLDERS` bitmask says which replica stores hold it. A write reaching every
holder updates it once for all; a replica about to diverge gets its own copy. So
:class:`Storage` keeps, per table, partition key → the partition's versions (one while the
replicas agree), and a :class:`ReplicaStore` is one node's view of it.

Versions with at most :data:`PACKED_ROWS` rows in all are stored packed (``marshal`` format 2,
see :func:`_dumps`: about 105 bytes for a one-row partition) and unpacked by whoever reads or
writes them. Bytes are invisible to the cyclic GC, and a dict holding only bytes is never
tracked again once a full collection untracked it, so a table of small partitions costs full
collections nothing (a dict of live partitions is re-tracked by every write, then visited entry
by entry: ≈ 20 ms per full collection for 240,000 keys). Bigger partitions (a time series' day)
stay live, mutated in place: packing them would make each write cost their whole size.
"""

from __future__ import annotations

import marshal
from collections import deque
from collections.abc import Callable, Sequence

from rackpanel.simulator.cluster import partition as part
from rackpanel.simulator.cluster.partition import (
    HOLDERS,
    RESERVED,
    TOMBSTONE,
    Clustering,
    Partition,
    PartitionData,
    Row,
    marker_expiry,
    merge,
    resolve,
    same_data,
)
from rackpanel.simulator.core import Mutation

__all__ = [
    "DEFAULT_MAX_PARTITIONS",
    "Partition",
    "PartitionData",
    "ReplicaStore",
    "Storage",
    "marker_expiry",
    "merge",
    "resolve",
    "same_data",
]

_UNKNOWN = -1.0
TableKey = tuple[str, str]
Stored = bytes | Partition | tuple[Partition, ...]  # packed, or one or several live versions
DEFAULT_MAX_PARTITIONS = 500_000
PACKED_ROWS = 8  # partitions whose versions hold at most this many rows are stored packed


def _unpack(stored: Stored | None) -> tuple[Partition, ...]:
    if stored is None:
        return ()
    live = marshal.loads(stored) if type(stored) is bytes else stored
    return (live,) if type(live) is dict else live


# ``marshal`` format 2: no back-references, so no table of every object written; twice as fast
# both ways as the default format, for ~15 more bytes a partition.
MARSHAL_FORMAT = 2


def _dumps(live: Partition | tuple[Partition, ...]) -> bytes:
    return marshal.dumps(live, MARSHAL_FORMAT)


def _pack(found: list[Partition]) -> Stored:
    if len(found) == 1:
        live: Partition | tuple[Partition, ...] = found[0]
        rows = len(live) - RESERVED
    else:
        live = tuple(found)
        rows = sum(len(version) for version in found) - RESERVED * len(found)
    return _dumps(live) if rows <= PACKED_ROWS else live


def _bits(mask: int) -> tuple[int, ...]:
    """The positions of the set bits of ``mask``, lowest first."""
    found = []
    while mask:
        low = mask & -mask
        found.append(low.bit_length() - 1)
        mask ^= low
    return tuple(found)


def _mask(stores: Sequence[ReplicaStore]) -> int:
    mask = 0
    for store in stores:
        mask |= store.bit
    return mask


class ReplicaStore:
    """One node's data: its share of the :class:`Storage` it belongs to."""

    def __init__(self, storage: Storage | None = None) -> None:
        self.storage = storage if storage is not None else Storage()
        self.bit = self.storage.attach(self)
        self.count = 0  # partitions held

    def apply(self, mutation: Mutation, marker_expires_at: float | None = _UNKNOWN) -> None:
        """Merge one mutation (``marker_expires_at``: :func:`marker_expiry`, if known)."""
        self.storage.apply([self], mutation, marker_expires_at)

    def apply_partition(self, keyspace: str, table: str, key: bytes, data: Partition) -> None:
        """Read repair: merge a whole (merged) partition into this replica."""
        self.storage.repair(self, (keyspace, table), key, data)

    def partition(self, keyspace: str, table: str, key: bytes) -> Partition | None:
        return self.storage.read((keyspace, table), key, [self])[0]

    def partition_count(self) -> int:
        self.storage.settle_counts()
        return self.count

    def keys(self, keyspace: str, table: str) -> list[bytes]:
        return self.storage.keys((keyspace, table), [self])

    def drop_keyspace(self, keyspace: str) -> None:
        self.storage.drop(lambda table_key: table_key[0] == keyspace)

    def drop_table(self, keyspace: str, table: str) -> None:
        self.storage.drop(lambda table_key: table_key == (keyspace, table))


class Storage:
    """What every replica stores, with a bound: at most ``max_partitions`` partitions are kept
    (counted once per partition key, whatever its replicas); past it the partitions first
    written longest ago are dropped from every replica that holds them, as if a TTL had
    expired. So a demo left writing for days stays within a fixed memory."""

    def __init__(self, max_partitions: int = DEFAULT_MAX_PARTITIONS) -> None:
        if max_partitions < 1:
            raise ValueError(f"max_partitions must be at least 1, not {max_partitions}")
        self.max_partitions = max_partitions
        self.tables: dict[TableKey, dict[bytes, Stored]] = {}
        self._stores: list[ReplicaStore] = []
        self._unsettled: dict[int, int] = {}  # holders mask → partitions not yet counted
        self._order: deque[tuple[TableKey, bytes]] = deque()
        self.evicted = 0

    def attach(self, store: ReplicaStore) -> int:
        """Register one more replica store; its bit in the holders masks."""
        self._stores.append(store)
        return 1 << (len(self._stores) - 1)

    def _count(self, holders: int, delta: int) -> None:
        """Add ``delta`` to the partition count of every store in ``holders``, once one is
        read (:meth:`settle_counts`): one addition per write, not one per replica."""
        unsettled = self._unsettled
        unsettled[holders] = unsettled.get(holders, 0) + delta

    def settle_counts(self) -> None:
        """Bring every store's partition count up to date."""
        stores = self._stores
        for holders, delta in self._unsettled.items():
            for i in _bits(holders):
                stores[i].count += delta
        self._unsettled.clear()

    def versions(self, table_key: TableKey, key: bytes) -> tuple[Partition, ...]:
        """What the replicas hold for ``key``: one partition each of their groups."""
        return _unpack(self.tables.get(table_key, {}).get(key))

    def read(
        self, table_key: TableKey, key: bytes, stores: Sequence[ReplicaStore]
    ) -> list[Partition | None]:
        """What each of ``stores`` holds for ``key`` (unpacked once for all of them)."""
        found = self.versions(table_key, key)
        held: list[Partition | None] = []
        for store in stores:
            held.append(None)
            for version in found:
                if version[HOLDERS] & store.bit:
                    held[-1] = version
                    break
        return held

    def keys(self, table_key: TableKey, stores: Sequence[ReplicaStore]) -> list[bytes]:
        """The partition keys that at least one of ``stores`` holds."""
        mask = _mask(stores)
        return [
            key
            for key, stored in self.tables.get(table_key, {}).items()
            if any(version[HOLDERS] & mask for version in _unpack(stored))
        ]

    def _table(self, table_key: TableKey) -> dict[bytes, Stored]:
        table = self.tables.get(table_key)
        if table is None:
            table = self.tables[table_key] = {}
        return table

    @staticmethod
    def mask_of(stores: Sequence[ReplicaStore]) -> int:
        """The holders mask of ``stores``."""
        return _mask(stores)

    def apply(
        self,
        stores: Sequence[ReplicaStore],
        mutation: Mutation,
        marker_expires_at: float | None = _UNKNOWN,
    ) -> None:
        """Apply ``mutation`` on every replica of ``stores``: replicas that held the same
        partition keep sharing one (updated in place when nobody else holds it)."""
        if marker_expires_at == _UNKNOWN:
            marker_expires_at = marker_expiry(mutation)
        self.write(_mask(stores), mutation, marker_expires_at)

    def write(self, mask: int, mutation: Mutation, marker_expires_at: float | None) -> None:
        """:meth:`apply` on the stores of holders mask ``mask`` (``marker_expires_at``: known)."""
        table_key = (mutation.keyspace, mutation.table)
        table = self._table(table_key)
        key = mutation.partition_key
        stored = table.get(key)
        if stored is None and mask:  # most writes to a growing table: a new partition
            created = part.new(mask)
            part.apply(created, mutation, marker_expires_at)
            self._add(table, table_key, key, created)
            return
        if type(stored) is dict and stored[HOLDERS] == mask:  # a big partition, live
            part.apply(stored, mutation, marker_expires_at)
            return
        found: list[Partition] = []
        missing = mask
        for version in _unpack(stored):
            holders = version[HOLDERS]
            missing &= ~holders
            if holders & mask and holders & ~mask:  # some holders miss the write: split
                version[HOLDERS] = holders & ~mask
                found.append(version)
                version = part.copy(version, holders & mask)
            found.append(version)
            if holders & mask:
                part.apply(version, mutation, marker_expires_at)
        if missing:
            created = part.new(missing)
            part.apply(created, mutation, marker_expires_at)
            found.append(created)
            self._count(missing, 1)
        if not found:  # no replica to write to
            return
        table[key] = _pack(found)
        if stored is None:
            self._remember(table_key, key)

    def insert_new(
        self, mask: int, table_key: TableKey, key: bytes, clustering: Clustering, row: Row
    ) -> bool:
        """Store a partition no replica holds yet, of one row, on the stores of ``mask``;
        False (nothing done) when some replica holds ``key`` already: :meth:`write` merges."""
        table = self.tables.get(table_key)
        if table is None:
            table = self._table(table_key)
        elif key in table:
            return False
        self._add(table, table_key, key, {HOLDERS: mask, TOMBSTONE: None, clustering: row})
        return True

    def _add(
        self, table: dict[bytes, Stored], table_key: TableKey, key: bytes, created: Partition
    ) -> None:
        """Store ``created``, a partition of one row at most that no replica held, packed."""
        table[key] = marshal.dumps(created, MARSHAL_FORMAT)  # _dumps(), without the call
        holders = created[HOLDERS]
        unsettled = self._unsettled  # self._count(holders, 1), without the call
        unsettled[holders] = unsettled.get(holders, 0) + 1
        self._remember(table_key, key)

    def repair(self, store: ReplicaStore, table_key: TableKey, key: bytes, data: Partition) -> None:
        """Merge ``data`` into what ``store`` holds for ``key``; the result joins a version of
        another replica when they are equal (replicas repaired alike share again)."""
        bit = store.bit
        table = self._table(table_key)
        stored = table.get(key)
        fresh = part.copy(data, bit)
        found: list[Partition] = []
        held = False
        for version in _unpack(stored):
            if version[HOLDERS] & bit:
                held = True
                part.merge_into(fresh, version)
                version[HOLDERS] &= ~bit
            if version[HOLDERS]:
                found.append(version)
        for version in found:
            if part.same_data(version, fresh):
                version[HOLDERS] |= bit
                break
        else:
            found.append(fresh)
        table[key] = _pack(found)
        if not held:
            store.count += 1
        if stored is None:
            self._remember(table_key, key)

    def _remember(self, table_key: TableKey, key: bytes) -> None:
        """Note when a partition key was first stored; evict the oldest past the bound."""
        self._order.append((table_key, key))
        while len(self._order) > self.max_partitions:
            old_table, old_key = self._order.popleft()
            stored = self.tables.get(old_table, {}).pop(old_key, None)
            if stored is not None:
                for version in _unpack(stored):
                    self._count(version[HOLDERS], -1)
            self.evicted += 1

    def drop(self, dropped: Callable[[TableKey], bool]) -> None:
        """Forget every table whose (keyspace, table) ``dropped`` accepts, on every replica."""
        for table_key in [t for t in self.tables if dropped(t)]:
            for stored in self.tables.pop(table_key).values():
                for version in _unpack(stored):
                    self._count(version[HOLDERS], -1)

    def __len__(self) -> int:
        return len(self._order)

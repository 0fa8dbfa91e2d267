"""Replica storage on its own: shared versions, packed and live partitions, and what the
cyclic GC sees of them (nothing, once collected: full collections must not grow with data)."""

from __future__ import annotations

import gc

from rackpanel.simulator.cluster.storage import (
    PACKED_ROWS,
    ReplicaStore,
    Storage,
    merge,
    resolve,
)
from rackpanel.simulator.core import Cell, Mutation

TABLE = ("ks", "t")


def put(key: bytes, clustering: tuple[bytes, ...], value: bytes | None, ts: int) -> Mutation:
    return Mutation("ks", "t", key, clustering, {"v": Cell(value, ts)}, row_marker=ts)


def stores(count: int, max_partitions: int = 1000) -> list[ReplicaStore]:
    storage = Storage(max_partitions)
    return [ReplicaStore(storage) for _ in range(count)]


def test_cells_reconcile_by_timestamp_then_tombstone_then_value():
    a, b = stores(2)
    storage = a.storage
    storage.apply([a], put(b"k", (), b"x", 5))
    storage.apply([b], put(b"k", (), b"y", 5))  # a tie: the greater value wins
    assert resolve(merge([a.partition(*TABLE, b"k"), b.partition(*TABLE, b"k")]))[()]["v"] == (
        Cell(b"y", 5)
    )
    storage.apply([a], Mutation("ks", "t", b"k", (), {"v": Cell(None, 5)}))  # tombstone wins
    merged = merge([a.partition(*TABLE, b"k"), b.partition(*TABLE, b"k")])
    assert "v" not in resolve(merged)[()] and resolve(merged).row_markers[()] == 5


def test_replicas_split_on_a_missed_write_and_share_again_after_repair():
    a, b, c = stores(3)
    storage = a.storage
    storage.apply([a, b, c], put(b"k", (), b"1", 1))
    assert len(storage.versions(TABLE, b"k")) == 1
    storage.apply([a, b], put(b"k", (), b"2", 2))  # c was down
    assert len(storage.versions(TABLE, b"k")) == 2
    assert resolve(c.partition(*TABLE, b"k"))[()]["v"].value == b"1"
    merged = merge([s.partition(*TABLE, b"k") for s in (a, b, c)])
    assert merged is not None
    c.apply_partition(*TABLE, b"k", merged)  # read repair
    assert len(storage.versions(TABLE, b"k")) == 1
    assert [s.partition_count() for s in (a, b, c)] == [1, 1, 1]


def test_big_partitions_stay_live_and_reconcile_the_same():
    a, b = stores(2)
    storage = a.storage
    rows = PACKED_ROWS * 3
    for i in range(rows):
        storage.apply([a, b], put(b"day", (bytes([i]),), b"v%d" % i, 10 + i))
    assert type(storage.tables[TABLE][b"day"]) is dict  # live: updated in place
    storage.apply([a], put(b"day", (b"\x00",), b"late", 100))  # b misses it
    storage.apply([a, b], Mutation("ks", "t", b"day", (b"\x01",), row_tombstone=1000))
    seen_by_a, seen_by_b = (
        resolve(a.partition(*TABLE, b"day")),
        resolve(b.partition(*TABLE, b"day")),
    )
    assert len(seen_by_a) == len(seen_by_b) == rows - 1
    assert seen_by_a[(b"\x00",)]["v"].value == b"late" and seen_by_b[(b"\x00",)]["v"].value == b"v0"
    storage.apply([a, b], Mutation("ks", "t", b"day", partition_tombstone=1000))
    assert not resolve(merge([a.partition(*TABLE, b"day"), b.partition(*TABLE, b"day")]))


def test_stored_data_is_invisible_to_the_cyclic_gc():
    replicas = stores(6, max_partitions=100)
    storage = replicas[0].storage
    for i in range(150):  # past the bound: the oldest are evicted from every replica
        storage.apply(replicas, put(b"key-%d" % i, (), b"v", i + 1))
    for i in range(PACKED_ROWS * 2):
        storage.apply(replicas, put(b"day", (bytes([i]),), b"v", i + 1))
    storage.apply(replicas[:3], put(b"key-149", (), b"w", 500))  # two versions of one key
    gc.collect()
    gc.collect()
    table = storage.tables[TABLE]
    small = [stored for key, stored in table.items() if key != b"day"]
    assert all(type(stored) is bytes for stored in small) and len(small) == 99
    assert not any(gc.is_tracked(row) for _, row in list(table[b"day"].items())[2:])
    assert not gc.is_tracked(table[b"day"])
    del table[b"day"]
    gc.collect()
    assert not gc.is_tracked(table)  # a table of small partitions is never visited again
    assert storage.evicted == 51 and [s.partition_count() for s in replicas] == [100] * 6

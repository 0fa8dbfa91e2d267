"""Cassandra 5.0's checks that warn the client or refuse a request for its size or shape.

- batch size (``BatchStatement.verifyBatchSize``): a batch of more than one partition whose
  data is over ``batch_size_warn_threshold`` (5 KiB) gets the client warning "Batch for
  [ks.t] is of size N, exceeding specified threshold of 5120 by M."; over
  ``batch_size_fail_threshold`` (50 KiB) it is refused with InvalidRequest "Batch too large".
  The size is that of the data written (``PartitionUpdate.dataSize``): clustering values,
  each cell's value and timestamp (plus TTL and expiry when it expires), row markers and
  tombstones; partition keys do not count.
- aggregation without a partition key (``SelectStatement``): the client warning
  "Aggregation query used without partition key".
"""

from __future__ import annotations

from collections.abc import Iterable

from rackpanel.simulator.core import InvalidRequest, Mutation

BATCH_SIZE_WARN_THRESHOLD = 5 * 1024
BATCH_SIZE_FAIL_THRESHOLD = 50 * 1024
AGGREGATION_WITHOUT_KEY = "Aggregation query used without partition key"
_TIMESTAMP = 8
_EXPIRING = 8  # ttl and local expiry time
_DELETION = 12  # a deletion time: timestamp and local deletion time


def mutation_size(m: Mutation) -> int:
    size = sum(len(v) for v in m.clustering)
    if m.row_marker is not None:
        size += _TIMESTAMP
    for tombstone in (m.row_tombstone, m.partition_tombstone):
        if tombstone is not None:
            size += _DELETION
    for cell in m.cells.values():
        size += _TIMESTAMP + len(cell.value or b"")
        if cell.expires_at is not None:
            size += _EXPIRING
    return size


class BatchSize:
    """The mutations of one batch as its statements are added: refused as soon as it is over
    the fail threshold (so a batch of 65,535 partitions costs no more than 50 KiB of work)."""

    def __init__(self) -> None:
        self.mutations: list[Mutation] = []
        self.size = 0
        self._partitions: set[tuple[str, bytes]] = set()

    def add(self, mutations: Iterable[Mutation]) -> None:
        for m in mutations:
            self.mutations.append(m)
            self.size += mutation_size(m)
            self._partitions.add((m.keyspace, m.partition_key))
        if self.size > BATCH_SIZE_FAIL_THRESHOLD and self._multi_partition():
            raise InvalidRequest("Batch too large")

    def _multi_partition(self) -> bool:  # one partition is never checked (CASSANDRA-10876)
        return len(self._partitions) > 1

    def warn(self, warnings: list[str]) -> None:
        if self.size <= BATCH_SIZE_WARN_THRESHOLD or not self._multi_partition():
            return
        tables = ", ".join(sorted({f"{m.keyspace}.{m.table}" for m in self.mutations}))
        warnings.append(
            f"Batch for [{tables}] is of size {self.size}, exceeding specified threshold of "
            f"{BATCH_SIZE_WARN_THRESHOLD} by {self.size - BATCH_SIZE_WARN_THRESHOLD}."
        )

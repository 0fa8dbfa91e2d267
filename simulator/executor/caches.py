"""An LRU map bounded by the bytes of its entries, for the parse and prepared caches.

Cassandra bounds its prepared-statement cache by memory (``prepared_statements_cache_size``,
``QueryProcessor``: evicted statements answer Unprepared and drivers re-prepare); the
simulator does the same for both of its statement caches, estimating an entry's size from
its statement text (the AST of a statement grows with its text).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

ENTRY_OVERHEAD = 512  # bytes an entry costs beyond its text (AST nodes, dict slot, key)
AST_BYTES_PER_CHAR = 24  # a statement's AST is about this many bytes per character of text


def statement_bytes(text: str) -> int:
    return ENTRY_OVERHEAD + AST_BYTES_PER_CHAR * len(text)


class ByteBoundedLRU(Generic[V]):
    """``get``/``put`` with least-recently-used eviction once ``capacity`` bytes are held.
    An entry bigger than the whole capacity is never kept."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0
        self._entries: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: Hashable, value: V, size: int) -> bool:
        """Keep ``value``; False when it is too big to be worth caching."""
        self.discard(key)
        if size > self.capacity:
            return False
        self._entries[key] = (value, size)
        self.used += size
        while self.used > self.capacity:
            _, (_, evicted) = self._entries.popitem(last=False)
            self.used -= evicted
        return True

    def discard(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.used -= entry[1]

    def clear(self) -> None:
        self._entries.clear()
        self.used = 0

"""The ``gclog`` source: GC pauses, heap and safepoints, tailed from the JVM's unified GC log.

The only agentless JVM source: no Cassandra version exposes JVM memory or GC over CQL. Lines
are classified by :mod:`exporter.sources.gclog_lines` (Cassandra's own format has no tags).
The ``gc`` label is ``<collector> <pause kind>`` ("G1 Young", "G1 Remark", "Concurrent Mark
Sweep Initial Mark"), the collector from the log's ``Using ...`` line.

Rotation: the JVM (``filecount=10``) renames ``gc.log`` to ``gc.log.<n>`` and opens a new
``gc.log``; at start-up it archives the previous run's ``gc.log`` the same way. Every file is
followed by its identity (device, inode and first bytes), so the lines written to ``gc.log``
between the last read and its rotation are read from ``gc.log.<n>``, from where reading
stopped, and nothing is counted twice. Files already rotated when the exporter starts are
history (maybe of an earlier JVM) and are not read; ``gc.log`` is read from its start. Totals
only grow, so they are counters.

A log that holds lines but nothing this parser understands (Java 8's ``-Xloggc`` format, a
wrong file) is a failed collection with the reason, never an empty success.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from rackpanel.exporter.readings import GcLogReading, GcTotals, HeapFigures
from rackpanel.exporter.sources import SourceError
from rackpanel.exporter.sources.gclog_lines import (
    Collector,
    MaxHeap,
    Pause,
    Safepoint,
    candidate_lines,
    is_unified_logging,
    looks_like_java8,
    message,
    parse_message,
)

_MAX_READ = 16 * 1024 * 1024  # per collection: a huge backlog is caught up over several
_MAX_PARTIAL = 64 * 1024  # a "line" longer than this is not a GC line: dropped
_START_UP_BYTES = 256 * 1024  # the JVM's start-up lines are within the first few KiB
_FORMAT_PROBE_LINES = 100  # lines looked at to tell the log's format
_HEAD = 64  # bytes that, with the inode, tell one file from a later one reusing the inode


@dataclass
class _Followed:
    """One file being read: where reading stopped and the bytes it started with."""

    offset: int
    head: bytes
    partial: bytes = b""


@dataclass
class _Totals:
    collector: str | None = None
    pauses: dict[str, list[float]] = field(default_factory=dict)  # kind -> [count, seconds]
    safepoints: int = 0
    safepoint_seconds: float = 0.0
    heap_after: int | None = None
    heap_capacity: int | None = None
    heap_max: int | None = None
    lines: int = 0
    unified: bool = False  # a line in JDK unified-logging form was seen
    java8_lines: int = 0

    def add(self, text: str) -> None:
        event = parse_message(text)
        if isinstance(event, Pause):
            kind = f"{self.collector} {event.kind}" if self.collector else event.kind
            totals = self.pauses.setdefault(kind, [0, 0.0])
            totals[0] += 1
            totals[1] += event.seconds
            if event.heap_after is not None:
                self.heap_after, self.heap_capacity = event.heap_after, event.heap_capacity
        elif isinstance(event, Safepoint):
            self.safepoints += 1
            self.safepoint_seconds += event.seconds
        elif isinstance(event, Collector):
            self.collector = event.name
        elif isinstance(event, MaxHeap):
            self.heap_max = event.bytes


def rotated_files(path: str) -> list[str]:
    """``gc.log.0`` ... ``gc.log.9`` (any numeric suffix) beside ``path``, oldest first."""
    directory, base = os.path.split(path)
    pattern = re.compile(re.escape(base) + r"\.\d+")
    try:
        names = [n for n in os.listdir(directory or ".") if pattern.fullmatch(n)]
    except OSError:
        return []
    found = []
    for name in names:
        full = os.path.join(directory, name)
        try:
            found.append((os.stat(full).st_mtime_ns, full))
        except OSError:
            continue
    return [full for _, full in sorted(found)]


class GcLogSource:
    name = "gclog"

    def __init__(self, path: str) -> None:
        self.path = path
        self._followed: dict[tuple[int, int], _Followed] = {}
        self._started = False
        self._totals = _Totals()

    def collect(self) -> GcLogReading:
        try:  # first: from here on, gc.log missing is a rotation under way, not a missing log
            os.stat(self.path)
        except OSError as exc:
            raise SourceError(f"cannot read the gc log {self.path}: {exc.strerror}") from None
        rotated = rotated_files(self.path)
        if not self._started:  # what was rotated before the exporter started is history
            self._started = True
            self._learn_start_up(rotated)
            for name in rotated:
                self._read(name, 0, set(), history=True)
        budget = _MAX_READ
        seen: set[tuple[int, int]] = set()
        for name in [*rotated, self.path]:
            budget -= self._read(name, budget, seen)
        if set(self._followed) - seen:
            # A file followed until now was not found: gc.log may have been rotated between
            # the listing and its opening. Listed again, the renamed file is read from where
            # reading stopped instead of being forgotten (and later read again from its start).
            for name in rotated_files(self.path):
                budget -= self._read(name, budget, seen)
        for identity in set(self._followed) - seen:
            del self._followed[identity]
        return self._reading()

    def _learn_start_up(self, rotated: list[str]) -> None:
        """Collector and maximum heap from the newest rotated file that starts with them.

        They are logged once, when the JVM starts: when ``gc.log`` has rotated since, the file
        that holds them is one of the (otherwise unread) older ones.
        """
        for name in reversed(rotated):
            probe = _Totals()
            try:
                with open(name, "rb") as handle:
                    head = handle.read(_START_UP_BYTES)
            except OSError:
                continue
            for raw in candidate_lines(head[: head.rfind(b"\n") + 1]):
                probe.add(message(raw.decode("utf-8", "replace")))
            if probe.collector is not None:
                self._totals.collector, self._totals.heap_max = probe.collector, probe.heap_max
                return

    def _read(
        self, name: str, budget: int, seen: set[tuple[int, int]], history: bool = False
    ) -> int:
        try:
            with open(name, "rb") as handle:
                stat = os.fstat(handle.fileno())
                identity = (stat.st_dev, stat.st_ino)
                if identity in seen:
                    return 0  # already read in this collection, under another name
                seen.add(identity)
                head = handle.read(_HEAD)
                followed = self._followed.get(identity)
                if (
                    followed is None
                    or not head.startswith(followed.head)
                    or stat.st_size < followed.offset
                ):
                    offset = stat.st_size if history else 0
                    followed = self._followed[identity] = _Followed(offset, head)
                elif len(followed.head) < _HEAD:
                    followed.head = head
                if budget <= 0 or followed.offset >= stat.st_size:
                    return 0
                handle.seek(followed.offset)
                chunk = handle.read(budget)
        except FileNotFoundError:
            # a rotated file removed meanwhile, or gc.log caught mid-rotation: collect() saw it
            # a moment ago, the JVM renamed it and has not created the new one yet
            return 0
        except OSError as exc:
            if name != self.path:
                return 0
            raise SourceError(f"cannot read the gc log {self.path}: {exc.strerror}") from None
        followed.offset += len(chunk)
        self._consume(followed, chunk)
        return len(chunk)

    def _consume(self, followed: _Followed, chunk: bytes) -> None:
        data = followed.partial + chunk
        end = data.rfind(b"\n") + 1
        complete, followed.partial = data[:end], data[end:]
        if len(followed.partial) > _MAX_PARTIAL:
            followed.partial = b""
        totals = self._totals
        totals.lines += complete.count(b"\n")
        if not totals.unified:
            for raw in complete.split(b"\n", _FORMAT_PROBE_LINES)[:_FORMAT_PROBE_LINES]:
                line = raw.decode("utf-8", "replace")
                totals.java8_lines += looks_like_java8(line)
                if is_unified_logging(line):
                    totals.unified = True
                    break
        for raw in candidate_lines(complete):
            totals.add(message(raw.decode("utf-8", "replace")))

    def _reading(self) -> GcLogReading:
        totals = self._totals
        if totals.lines and not totals.unified:
            why = (
                "Java 8's -Xloggc format (run Cassandra on Java 11 or 17)"
                if totals.java8_lines
                else "no JDK unified-logging GC line (expected e.g. "
                "'[...][info ] GC(3) Pause Young (Normal) (G1 Evacuation Pause) 60M->20M(256M) "
                "3.2ms')"
            )
            raise SourceError(f"{self.path}: {totals.lines} lines read, none usable: {why}")
        heap = None
        if totals.heap_after is not None or totals.heap_max is not None:
            heap = HeapFigures(totals.heap_after, totals.heap_capacity, totals.heap_max)
        return GcLogReading(
            path=self.path,
            collector=totals.collector,
            pauses={kind: GcTotals(int(c), s) for kind, (c, s) in totals.pauses.items()},
            heap=heap,
            safepoints=GcTotals(totals.safepoints, totals.safepoint_seconds),
        )

    def close(self) -> None:
        pass

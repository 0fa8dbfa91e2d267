"""The ``gclog`` source: pauses and their time, tailed from the JVM's unified GC log.

Used for JVM GC figures when Jolokia is absent. Cassandra writes ``${CASSANDRA_LOG_DIR}/gc.log``
through JDK unified logging (``-Xlog:gc=info,...:file=...:time,uptime,pid,tid,level,tags``);
whatever the decorations, every collection ends in one ``[gc]``-tagged summary line::

    [0.029s][info][gc   ] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 6M->1M(64M) 0.854ms

Cassandra 5.0 runs G1 on JDK 17 (the format above). Cassandra 4.1 on JDK 11 with CMS writes
the same unified-logging pause lines (``Pause Young (Allocation Failure)``, ``Pause Initial
Mark``, ``Pause Remark``); JDK 17 has no CMS, so the tests exercise this parser on logs written
by a real JDK 17 with G1, Serial and Parallel. The ``gc`` label is ``<collector> <pause kind>``
("G1 Young", "Serial Full"), the collector taken from the log's ``Using G1`` line; concurrent
phases (``Concurrent Mark Cycle``) are not pauses and are not counted.

The file is read incrementally from the last offset; a new inode or a shrunken file (rotation,
a JVM restart) restarts at offset 0 while the totals keep growing, so they stay counters. Lines
written to the old file between the last read and its rotation are missed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from rackpanel.exporter.readings import GcLogReading, GcTotals
from rackpanel.exporter.sources import SourceError

_PAUSE = re.compile(
    r"\[gc\s*\]\s+GC\(\d+\)\s+Pause (?P<kind>[A-Za-z][A-Za-z ]*?)"
    r"(?:\s+\(.*\))?(?:\s+\d+[KMGB]?->\d+[KMGB]?\(\d+[KMGB]?\))?"
    r"\s+(?P<ms>\d+(?:\.\d+)?)ms\s*$"
)
_COLLECTOR = re.compile(r"\[gc\s*\]\s+Using (?P<name>.+?)\s*$")
_MAX_READ = 16 * 1024 * 1024  # per collection: a huge backlog is caught up over several
_MAX_PARTIAL = 64 * 1024  # a "line" longer than this is not a GC line: dropped


@dataclass(frozen=True)
class Pause:
    kind: str
    seconds: float


def parse_pause(line: str) -> Pause | None:
    """The pause a ``[gc]`` summary line reports, or None for any other line."""
    match = _PAUSE.search(line)
    if match is None:
        return None
    return Pause(match["kind"], float(match["ms"]) / 1000.0)


def parse_collector(line: str) -> str | None:
    """The collector a ``[gc] Using G1`` start-up line names, or None."""
    match = _COLLECTOR.search(line)
    return match["name"] if match else None


class GcLogSource:
    name = "gclog"

    def __init__(self, path: str) -> None:
        self.path = path
        self._inode: tuple[int, int] | None = None
        self._offset = 0
        self._partial = b""
        self._collector: str | None = None
        self._counts: dict[str, int] = {}
        self._seconds: dict[str, float] = {}

    def collect(self) -> GcLogReading:
        try:
            with open(self.path, "rb") as handle:
                stat = os.fstat(handle.fileno())
                inode = (stat.st_dev, stat.st_ino)
                if inode != self._inode or stat.st_size < self._offset:
                    self._inode, self._offset, self._partial = inode, 0, b""
                handle.seek(self._offset)
                chunk = handle.read(_MAX_READ)
        except OSError as exc:
            raise SourceError(f"cannot read the gc log {self.path}: {exc.strerror}") from None
        self._offset += len(chunk)
        self._consume(chunk)
        return GcLogReading(
            path=self.path,
            collector=self._collector,
            pauses={
                self._label(kind): GcTotals(count, self._seconds[kind])
                for kind, count in self._counts.items()
            },
        )

    def _consume(self, chunk: bytes) -> None:
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        if len(self._partial) > _MAX_PARTIAL:
            self._partial = b""
        for raw in lines:
            if b"[gc" not in raw:
                continue
            line = raw.decode("utf-8", "replace")
            pause = parse_pause(line)
            if pause is not None:
                self._counts[pause.kind] = self._counts.get(pause.kind, 0) + 1
                self._seconds[pause.kind] = self._seconds.get(pause.kind, 0.0) + pause.seconds
            elif (collector := parse_collector(line)) is not None:
                self._collector = collector

    def _label(self, kind: str) -> str:
        return f"{self._collector} {kind}" if self._collector else kind

    def close(self) -> None:
        pass

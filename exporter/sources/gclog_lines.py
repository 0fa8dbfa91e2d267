"""What one line of a JDK unified-logging GC log says, whatever its decorations.

Cassandra 4.1 and 5.0 start the JVM (conf/cassandra-env.sh, Java 11 and newer) with::

    -Xlog:gc=info,heap*=trace,age*=debug,safepoint=info,promotion*=trace:
         file=${CASSANDRA_LOG_DIR}/gc.log:time,uptime,pid,tid,level:filecount=10,filesize=10485760

The decorations are ``time,uptime,pid,tid,level``: no tags, each field padded to its widest
value so far (``[info ]``, ``[2212 ]``). Lines are therefore classified by their message text,
after the leading ``[...]`` decorations, never by a ``[gc]`` tag; logs written with tags
(``-Xlog:gc*:...:uptime,level,tags``) read the same way. What is read:

- ``Using G1`` (``Serial``, ``Parallel``, ``Concurrent Mark Sweep``...): the collector;
- ``GC(7) Pause Young (Normal) (G1 Evacuation Pause) 4928M->2496M(8192M) 23.456ms``: one
  pause, its kind (``Young``, ``Full``, ``Remark``, ``Cleanup``, ``Initial Mark``...), the heap
  before and after it and the heap's capacity, and its duration. The ``[gc,start]`` line of
  the same pause has no duration and is not counted;
- ``Minimum heap N  Initial heap N  Maximum heap N`` (``gc+heap`` debug, selected by
  ``heap*=trace``) or ``Heap Max Capacity: 8G`` (``gc+init``): the maximum heap;
- ``Safepoint "G1CollectForAllocation", Time since last: ..., Total: 2332265 ns`` (JDK 17) or
  ``Total time for which application threads were stopped: 0.0148771 seconds, ...`` (JDK 11):
  one safepoint and how long the application was stopped.

Concurrent phases (``Concurrent Mark Cycle 12.3ms``) are not pauses and are not counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DECORATIONS = re.compile(r"^(?:\[[^\]\n]*\])+ ?")
_SIZE = r"(\d+)([BKMGT]?)"
_PAUSE = re.compile(
    r"^GC\(\d+\) Pause (?P<kind>[A-Z][A-Za-z]*(?: [A-Z][A-Za-z]*)*)"
    r"(?: \((?:[^()]|\([^()]*\))*\))*"  # (Normal) (G1 Evacuation Pause) (System.gc())
    rf"(?: {_SIZE}->{_SIZE}\({_SIZE}\))?"
    r" (?P<ms>\d+(?:\.\d+)?)ms$"
)
_COLLECTOR = re.compile(
    r"^Using (?P<name>G1|Serial|Parallel|Concurrent Mark Sweep|Shenandoah|"
    r"The Z Garbage Collector|Epsilon)$"
)
_MAX_HEAP = re.compile(
    r"^(?:Minimum heap \d+\s+Initial heap \d+\s+Maximum heap (?P<bytes>\d+)"
    rf"|Heap Max Capacity: {_SIZE})$"
)
_SAFEPOINT_17 = re.compile(r'^Safepoint "[^"]*", .*\bTotal: (?P<ns>\d+) ns$')
_SAFEPOINT_11 = re.compile(
    r"^Total time for which application threads were stopped: (?P<s>\d+(?:\.\d+)?) seconds"
)
# The first decoration of a unified-logging line: time, utctime, uptime(millis/nanos), pid, tid
# or level (``[2026-12-02T02:15:31.472+0000]``, ``[0.005s]``, ``[6911]``, ``[info ]``).
_UNIFIED = re.compile(r"^\[(?:\d{4}-\d\d-\d\dT[^\]]+|\d+(?:\.\d+)?(?:s|ms|ns)?|[a-z]+) *\]")
_JAVA8 = re.compile(r"^(?:\S+: )?\d+\.\d+: \[(?:GC|Full GC)")
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}

# A line can only matter if it holds one of these (found on bytes, before any decoding).
KEYWORDS = re.compile(
    rb'Pause |Using |Safepoint "|Total time for which|Maximum heap|Heap Max Capacity'
)


def candidate_lines(data: bytes) -> list[bytes]:
    """The lines of ``data`` (complete lines) that hold a keyword, found in one C-level scan:
    most of Cassandra's gc.log is heap and age tracing that never matters here."""
    found: list[bytes] = []
    last_end = -1
    for match in KEYWORDS.finditer(data):
        if match.start() < last_end:
            continue  # a second keyword on a line already taken
        start = data.rfind(b"\n", 0, match.start()) + 1
        end = data.find(b"\n", match.end())
        last_end = len(data) if end < 0 else end
        found.append(data[start:last_end])
    return found


@dataclass(frozen=True)
class Pause:
    kind: str  # Young, Full, Remark, Cleanup, Initial Mark...
    seconds: float
    heap_before: int | None  # bytes
    heap_after: int | None
    heap_capacity: int | None


@dataclass(frozen=True)
class Collector:
    name: str


@dataclass(frozen=True)
class MaxHeap:
    bytes: int


@dataclass(frozen=True)
class Safepoint:
    seconds: float


Event = Pause | Collector | MaxHeap | Safepoint


def message(line: str) -> str:
    """The text after the leading ``[decoration]`` groups, without the line end."""
    return _DECORATIONS.sub("", line, count=1).rstrip("\r\n")


def _bytes(number: str | None, unit: str | None) -> int | None:
    return None if number is None else int(number) * _UNITS[unit or ""]


def parse_message(text: str) -> Event | None:
    """The event a log message reports, or None for every other message."""
    if text.startswith("GC("):
        match = _PAUSE.match(text)
        if match is None:
            return None
        groups = match.groups()
        return Pause(
            kind=match["kind"],
            seconds=float(match["ms"]) / 1000.0,
            heap_before=_bytes(groups[1], groups[2]),
            heap_after=_bytes(groups[3], groups[4]),
            heap_capacity=_bytes(groups[5], groups[6]),
        )
    if (match := _SAFEPOINT_17.match(text)) is not None:
        return Safepoint(int(match["ns"]) / 1e9)
    if (match := _SAFEPOINT_11.match(text)) is not None:
        return Safepoint(float(match["s"]))
    if (match := _COLLECTOR.match(text)) is not None:
        return Collector(match["name"])
    if (match := _MAX_HEAP.match(text)) is not None:
        if match["bytes"] is not None:
            return MaxHeap(int(match["bytes"]))
        return MaxHeap(_bytes(match.group(2), match.group(3)) or 0)
    return None


def parse_line(line: str) -> Event | None:
    """The event one log line reports (decorations stripped first), or None."""
    return parse_message(message(line))


def is_unified_logging(line: str) -> bool:
    """True for a line in JDK unified-logging form: a known decoration, or a ``GC(12)`` id."""
    return _UNIFIED.match(line) is not None or message(line).startswith("GC(")


def looks_like_java8(line: str) -> bool:
    """True for a Java 8 ``-Xloggc`` line (``2024-...: 1.234: [GC (Allocation Failure) ...``)."""
    return _JAVA8.match(line) is not None

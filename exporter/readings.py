"""What each source read, as plain immutable values (no driver or HTTP objects)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EndpointId:
    """A node as seen in gossip: its address and where it lives."""

    address: str
    dc: str
    rack: str


@dataclass(frozen=True)
class GossipEntry:
    """One row of ``system_views.gossip_info`` (or of ``system.peers_v2`` on 4.0)."""

    endpoint: EndpointId
    generation: int | None
    heartbeat: int | None
    status: str | None  # first field of STATUS_WITH_PORT / STATUS: NORMAL, shutdown, LEFT...


@dataclass(frozen=True)
class LocalNode:
    host_id: str
    endpoint: EndpointId
    release_version: str
    cluster_name: str


@dataclass(frozen=True)
class ThreadPool:
    name: str
    active: int
    pending: int
    blocked: int
    completed_total: int
    blocked_total: int


@dataclass(frozen=True)
class CqlReading:
    local: LocalNode
    gossip: tuple[GossipEntry, ...]
    gossip_from_peers: bool  # True on nodes without system_views.gossip_info (4.0)
    phi_convict_threshold: float
    thread_pools: tuple[ThreadPool, ...]
    native_clients: int
    pending_hints: tuple[tuple[EndpointId, int], ...]


@dataclass(frozen=True)
class MemoryArea:
    used: float
    committed: float
    max: float  # -1 when the JVM has no limit, as JMX reports it


@dataclass(frozen=True)
class GcTotals:
    collections: int
    seconds: float


@dataclass(frozen=True)
class HintFigures:
    """Hints this node wrote as a coordinator and delivered (Jolokia, Storage/HintsService)."""

    written: int  # Storage TotalHints
    in_progress: int  # Storage TotalHintsInProgress
    created: dict[str, int]  # target address -> hints created for it (HintedHandOffManager)
    delivered: dict[str, int]  # succeeded|failed|timed_out -> hints (HintsService)


@dataclass(frozen=True)
class JolokiaReading:
    memory: dict[str, MemoryArea]  # area (heap, nonheap) -> figures
    gc: dict[str, GcTotals]  # collector bean name -> totals
    threads: int
    endpoint_up: dict[str, bool]  # address -> failure detector verdict
    endpoint_phi: dict[str, float]
    client_request_failures: dict[tuple[str, str, str], int] = field(default_factory=dict)
    # (operation read|write, consistency level, kind unavailable|timeout|failure) -> count
    hints: HintFigures | None = None


@dataclass(frozen=True)
class ProcReading:
    pid: int
    resident_bytes: int
    cpu_seconds: float
    threads: int


@dataclass(frozen=True)
class HeapFigures:
    """The heap as the last collection in the GC log left it."""

    used_after_gc: int | None  # bytes in use right after the last pause (None before one)
    capacity: int | None  # committed heap at that pause
    max: int | None  # -Xmx, from the log's start-up lines (None when not in the files read)


@dataclass(frozen=True)
class GcLogReading:
    path: str
    collector: str | None  # "G1", "Serial", "Parallel", "Concurrent Mark Sweep"...
    pauses: dict[str, GcTotals]  # "<collector> <pause kind>" (G1 Young, G1 Remark...) -> totals
    heap: HeapFigures | None = None
    safepoints: GcTotals | None = None  # every stop of the application threads

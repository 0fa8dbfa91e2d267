"""Query tracing: what ``TRACING ON`` in cqlsh (and a driver's ``trace=True``) shows.

A request whose frame has the tracing flag gets a session (a time-based UUID sent back in the
RESULT frame, as ``Tracing``/``TraceState`` do); its events land in ``system_traces.sessions``
and ``system_traces.events`` (TraceKeyspace's columns). The events tell the teaching story
of the request in plain words: the coordinator parsing it, which replicas it contacts for
the consistency level, each replica's answer or silence, hints written for replicas it sees
down, a read repair when the replicas it read from disagree, and the outcome. Sessions are kept
in memory, the newest 1,000.

A read repair is traced in Cassandra 5.0's own words (``AbstractReadExecutor``,
``AbstractReadRepair``, ``BlockingPartitionRepair``): ``Digest mismatch: Mismatch for key
DecoratedKey(<token>, <key hex>)``, ``Enqueuing full data read to <replica>`` for each replica
read from but the coordinator (its own read is local), and ``Sending read-repair-mutation to
<replica>`` for each replica whose data differed, a replica printed as Cassandra's ``Replica``
is: ``Full(/<address>:7000,(<left token>,<right token>])``, its vnode range holding the key.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from rackpanel.simulator.cluster.coordinator import ReadRepair
from rackpanel.simulator.cluster.model import STORAGE_PORT

KEPT_SESSIONS = 1000
_THREAD = "Native-Transport-Requests-1"


def time_uuid(at: float | None = None) -> uuid.UUID:
    """A version-1 UUID for ``at`` (seconds), as Cassandra's TimeUUID."""
    at = time.time() if at is None else at
    intervals = int(at * 1e7) + 0x01B21DD213814000
    node = uuid.getnode()
    clock = uuid.uuid4().int & 0x3FFF
    return uuid.UUID(
        fields=(
            intervals & 0xFFFFFFFF,
            (intervals >> 32) & 0xFFFF,
            ((intervals >> 48) & 0x0FFF) | 0x1000,
            ((clock >> 8) & 0x3F) | 0x80,
            clock & 0xFF,
            node,
        )
    )


@dataclass
class Session:
    session_id: uuid.UUID
    coordinator: str
    client: str
    request: str
    parameters: dict[str, str]
    started: float = field(default_factory=time.time)
    duration: int | None = None  # microseconds, set when the request ends
    events: list[dict[str, Any]] = field(default_factory=list)

    def event(self, activity: str, source: str | None = None, thread: str = _THREAD) -> None:
        now = time.time()
        self.events.append(
            {
                "session_id": self.session_id,
                "event_id": time_uuid(now),
                "activity": activity,
                "source": source or self.coordinator,
                "source_elapsed": int((now - self.started) * 1e6),
                "source_port": STORAGE_PORT,
                "thread": thread,
            }
        )

    def finish(self) -> None:
        self.duration = max(1, int((time.time() - self.started) * 1e6))

    def row(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "client": self.client,
            "command": "QUERY",
            "coordinator": self.coordinator,
            "coordinator_port": STORAGE_PORT,
            "duration": self.duration,
            "parameters": self.parameters,
            "request": self.request,
            "started_at": int(self.started * 1000),
        }


class TraceStore:
    def __init__(self) -> None:
        self.sessions: OrderedDict[uuid.UUID, Session] = OrderedDict()

    def start(self, coordinator: str, client: str, request: str, params: dict) -> Session:
        session = Session(time_uuid(), coordinator, client, request, params)
        self.sessions[session.session_id] = session
        while len(self.sessions) > KEPT_SESSIONS:
            self.sessions.popitem(last=False)
        return session

    def rows(self, table: str) -> list[dict[str, Any]]:
        if table == "sessions":
            return [s.row() for s in self.sessions.values() if s.duration is not None]
        if table == "events":
            return [e for s in self.sessions.values() for e in s.events]
        return []


def replica_events(
    session: Session,
    cluster: Any,
    coordinator: Any,
    replication: Any,
    key: bytes,
    cl: Any,
    write: bool,
) -> None:
    """Each replica of ``key`` as the coordinator sees it: contacted and answering, silent
    (power cut or DC link down), not needed by the consistency level (reads contact only the
    closest replicas the level needs), or DOWN in its failure detector (not contacted; a hint
    for a write). Uses the coordinator's own plan, so the story is the one the request ran."""
    repl = cluster.replication(replication)
    replicas, reqs = cluster._plan(repl, key, cl, coordinator.dc)
    contacted = replicas if write else cluster._read_plan(coordinator, replicas, reqs)[0]
    what, stage = ("MUTATION", "MutationStage-1") if write else ("READ", "ReadStage-1")
    here = coordinator.address
    names = ", ".join(f"/{r.address} ({r.dc}/{r.rack})" for r in replicas)
    session.event(f"Replicas of token {cluster.token(key)}: {names}")
    for r in replicas:
        work = "Appending to commitlog" if write else "Executing single-partition query"
        if not cluster.is_alive(coordinator, r):
            hint = "; hint written for it" if write else ""
            session.event(f"/{r.address} is DOWN in this node's view: not contacted{hint}")
        elif r not in contacted:
            session.event(f"/{r.address} not contacted: {cl.name} needs no more replicas")
        elif r is coordinator:
            session.event(f"{work} (the coordinator is a replica)")
        elif not r.powered or not cluster.reachable(coordinator, r):
            session.event(f"Sending {what} message to /{r.address}")
            session.event(f"No answer from /{r.address} (power cut or DC link down)")
        else:
            session.event(f"Sending {what} message to /{r.address}")
            session.event(f"{what} message received from /{here}", r.address, stage)
            session.event(work, r.address, stage)
            session.event(f"Enqueuing response to /{here}", r.address, stage)
            session.event(f"Processing response from /{r.address}")


def read_repair_events(
    session: Session, cluster: Any, coordinator: Any, repair: ReadRepair
) -> None:
    """The coordinator's story of a read whose replicas disagreed, as Cassandra traces it: the
    digest mismatch, a full data read from each replica read from, and the merged partition
    written back to each replica that was out of date."""
    tok = cluster.token(repair.key)
    left, right = cluster.ring.range_of(tok)

    def replica(node: Any) -> str:
        return f"Full(/{cluster.endpoint(node)},({left},{right}])"

    session.event(f"Digest mismatch: Mismatch for key DecoratedKey({tok}, {repair.key.hex()})")
    for node in repair.read_from:
        if node is not coordinator:
            session.event(f"Enqueuing full data read to {replica(node)}")
    for node in repair.repaired:
        session.event(f"Sending read-repair-mutation to {replica(node)}")

"""TRACING ON in the real cqlsh 6.2.2: the request gets a session id (Tracing/TraceState), the
trace is read back from system_traces.sessions and .events (TraceKeyspace's columns), and its
events say which replicas the coordinator contacted and which answered. The real driver's
trace of a read whose replicas disagree shows the read repair in Cassandra 5.0's words."""

from __future__ import annotations

import re
import struct
import uuid

from cassandra import ConsistencyLevel as CL
from cassandra.query import SimpleStatement

from tests.support.cqlsh import piped
from tests.support.sim import create_keyspace, pinned_session
from tests.support.waiting import wait_for
from tests.test_sim_events import view_of

SETUP = (
    "CREATE KEYSPACE IF NOT EXISTS trace_ks WITH replication = "
    "{'class': 'NetworkTopologyStrategy', 'DC1': 3, 'DC2': 3};\n"
    "CREATE TABLE IF NOT EXISTS trace_ks.kv (k int PRIMARY KEY, v int);\n"
)


def test_tracing_shows_the_coordinator_and_each_replica(sim, tmp_path):
    out = piped(
        sim,
        tmp_path,
        SETUP + "TRACING ON;\nCONSISTENCY LOCAL_QUORUM;\n"
        "INSERT INTO trace_ks.kv (k, v) VALUES (1, 1);\nSELECT * FROM trace_ks.kv WHERE k = 1;\n",
    )
    assert out.count("Tracing session: ") == 2
    assert "Parsing INSERT INTO trace_ks.kv (k, v) VALUES (1, 1);" in out
    assert "at LOCAL_QUORUM" in out
    assert out.count("Sending MUTATION message to /") == 6  # a write goes to every replica
    assert "Appending to commitlog [MutationStage-1]" in out
    # a LOCAL_QUORUM read contacts the two closest DC1 replicas only
    assert out.count("Sending READ message to /") == 2
    assert out.count("not contacted: LOCAL_QUORUM needs no more replicas") == 4
    assert "Request complete" in out


def test_tracing_names_the_replicas_that_stay_silent_or_are_down(sim, tmp_path):
    piped(sim, tmp_path, SETUP)
    sim.power("off", "DC2")
    out = piped(
        sim,
        tmp_path,
        "TRACING ON;\nCONSISTENCY ONE;\nINSERT INTO trace_ks.kv (k, v) VALUES (2, 2);\n",
    )
    silent = out.count("(power cut or DC link down)")
    down = out.count("is DOWN in this node's view: not contacted; hint written for it")
    assert silent + down == 3  # DC2's three replicas, silent until convicted, then DOWN


REPLICA = re.compile(r"Full\(/([\d.]+):7000,\((-?\d+),(-?\d+)\]\)")  # Cassandra's Replica


def replica_names(sim, session, key: int) -> list[str]:
    """Inventory names of trace_ks.kv's replicas of ``key``, as the driver's token map has them."""
    hosts = session.cluster.metadata.get_replicas("trace_ks", struct.pack(">i", key))
    by_address = {str(p.sim_address): p.name for p in sim.inventory.nodes()}
    return [by_address[h.address] for h in hosts]


def traced_read(session, key: int) -> list[str]:
    """The activities of a read of ``key`` at ALL (every replica is read), traced."""
    select = SimpleStatement("SELECT v FROM trace_ks.kv WHERE k = %s", consistency_level=CL.ALL)
    result = session.execute(select, [key], trace=True)
    assert result.one().v == 2
    return [event.description for event in result.get_query_trace(max_wait_sec=10).events]


def write_missed_by(sim, stale: str, writer: str, key: int) -> None:
    """``key`` written everywhere (v=1), then again at ONE through ``writer`` (v=2) while
    ``stale`` is off; ``writer``, holding the hint for ``stale``, is then turned off (so the
    hint stays undelivered) and ``stale`` on again."""
    cluster, session = pinned_session(sim, writer, "trace_ks")
    try:
        session.execute("INSERT INTO trace_ks.kv (k, v) VALUES (%s, 1)", [key])
        sim.power("off", stale)
        insert = "INSERT INTO trace_ks.kv (k, v) VALUES (%s, 2)"
        session.execute(SimpleStatement(insert, consistency_level=CL.ONE), [key])
    finally:
        cluster.shutdown()
    sim.power("off", writer)
    sim.power("on", stale)


def named(events: list[str], prefix: str) -> list[tuple[str, int, int]]:
    """(address, range left, range right) of the replica each event with ``prefix`` names."""
    found = [REPLICA.fullmatch(e.removeprefix(prefix)) for e in events if e.startswith(prefix)]
    assert all(found), events
    return [(m[1], int(m[2]), int(m[3])) for m in found if m]


def holds(left: int, right: int, token: int) -> bool:
    """Whether the token range (left, right] holds ``token`` (the last range wraps)."""
    return left < token <= right if left < right else token > left or token <= right


def test_a_traced_read_whose_replicas_disagree_shows_the_read_repair(sim):
    """A read at ALL from a DC1 replica after a DC2 replica missed a write: the coordinator
    traces the digest mismatch (AbstractReadExecutor), a full data read from each other
    replica (AbstractReadRepair; its own read is local) and a repair mutation to the one
    replica that missed the write (BlockingPartitionRepair); a second read finds them equal."""
    key = 1000 + uuid.uuid4().int % 1_000_000
    cluster, session = pinned_session(sim, "rpidc1r1n1")
    try:
        create_keyspace(session, "trace_ks", "kv (k int PRIMARY KEY, v int)")
        replicas = replica_names(sim, session, key)
        token = cluster.metadata.token_map.token_class.from_key(struct.pack(">i", key)).value
    finally:
        cluster.shutdown()
    reader = next(n for n in replicas if n.startswith("rpidc1"))
    stale = next(n for n in replicas if n.startswith("rpidc2"))
    writer = next(p.name for p in sim.inventory.nodes() if p.name not in replicas)
    address = {p.name: str(p.sim_address) for p in sim.inventory.nodes()}
    try:
        write_missed_by(sim, stale, writer, key)
        wait_for(lambda: view_of(sim, reader, stale) == "UP", 20, f"{reader} seeing {stale} UP")
        cluster, session = pinned_session(sim, reader)
        try:
            events, again = traced_read(session, key), traced_read(session, key)
        finally:
            cluster.shutdown()
    finally:
        sim.reset()
    assert f"Digest mismatch: Mismatch for key DecoratedKey({token}, {key:08x})" in events
    enqueued = named(events, "Enqueuing full data read to ")
    repaired = named(events, "Sending read-repair-mutation to ")
    assert sorted(a for a, _, _ in enqueued) == sorted(address[n] for n in replicas if n != reader)
    assert [a for a, _, _ in repaired] == [address[stale]]
    assert all(holds(left, right, token) for _, left, right in enqueued + repaired)
    assert not [e for e in again if "Digest mismatch" in e or "read-repair" in e]

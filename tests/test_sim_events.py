"""Failure detection as a driver lives it: DOWN/UP events after conviction, a crash noticed at
once, hints kept for a convicted replica and replayed when it returns, and a replica that
missed writes (beyond max_hint_window) giving a stale read at ONE but not at QUORUM."""

from __future__ import annotations

import time
import uuid

import pytest
from cassandra import ConsistencyLevel as CL
from cassandra import ReadTimeout
from cassandra.query import SimpleStatement

from tests.support.inventories import shifted_inventory
from tests.support.lab import loopback_octet
from tests.support.sim import (
    create_keyspace,
    driver_cluster,
    pinned_session,
    running_simulator,
)
from tests.support.waiting import seconds_until

KEYSPACE = "event_tests"
TABLE = "kv (k text PRIMARY KEY, v int)"


def view_of(sim, observer: str, node: str) -> str:
    nodes = {n["name"]: n for n in sim.state()["nodes"]}
    return nodes[node]["views"][observer]


def host(cluster, sim, name: str):
    return cluster.metadata.get_host(str(sim.inventory.node(name).sim_address))


def test_down_then_up_events_reach_the_driver(sim):
    cluster, _ = pinned_session(sim, "rpidc1r1n1")  # the driver holds no connection to the others
    try:
        target = host(cluster, sim, "rpidc2r1n3")
        assert target.is_up is not False  # None: known from system.peers, never connected
        sim.power("off", "rpidc2r1n3")
        took = seconds_until(lambda: target.is_up is False, 20, "DOWN event applied")
        assert took > 1.0  # only after the failure detector convicted it
        assert view_of(sim, "rpidc1r1n1", "rpidc2r1n3") == "DOWN"
        sim.power("on", "rpidc2r1n3")
        seconds_until(lambda: target.is_up, 10, "UP event applied")
    finally:
        cluster.shutdown()


def test_a_crash_is_noticed_at_once_by_connected_clients(sim):
    cluster = driver_cluster(sim, "DC1")
    try:
        session = cluster.connect()
        target = host(cluster, sim, "rpidc1r2n1")
        assert target.is_up
        sim.power("off", "rpidc1r2n1", crash=True)
        started = time.monotonic()
        for _ in range(12):  # round robin over DC1: some requests pick the crashed node
            session.execute("SELECT key FROM system.local")
        assert target.is_up is False
        # the RST, not the failure detector (~4.6 s in fast mode) nor a request timeout
        assert time.monotonic() - started < 2
    finally:
        cluster.shutdown()


def test_hints_for_a_convicted_replica_are_replayed_when_it_returns(sim):
    cluster, session = pinned_session(sim, "rpidc1r1n1")
    try:
        create_keyspace(session, KEYSPACE, TABLE)
        key = f"hinted-{uuid.uuid4()}"
        sim.power("off", "rpidc2r1n3")
        seconds_until(lambda: view_of(sim, "rpidc1r1n1", "rpidc2r1n3") == "DOWN", 20, "conviction")
        write = SimpleStatement(
            f"INSERT INTO {KEYSPACE}.kv (k, v) VALUES (%s, 7)", consistency_level=CL.LOCAL_QUORUM
        )
        session.execute(write, [key])
        hints = sim.state()["hints"]
        assert {"holder": "rpidc1r1n1", "target": "rpidc2r1n3", "count": 1} in hints
        sim.power("on", "rpidc2r1n3")
        # the holder learns the new generation by gossip (a few rounds), then replays
        seconds_until(
            lambda: not [h for h in sim.state()["hints"] if h["target"] == "rpidc2r1n3"],
            10,
            "hint replay",
        )
    finally:
        cluster.shutdown()
    cluster, session = pinned_session(sim, "rpidc2r1n3")  # a DC2 node holds every DC2 replica
    try:
        read = SimpleStatement(
            f"SELECT v FROM {KEYSPACE}.kv WHERE k = %s", consistency_level=CL.ONE
        )
        assert session.execute(read, [key]).one().v == 7
    finally:
        cluster.shutdown()


@pytest.fixture
def short_hint_window(tmp_path):
    k = loopback_octet()
    admin = f"127.{k}.0.1:9499"
    settings = {
        "failure_detector": "fast",
        "max_hint_window_seconds": 0.5,
        "read_request_timeout_seconds": 1.0,
        "admin_address": admin,
    }
    path = shifted_inventory(tmp_path, k, simulator=settings)
    with running_simulator(path, admin=admin, extra_args=["--no-jolokia"]) as handle:
        yield handle


def test_replica_that_missed_writes_reads_stale_at_one_not_at_quorum(short_hint_window):
    sim = short_hint_window
    cluster, session = pinned_session(sim, "rpidc1r1n1")
    try:
        create_keyspace(session, KEYSPACE, TABLE)
        insert = f"INSERT INTO {KEYSPACE}.kv (k, v) VALUES ('lagging', %s)"
        session.execute(SimpleStatement(insert, consistency_level=CL.ALL), [1])
        sim.power("off", "rpidc2r1n3")
        seconds_until(lambda: view_of(sim, "rpidc1r1n1", "rpidc2r1n3") == "DOWN", 20, "conviction")
        time.sleep(1.0)  # beyond max_hint_window: no more hints for it
        session.execute(SimpleStatement(insert, consistency_level=CL.QUORUM), [2])
        assert not sim.state()["hints"]
        sim.power("on", "rpidc2r1n3")
    finally:
        cluster.shutdown()
    cluster, session = pinned_session(sim, "rpidc2r1n3")
    try:
        select = f"SELECT v FROM {KEYSPACE}.kv WHERE k = 'lagging'"
        assert session.execute(SimpleStatement(select, consistency_level=CL.ONE)).one().v == 1
        assert session.execute(SimpleStatement(select, consistency_level=CL.QUORUM)).one().v == 2
        # the QUORUM read repaired the lagging replica
        assert session.execute(SimpleStatement(select, consistency_level=CL.ONE)).one().v == 2
    finally:
        cluster.shutdown()


def test_read_from_an_unconvicted_dead_replica_times_out(short_hint_window):
    sim = short_hint_window
    cluster, session = pinned_session(sim, "rpidc1r1n1")
    try:
        create_keyspace(session, KEYSPACE, TABLE)
        session.execute(f"INSERT INTO {KEYSPACE}.kv (k, v) VALUES ('r', 1)")
        sim.power("off", "rpidc2r1n2")  # silent, and not convicted yet
        select = f"SELECT v FROM {KEYSPACE}.kv WHERE k = 'r'"
        assert session.execute(SimpleStatement(select, consistency_level=CL.QUORUM)).one().v == 1
        started = time.monotonic()
        with pytest.raises(ReadTimeout) as failure:
            session.execute(SimpleStatement(select, consistency_level=CL.ALL))
        assert 0.9 <= time.monotonic() - started < 4  # read_request_timeout_seconds: 1.0
        assert (failure.value.received_responses, failure.value.required_responses) == (5, 6)
    finally:
        cluster.shutdown()

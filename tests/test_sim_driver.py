"""The unmodified cassandra-driver against the simulator over real TCP: connection with the
protocol probe and with v4, topology and schema metadata, DDL with schema agreement, prepared
statements routed to replicas, paging, batches, LWT, errors."""

from __future__ import annotations

import datetime
import ipaddress
import logging
import time
import uuid

import pytest
from cassandra import InvalidRequest
from cassandra.cluster import Cluster
from cassandra.protocol import SyntaxException
from cassandra.query import BatchStatement, SimpleStatement

from tests.support.sim import driver_cluster, keyspace_session

KEYSPACE = "driver_tests"


@pytest.fixture(scope="module", params=[4, 5], ids=["v4", "v5"])
def session(simulator, request):
    """A session speaking protocol v4, then v5 (checksummed segments): every test runs on both."""
    with keyspace_session(simulator, KEYSPACE, protocol_version=request.param) as session:
        yield session


def test_default_connection_negotiates_v5_and_sees_the_ring(sim):
    cluster = Cluster(sim.contact_points("DC2")[:1], connect_timeout=5)
    try:
        session = cluster.connect()
        assert cluster.protocol_version == 5  # after the driver's DSE_V2, DSE_V1 probes
        hosts = {h.address: h for h in cluster.metadata.all_hosts()}
        assert len(hosts) == 9
        for place in sim.inventory.nodes():
            host = hosts[str(place.sim_address)]
            assert (host.datacenter, host.rack) == (place.dc, place.rack)
            assert host.release_version == sim.inventory.cluster.cassandra_version
        tokens = cluster.metadata.token_map.ring
        assert len(tokens) == 9 * sim.inventory.cluster.num_tokens
        local = session.execute("SELECT * FROM system.local WHERE key='local'").one()
        assert local.cluster_name == sim.inventory.cluster.name
        assert local.data_center == "DC2"
    finally:
        cluster.shutdown()


def test_protocol_v4_connection_and_system_keyspaces(sim):
    cluster = Cluster(sim.contact_points("DC1")[:1], protocol_version=4, connect_timeout=5)
    try:
        cluster.connect()
        keyspaces = set(cluster.metadata.keyspaces)
        assert {"system", "system_schema", "system_views", "system_virtual_schema"} <= keyspaces
        views = cluster.metadata.keyspaces["system_views"]
        assert views.virtual and "gossip_info" in views.tables
        assert "heartbeat" in views.tables["gossip_info"].columns
    finally:
        cluster.shutdown()


def test_ddl_is_visible_in_the_driver_metadata_without_waiting(session):
    started = time.monotonic()
    session.execute(
        "CREATE TABLE IF NOT EXISTS events (day text, at timeuuid, who text, n bigint, "
        "PRIMARY KEY ((day), at)) WITH CLUSTERING ORDER BY (at DESC)"
    )
    assert time.monotonic() - started < 5  # schema agreement, not the 10 s wait
    assert session.cluster.control_connection.wait_for_schema_agreement(wait_time=1)
    table = session.cluster.metadata.keyspaces[KEYSPACE].tables["events"]
    assert [c.name for c in table.partition_key] == ["day"]
    assert [c.name for c in table.clustering_key] == ["at"]
    assert table.columns["n"].cql_type == "bigint"
    assert table.clustering_key[0].is_reversed
    strategy = session.cluster.metadata.keyspaces[KEYSPACE].replication_strategy
    assert strategy.dc_replication_factors == {"DC1": 3, "DC2": 3}


def test_all_basic_types_round_trip(session):
    session.execute(
        "CREATE TABLE IF NOT EXISTS typed (id uuid PRIMARY KEY, t text, i int, b bigint, "
        "ok boolean, d double, ts timestamp, tu timeuuid, blb blob, ip inet)"
    )
    row = {
        "id": uuid.uuid4(),
        "t": "héllo",
        "i": -42,
        "b": 2**40,
        "ok": True,
        "d": 3.25,
        "ts": datetime.datetime(2024, 5, 6, 7, 8, 9, 123000),
        "tu": uuid.uuid1(),
        "blb": b"\x00\xffbytes",
        "ip": "10.1.2.3",
    }
    names = ", ".join(row)
    insert = session.prepare(f"INSERT INTO typed ({names}) VALUES ({', '.join('?' * len(row))})")
    session.execute(insert, list(row.values()))
    got = session.execute("SELECT * FROM typed WHERE id = %s", [row["id"]]).one()
    assert got._asdict() == row


def test_prepared_statements_carry_pk_index_and_route_to_a_replica(session):
    session.execute("CREATE TABLE IF NOT EXISTS kv (k text PRIMARY KEY, v int)")
    insert = session.prepare("INSERT INTO kv (k, v) VALUES (?, ?)")
    assert insert.routing_key_indexes == [0]
    metadata = session.cluster.metadata
    for i in range(20):
        future = session.execute_async(insert, (f"key-{i}", i))
        future.result()
        replicas = metadata.get_replicas(KEYSPACE, insert.bind((f"key-{i}", i)).routing_key)
        assert future.coordinator_host in replicas
        assert future.coordinator_host.datacenter == "DC1"
    select = session.prepare("SELECT v FROM kv WHERE k = ?")
    assert select.routing_key_indexes == [0]
    assert session.execute(select, ["key-7"]).one().v == 7


def test_full_scan_pages_through_every_row(session):
    session.execute("CREATE TABLE IF NOT EXISTS paged (k int PRIMARY KEY, v text)")
    insert = session.prepare("INSERT INTO paged (k, v) VALUES (?, ?)")
    for i in range(95):
        session.execute(insert, (i, str(i)))
    result = session.execute(SimpleStatement("SELECT k FROM paged", fetch_size=10))
    assert len(result.current_rows) == 10 and result.has_more_pages
    keys = [row.k for row in result]
    assert sorted(keys) == list(range(95))
    assert len(session.execute("SELECT k FROM paged LIMIT 7").all()) == 7
    assert session.execute("SELECT count(*) FROM paged").one().count == 95


def test_clustering_order_ranges_and_deletes(session):
    session.execute(
        "CREATE TABLE IF NOT EXISTS series (p int, c int, v text, PRIMARY KEY (p, c)) "
        "WITH CLUSTERING ORDER BY (c DESC)"
    )
    batch = BatchStatement()
    insert = session.prepare("INSERT INTO series (p, c, v) VALUES (?, ?, ?)")
    for c in range(6):
        batch.add(insert, (1, c, f"v{c}"))
    session.execute(batch)
    assert [r.c for r in session.execute("SELECT c FROM series WHERE p = 1")] == [5, 4, 3, 2, 1, 0]
    rows = session.execute("SELECT c FROM series WHERE p = 1 AND c >= 2 AND c < 5 ORDER BY c ASC")
    assert [r.c for r in rows] == [2, 3, 4]
    session.execute("DELETE FROM series WHERE p = 1 AND c = 3")
    session.execute("UPDATE series USING TTL 100 SET v = 'new' WHERE p = 1 AND c = 0")
    rows = session.execute("SELECT c, v, ttl(v) FROM series WHERE p = 1").all()
    assert [r.c for r in rows] == [5, 4, 2, 1, 0]
    assert rows[-1].v == "new" and 0 < rows[-1].ttl_v <= 100
    session.execute("DELETE FROM series WHERE p = 1")
    assert session.execute("SELECT * FROM series WHERE p = 1").all() == []


def test_lightweight_transactions(session):
    session.execute("CREATE TABLE IF NOT EXISTS accounts (id text PRIMARY KEY, balance int)")
    first = session.execute("INSERT INTO accounts (id, balance) VALUES ('a', 10) IF NOT EXISTS")
    assert first.was_applied
    again = session.execute("INSERT INTO accounts (id, balance) VALUES ('a', 99) IF NOT EXISTS")
    assert not again.was_applied and again.one().balance == 10
    assert not session.execute(
        "UPDATE accounts SET balance = 5 WHERE id = 'a' IF balance = 9"
    ).was_applied
    assert session.execute(
        "UPDATE accounts SET balance = 5 WHERE id = 'a' IF balance = 10"
    ).was_applied
    assert session.execute("SELECT balance FROM accounts WHERE id = 'a'").one().balance == 5
    assert session.execute("DELETE FROM accounts WHERE id = 'a' IF EXISTS").was_applied
    assert not session.execute("DELETE FROM accounts WHERE id = 'a' IF EXISTS").was_applied


def test_timestamps_decide_last_write_wins(session):
    session.execute("CREATE TABLE IF NOT EXISTS lww (k int PRIMARY KEY, v text)")
    session.execute("INSERT INTO lww (k, v) VALUES (1, 'newer') USING TIMESTAMP 2000")
    session.execute("INSERT INTO lww (k, v) VALUES (1, 'older') USING TIMESTAMP 1000")
    row = session.execute("SELECT v, writetime(v) FROM lww WHERE k = 1").one()
    assert (row.v, row.writetime_v) == ("newer", 2000)


def test_errors_are_cassandra_errors(session):
    with pytest.raises(SyntaxException, match="FRM"):
        session.execute("SELECT * FRM kv")
    with pytest.raises(InvalidRequest, match="nope"):
        session.execute("SELECT * FROM nope")
    with pytest.raises(InvalidRequest, match="Invalid STRING constant"):
        session.execute("INSERT INTO kv (k, v) VALUES ('x', 'not a number')")
    with pytest.raises(InvalidRequest, match="ALLOW FILTERING"):
        session.execute("SELECT * FROM kv WHERE v = 3")
    with pytest.raises(InvalidRequest, match="partition key parts are missing"):
        session.execute("UPDATE series SET v = 'x' WHERE c = 1")
    with pytest.raises(InvalidRequest, match="ANY"):
        session.execute(SimpleStatement("SELECT * FROM kv WHERE k = 'a'", consistency_level=0))


def test_virtual_tables_for_the_exporter(session):
    rows = session.execute("SELECT * FROM system_views.gossip_info").all()
    assert len(rows) == 9
    assert all(isinstance(ipaddress.ip_address(r.address), ipaddress.IPv4Address) for r in rows)
    names = {r.name for r in session.execute("SELECT * FROM system_views.settings")}
    assert "phi_convict_threshold" in names
    columns = session.execute(
        "SELECT column_name FROM system_virtual_schema.columns "
        "WHERE keyspace_name = 'system_views' AND table_name = 'gossip_info'"
    ).all()
    assert {"heartbeat", "generation", "status_with_port"} <= {r.column_name for r in columns}
    clients = session.execute("SELECT * FROM system_views.clients").all()
    assert clients and all(c.driver_name for c in clients)


def test_a_virtual_table_read_by_some_columns_agrees_with_a_full_read(session):
    """Only the columns a query reads are serialised; what it returns is the same."""
    full = {r.address: r for r in session.execute("SELECT * FROM system_views.gossip_info")}
    some = session.execute(
        "SELECT address, generation, status_with_port, dc, rack FROM system_views.gossip_info"
    ).all()
    assert len(some) == len(full) == 9
    for row in some:
        whole = full[row.address]
        assert (row.generation, row.status_with_port, row.dc, row.rack) == (
            whole.generation, whole.status_with_port, whole.dc, whole.rack,
        )  # fmt: skip
    # restricted by a column it does not select, and one column only
    (value,) = session.execute(
        "SELECT value FROM system_views.settings WHERE name = 'phi_convict_threshold'"
    ).one()
    assert float(value) > 0
    counted = session.execute("SELECT count(*) FROM system_views.gossip_info").one()
    assert counted[0] == 9


def test_unprepared_on_another_node_is_reprepared_by_the_driver(sim, session, caplog):
    session.execute("CREATE TABLE IF NOT EXISTS kv (k text PRIMARY KEY, v int)")
    # prepare on one node only: every other coordinator answers UNPREPARED at first
    cluster = driver_cluster(sim, "DC1", prepare_on_all_hosts=False, reprepare_on_up=False)
    try:
        lonely = cluster.connect(KEYSPACE)
        marker = uuid.uuid4().int % 1_000_000  # a statement text no node has seen yet
        insert = lonely.prepare(f"INSERT INTO kv (k, v) VALUES (?, {marker})")
        caplog.set_level(logging.DEBUG, logger="cassandra.cluster")
        coordinators = set()
        for i in range(30):
            future = lonely.execute_async(insert, [f"unprepared-{marker}-{i}"])
            future.result()
            coordinators.add(future.coordinator_host.address)
        assert len(coordinators) > 1  # some went to nodes that had never seen the statement
        assert "Re-preparing unrecognized prepared statement" in caplog.text  # after UNPREPARED
        row = session.execute("SELECT v FROM kv WHERE k = %s", [f"unprepared-{marker}-29"]).one()
        assert row.v == marker
    finally:
        cluster.shutdown()


def test_frames_larger_than_a_segment_cross_both_ways(session):
    """v5 splits a frame over 128 KiB into several segments; v4 sends it whole."""
    session.execute("CREATE TABLE IF NOT EXISTS blobs (k int PRIMARY KEY, data blob)")
    payload = bytes(range(256)) * 1200  # 300 KiB
    session.execute(session.prepare("INSERT INTO blobs (k, data) VALUES (?, ?)"), [1, payload])
    assert session.execute("SELECT data FROM blobs WHERE k = 1").one().data == payload


def test_a_prepared_insert_follows_the_schema_as_it_changes(session):
    """A statement's table and INSERT shape are looked up once per schema version: an ALTER
    or a DROP after the PREPARE must still be seen by the next EXECUTE."""
    session.execute("DROP TABLE IF EXISTS evolving")
    session.execute("CREATE TABLE evolving (k text PRIMARY KEY, v int)")
    insert = session.prepare("INSERT INTO evolving (k, v) VALUES (?, ?)")
    session.execute(insert, ("before", 1))
    session.execute("ALTER TABLE evolving WITH default_time_to_live = 3600")
    session.execute(insert, ("after", 2))
    ttl = {r.k: r.ttl for r in session.execute("SELECT k, TTL(v) AS ttl FROM evolving")}
    assert ttl["before"] is None and 3500 < ttl["after"] <= 3600
    session.execute("DROP TABLE evolving")
    with pytest.raises(InvalidRequest):
        session.execute(insert, ("gone", 3))
    session.execute("CREATE TABLE evolving (k text PRIMARY KEY, v int, w text)")
    session.execute(session.prepare("INSERT INTO evolving (k, v) VALUES (?, ?)"), ("new", 4))
    rows = session.execute("SELECT k, v, TTL(v) AS ttl FROM evolving").all()
    assert [(r.k, r.v, r.ttl) for r in rows] == [("new", 4, None)]  # a new table, no TTL


def test_a_prepared_insert_reads_back_alike_through_the_lane_and_the_general_path(session):
    """An untraced prepared INSERT of a new partition takes the simulator's plain-write lane;
    a traced one (or an overwrite, or an UNSET value) the general path. At the same client
    timestamp both leave the same rows, cells, nulls and write times; the lane's row is then
    overwritten, and an UNSET value keeps what was there, as the general path does."""
    from cassandra.query import UNSET_VALUE

    session.execute(
        "CREATE TABLE IF NOT EXISTS lanes (k text, at int, body text, n int, PRIMARY KEY (k, at))"
    )
    insert = session.prepare("INSERT INTO lanes (k, at, body, n) VALUES (?, ?, ?, ?)")
    lane_key, general_key = f"lane-{uuid.uuid4()}", f"general-{uuid.uuid4()}"
    clock = session.cluster.timestamp_generator
    session.cluster.timestamp_generator = lambda: 1_700_000_000_000_000
    try:
        session.execute(insert, (lane_key, 1, "hello", None))
        session.execute(insert, (general_key, 1, "hello", None), trace=True)
    finally:
        session.cluster.timestamp_generator = clock
    query = "SELECT at, body, n, WRITETIME(body) AS wt, TTL(body) AS ttl FROM lanes WHERE k = %s"
    lane, general = (session.execute(query, [k]).all() for k in (lane_key, general_key))
    assert lane == general == [(1, "hello", None, 1_700_000_000_000_000, None)]
    session.execute(insert, (lane_key, 1, "again", 5))  # held already: merged
    session.execute(insert, (lane_key, 1, UNSET_VALUE, 6))  # UNSET: the body stays
    assert [(r.body, r.n) for r in session.execute(query, [lane_key])] == [("again", 6)]


def test_truncate_empties_a_table(session):
    session.execute("CREATE TABLE IF NOT EXISTS scratch (k int PRIMARY KEY, v int)")
    for k in range(5):
        session.execute("INSERT INTO scratch (k, v) VALUES (%s, 0)", [k])
    session.execute("TRUNCATE scratch")
    assert session.execute("SELECT * FROM scratch").all() == []


def test_aggregates_and_distinct(session):
    session.execute(
        "CREATE TABLE IF NOT EXISTS readings (s text, t int, v double, PRIMARY KEY (s, t))"
    )
    insert = session.prepare("INSERT INTO readings (s, t, v) VALUES (?, ?, ?)")
    for sensor in ("a", "b"):
        for t, v in enumerate([1.5, 4.0, 2.5]):
            session.execute(insert, [sensor, t, v])
    row = session.execute(
        "SELECT count(*), min(v), max(v), sum(v), avg(v) FROM readings WHERE s = 'a'"
    ).one()
    assert tuple(row) == (3, 1.5, 4.0, 8.0, 8.0 / 3)
    assert sorted(r.s for r in session.execute("SELECT DISTINCT s FROM readings")) == ["a", "b"]
    with pytest.raises(InvalidRequest, match="DISTINCT"):
        session.execute("SELECT DISTINCT v FROM readings")

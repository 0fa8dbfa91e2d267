"""The cluster model driven directly on an asyncio loop: consistency levels against the
demo's failure patterns, timeouts before conviction, hints, stale reads, LWT, storage
semantics, gossip and the failure detector, power targets and the system_views rows.

The expected outcomes come from Cassandra's rules as stated in
shared/design/cassandra-facts.md §4, written out here independently of the model's code.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from rackpanel.simulator.cluster import SimCluster, SimNode, UnknownTarget
from rackpanel.simulator.cluster.storage import resolve
from rackpanel.simulator.cluster.views import VIEWS, ClientInfo, view_rows
from rackpanel.simulator.core import (
    Cell,
    InvalidRequest,
    Mutation,
    ReadTimeout,
    Unavailable,
    WriteTimeout,
)
from rackpanel.simulator.core import ConsistencyLevel as CL
from rackpanel.topology import Inventory

REPLICATION = {
    "class": "org.apache.cassandra.locator.NetworkTopologyStrategy",
    "DC1": "3",
    "DC2": "3",
}
RF = {"DC1": 3, "DC2": 3}
KEY = b"panel-key"
GOSSIP = 0.1  # seconds: with the fast detector (phi 2) a node is convicted after ≈ 0.46 s


def fast_cluster(inv: Inventory, **simulator: object) -> SimCluster:
    """The demo cluster with a 0.1 s gossip interval and 0.2 s request timeouts."""
    settings = {
        "failure_detector": "fast",
        "gossip_interval_seconds": GOSSIP,
        "write_request_timeout_seconds": 0.2,
        "read_request_timeout_seconds": 0.2,
    } | simulator
    sim = inv.simulator.model_copy(update=settings)
    return SimCluster.from_inventory(inv.model_copy(update={"simulator": sim}))


@contextlib.asynccontextmanager
async def running(cluster: SimCluster) -> AsyncIterator[SimCluster]:
    """The cluster with its gossip running; stopped again on the way out, failed or not."""
    await cluster.start()
    try:
        yield cluster
    finally:
        await cluster.stop()


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def row(value: bytes, ts: int, **kw) -> Mutation:
    return Mutation("ks", "t", KEY, (), {"v": Cell(value, ts)}, row_marker=ts, **kw)


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def on_status_change(self, observer: SimNode, node: SimNode, up: bool) -> None:
        self.events.append(("status", observer.name, node.name, up))

    def on_power_change(self, node: SimNode, powered: bool, crash: bool) -> None:
        self.events.append(("power", node.name, powered, crash))


# ---- Cassandra's rules, written from the facts (not from the model) ----------------------------


def cassandra_allows(cl: CL, alive: dict[str, int], coordinator_dc: str) -> bool:
    """Whether ``cl`` has enough live replicas, for RF {DC1: 3, DC2: 3}."""
    total = sum(alive.values())
    return {
        CL.ANY: True,
        CL.ONE: total >= 1,
        CL.TWO: total >= 2,
        CL.THREE: total >= 3,
        CL.QUORUM: total >= 4,
        CL.ALL: total >= 6,
        CL.LOCAL_ONE: alive[coordinator_dc] >= 1,
        CL.LOCAL_QUORUM: alive[coordinator_dc] >= 2,
        CL.EACH_QUORUM: all(alive[dc] >= 2 for dc in RF),
    }[cl]


WRITE_CLS = [
    CL.ANY,
    CL.ONE,
    CL.TWO,
    CL.THREE,
    CL.QUORUM,
    CL.ALL,
    CL.LOCAL_ONE,
    CL.LOCAL_QUORUM,
    CL.EACH_QUORUM,
]
READ_CLS = [cl for cl in WRITE_CLS if cl != CL.ANY]

# (targets powered off, links cut, coordinators)
PATTERNS = {
    "a rack": (["DC1/RAC2"], [], ["rpidc1r1n1", "rpidc2r1n1"]),
    "two racks": (["DC1/RAC1", "DC1/RAC2"], [], ["rpidc1r3n1", "rpidc2r1n2"]),
    "a DC": (["DC2"], [], ["rpidc1r2n1"]),
    "the DC link": ([], ["link:DC1-DC2"], ["rpidc1r1n2", "rpidc2r1n3"]),
}


@pytest.mark.parametrize("pattern", list(PATTERNS))
def test_every_cl_against_the_demo_failure_patterns(demo_inventory, pattern):
    off, links, coordinators = PATTERNS[pattern]

    async def scenario() -> None:
        async with running(fast_cluster(demo_inventory)) as cluster:
            for target in off + links:
                cluster.power_off(target)
            replicas = cluster.replicas(REPLICATION, cluster.token(KEY))
            for name in coordinators:
                coordinator = cluster.node(name)
                reachable = [
                    r for r in replicas if r.powered and cluster.link_up(r.dc, coordinator.dc)
                ]
                dead = [r for r in replicas if r not in reachable]
                # The coordinator's view settles: the dead convicted, and every reachable replica
                # judged up (while the cut peers still count as live, gossip sends most rounds
                # to them and is lost, so a reachable peer's heartbeats can arrive late enough
                # for the fast detector to convict it for a round, as in Cassandra).
                await until(
                    lambda c=coordinator, d=dead, a=reachable: (
                        not any(cluster.is_alive(c, r) for r in d)
                        and all(cluster.is_alive(c, r) for r in a)
                    )
                )
                alive = {dc: sum(1 for r in reachable if r.dc == dc) for dc in RF}
                for cl in WRITE_CLS:
                    allowed = cassandra_allows(cl, alive, coordinator.dc)
                    outcome = "ok"
                    try:
                        await cluster.write(coordinator, REPLICATION, [row(b"x", 1)], cl)
                    except Unavailable as exc:
                        outcome = "unavailable"
                        assert exc.alive < exc.required
                    assert outcome == ("ok" if allowed else "unavailable"), (name, "write", cl.name)
                for cl in READ_CLS:
                    allowed = cassandra_allows(cl, alive, coordinator.dc)
                    try:
                        data = await cluster.read(coordinator, REPLICATION, "ks", "t", KEY, cl)
                        outcome = "ok"
                        assert data[()]["v"].value == b"x"
                    except Unavailable:
                        outcome = "unavailable"
                    assert outcome == ("ok" if allowed else "unavailable"), (name, "read", cl.name)

    asyncio.run(scenario())


def test_thread_pools_count_every_replicas_mutations_and_the_coordinators_requests(
    demo_inventory,
):
    def completed(cluster: SimCluster, pool: str) -> dict[str, int]:
        return {
            node.name: next(
                r["completed_tasks"]
                for r in view_rows(cluster, node, "thread_pools")
                if r["name"] == pool
            )
            for node in cluster.nodes
        }

    async def write_keys(cluster: SimCluster, coordinator: SimNode, keys: list[bytes]) -> None:
        for i, key in enumerate(keys, 1):
            mutation = Mutation("ks", "t", key, (), {"v": Cell(b"x", i)}, row_marker=i)
            await cluster.write(coordinator, REPLICATION, [mutation], CL.LOCAL_QUORUM)

    def replicated(cluster: SimCluster, keys: list[bytes], up: Callable[[SimNode], bool]):
        counts = dict.fromkeys((n.name for n in cluster.nodes), 0)
        for key in keys:
            for replica in cluster.replicas(REPLICATION, cluster.token(key)):
                counts[replica.name] += up(replica)
        return counts

    async def scenario() -> None:
        async with running(fast_cluster(demo_inventory)) as cluster:
            coordinator = cluster.node("rpidc1r1n1")
            stages = ("MutationStage", "Native-Transport-Requests", "RequestResponseStage")
            before = {stage: completed(cluster, stage) for stage in stages}
            keys = [f"pool-{i}".encode() for i in range(40)]
            await write_keys(cluster, coordinator, keys)  # every replica answers
            cluster.power_off("DC2")  # then DC2's replicas are down: hinted, not applied
            await until(lambda: not cluster.sees_all_alive(coordinator))
            await until(lambda: all(not cluster.is_alive(coordinator, n) for n in cluster.nodes
                                    if n.dc == "DC2"))  # fmt: skip
            more = [f"pool-down-{i}".encode() for i in range(40)]
            await write_keys(cluster, coordinator, more)
            after = {stage: completed(cluster, stage) for stage in stages}
            grown = {
                stage: {n: after[stage][n] - before[stage][n] for n in after[stage]}
                for stage in stages
            }
            expected = replicated(cluster, keys, lambda r: True)
            for name, count in replicated(cluster, more, lambda r: r.dc == "DC1").items():
                expected[name] += count
            assert grown["MutationStage"] == expected
            for stage in stages[1:]:
                assert grown[stage][coordinator.name] == 80, stage
                assert sum(grown[stage].values()) == 80, stage

    asyncio.run(scenario())


def test_a_powered_off_replica_not_yet_convicted_makes_writes_time_out(demo_inventory):
    async def scenario() -> None:
        # realistic detector at 0.1 s gossip: conviction only after ≈ 1.8 s
        async with running(fast_cluster(demo_inventory, failure_detector="realistic")) as cluster:
            coordinator = cluster.node("rpidc1r1n1")
            cluster.power_off("DC1/RAC2")
            assert cluster.is_alive(coordinator, cluster.node("rpidc1r2n1"))
            await cluster.write(coordinator, REPLICATION, [row(b"a", 1)], CL.LOCAL_QUORUM)
            started = time.monotonic()
            pending = asyncio.ensure_future(
                cluster.write(coordinator, REPLICATION, [row(b"b", 2)], CL.ALL)
            )
            await asyncio.sleep(0.05)
            pools = {r["name"]: r for r in view_rows(cluster, coordinator, "thread_pools")}
            assert pools["Native-Transport-Requests"]["active_tasks"] == 1  # blocked, waiting
            with pytest.raises(WriteTimeout) as info:
                await pending
            assert time.monotonic() - started >= cluster.write_request_timeout
            assert (info.value.received, info.value.block_for) == (5, 6)
            with pytest.raises(ReadTimeout) as rinfo:
                await cluster.read(coordinator, REPLICATION, "ks", "t", KEY, CL.ALL)
            assert rinfo.value.received == 5 and rinfo.value.data_present
            errors = cluster.stats(coordinator).client_errors
            assert errors[("Write", "ALL", "Timeouts")] == 1
            assert errors[("Read", "ALL", "Timeouts")] == 1
            await until(lambda: not cluster.is_alive(coordinator, cluster.node("rpidc1r2n1")))
            with pytest.raises(Unavailable):
                await cluster.write(coordinator, REPLICATION, [row(b"c", 3)], CL.ALL)
            assert errors[("Write", "ALL", "Unavailables")] == 1

    asyncio.run(scenario())


def test_any_succeeds_with_a_hint_and_hints_replay_on_power_on(demo_inventory):
    async def scenario() -> None:
        async with running(fast_cluster(demo_inventory)) as cluster:
            coordinator = cluster.node("rpidc1r1n1")
            replicas = cluster.replicas(REPLICATION, cluster.token(KEY))
            if coordinator in replicas:  # the coordinator must not be a replica for this case
                coordinator = next(n for n in cluster.nodes if n not in replicas)
            for r in replicas:
                cluster.power_off(r.name)
            await until(lambda: not any(cluster.is_alive(coordinator, r) for r in replicas))
            with pytest.raises(Unavailable):
                await cluster.write(coordinator, REPLICATION, [row(b"h", 5)], CL.ONE)
            await cluster.write(coordinator, REPLICATION, [row(b"h", 5)], CL.ANY)
            pending = cluster.pending_hints(coordinator)
            assert set(pending) == {r.name for r in replicas}
            # As in Cassandra, no pending_hints row while the targets are down (their hints
            # file is still open for writing), one per target once they are back, until
            # delivery.
            assert view_rows(cluster, coordinator, "pending_hints") == []
            for r in replicas:
                cluster.power_on(r.name)
            # the coordinator learns each return by gossip; each target then shows a row
            # (status UP) until its hints are delivered
            shown: dict[str, set[str]] = {}

            def delivered() -> bool:
                for found in view_rows(cluster, coordinator, "pending_hints"):
                    assert set(found) == {c.name for c in VIEWS["pending_hints"]}
                    shown.setdefault(str(found["address"]), set()).add(found["status"])
                return not cluster.pending_hints(coordinator)

            await until(delivered)
            assert shown == {r.address: {"UP"} for r in replicas}
            for r in replicas:  # every replica got the hinted write
                data = await cluster.read(r, REPLICATION, "ks", "t", KEY, CL.LOCAL_ONE)
                assert data[()]["v"].value == b"h"

    asyncio.run(scenario())


def test_read_at_one_can_be_stale_while_quorum_reads_your_write(demo_inventory):
    async def scenario() -> None:
        async with running(fast_cluster(demo_inventory, max_hint_window_seconds=0.001)) as cluster:
            replicas = cluster.replicas(REPLICATION, cluster.token(KEY))
            stale = next(r for r in replicas if r.dc == "DC1")
            writer = next(r for r in replicas if r.dc == "DC1" and r is not stale)
            await cluster.write(writer, REPLICATION, [row(b"old", 1)], CL.ALL)
            cluster.power_off(stale.name)
            await until(lambda: not cluster.is_alive(writer, stale))
            await asyncio.sleep(0.01)  # past the (tiny) hint window: no hint is kept
            await cluster.write(writer, REPLICATION, [row(b"new", 2)], CL.QUORUM)
            assert not cluster.pending_hints(writer)
            cluster.power_on(stale.name)
            at_one = await cluster.read(stale, REPLICATION, "ks", "t", KEY, CL.ONE)
            assert at_one[()]["v"].value == b"old"
            at_quorum = await cluster.read(stale, REPLICATION, "ks", "t", KEY, CL.QUORUM)
            assert at_quorum[()]["v"].value == b"new"
            # the quorum read repaired the stale replica
            again = await cluster.read(stale, REPLICATION, "ks", "t", KEY, CL.ONE)
            assert again[()]["v"].value == b"new"

    asyncio.run(scenario())


def test_lightweight_transactions_need_a_paxos_quorum(demo_inventory):
    async def scenario() -> None:
        async with running(fast_cluster(demo_inventory)) as cluster:
            coordinator = cluster.node("rpidc1r1n1")

            async def insert_if_absent(key: bytes, value: bytes, serial_cl: CL, commit_cl: CL):
                """INSERT ... IF NOT EXISTS: Paxos at ``serial_cl``, the commit at ``commit_cl``."""
                return await cluster.cas(
                    coordinator,
                    REPLICATION,
                    "ks",
                    "t",
                    key,
                    lambda data: None if data else [row(value, int(time.time() * 1e6))],
                    serial_cl,
                    commit_cl,
                )

            applied, before = await insert_if_absent(KEY, b"1", CL.SERIAL, CL.QUORUM)
            assert applied and not before
            applied, before = await insert_if_absent(KEY, b"2", CL.SERIAL, CL.QUORUM)
            assert not applied and before[()]["v"].value == b"1"
            cluster.power_off("DC2")
            await until(lambda: not cluster.is_alive(coordinator, cluster.node("rpidc2r1n1")))
            with pytest.raises(Unavailable) as info:
                await insert_if_absent(b"other", b"3", CL.SERIAL, CL.ONE)
            assert (info.value.cl, info.value.required, info.value.alive) == (CL.SERIAL, 4, 3)
            applied, _ = await insert_if_absent(b"other", b"3", CL.LOCAL_SERIAL, CL.LOCAL_QUORUM)
            assert applied
            with pytest.raises(InvalidRequest):
                await insert_if_absent(KEY, b"4", CL.QUORUM, CL.ONE)

    asyncio.run(scenario())


def test_serial_writes_and_any_reads_are_invalid(demo_inventory):
    async def scenario() -> None:
        cluster = fast_cluster(demo_inventory)
        coordinator = cluster.nodes[0]
        with pytest.raises(InvalidRequest, match="conditional updates"):
            await cluster.write(coordinator, REPLICATION, [row(b"x", 1)], CL.SERIAL)
        with pytest.raises(
            InvalidRequest, match="ANY ConsistencyLevel is only supported for writes"
        ):
            await cluster.read(coordinator, REPLICATION, "ks", "t", KEY, CL.ANY)

    asyncio.run(scenario())


def test_storage_reconciles_last_write_wins_with_tombstones_and_ttl(demo_inventory):
    async def scenario() -> None:
        cluster = fast_cluster(demo_inventory)
        c = cluster.nodes[0]

        async def write(*mutations: Mutation) -> None:
            await cluster.write(c, REPLICATION, list(mutations), CL.ALL)

        async def read():
            return await cluster.read(c, REPLICATION, "ks", "t", KEY, CL.QUORUM)

        await write(row(b"new", 10))
        await write(row(b"older", 5))  # an older timestamp loses
        assert (await read())[()]["v"].value == b"new"
        await write(Mutation("ks", "t", KEY, (), row_tombstone=10))  # a tie: the tombstone wins
        assert () not in await read()
        await write(Mutation("ks", "t", KEY, (), row_marker=11))  # primary key only: row exists
        data = await read()
        assert data[()] == {} and data.row_markers[()] == 11
        await write(
            Mutation("ks", "t", KEY, (b"\x00\x01",), {"v": Cell(b"ttl", 20, time.time() - 1)})
        )
        assert (b"\x00\x01",) not in await read()  # expired TTL: no live cell, no marker
        soon = time.time() + 0.2
        ttl_insert = Mutation(
            "ks", "t", KEY, (b"\x02",), {"v": Cell(b"ttl", 30, soon)}, row_marker=30
        )
        await write(ttl_insert)
        assert (await read())[(b"\x02",)]["v"].value == b"ttl"
        await asyncio.sleep(0.25)
        assert (b"\x02",) not in await read()  # INSERT ... USING TTL: the row marker expires too
        await write(Mutation("ks", "t", KEY, partition_tombstone=50))
        assert not await read()
        rows = await cluster.scan(c, REPLICATION, "ks", "t", CL.ONE)
        assert rows == []
        await write(row(b"again", 60))
        assert [k for k, _ in await cluster.scan(c, REPLICATION, "ks", "t", CL.ONE)] == [KEY]
        cluster.drop_table("ks", "t")
        assert not await read()

    asyncio.run(scenario())


def test_scan_returns_partitions_in_token_order(demo_inventory):
    async def scenario() -> None:
        cluster = fast_cluster(demo_inventory)
        c = cluster.nodes[0]
        keys = [f"k{i}".encode() for i in range(40)]
        for i, key in enumerate(keys):
            await cluster.write(
                c, REPLICATION, [Mutation("ks", "t", key, (), {}, row_marker=i + 1)], CL.ONE
            )
        found = await cluster.scan(c, REPLICATION, "ks", "t", CL.LOCAL_QUORUM)
        assert sorted(keys, key=cluster.token) == [k for k, _ in found]
        cluster.drop_keyspace("ks")
        assert await cluster.scan(c, REPLICATION, "ks", "t", CL.ONE) == []

    asyncio.run(scenario())


def test_gossip_heartbeats_conviction_events_and_a_new_generation(demo_inventory):
    async def scenario() -> None:
        cluster = fast_cluster(demo_inventory)
        recorder = Recorder()
        cluster.add_listener(recorder)
        async with running(cluster):
            observer, victim = cluster.node("rpidc2r1n1"), cluster.node("rpidc1r3n2")
            first = cluster.view(observer, victim).state.heartbeat
            await asyncio.sleep(GOSSIP * 3)
            assert cluster.view(observer, victim).state.heartbeat > first
            generation = victim.generation
            cluster.power_off(victim.name, crash=True)
            assert recorder.events[0] == ("power", victim.name, False, True)
            frozen = cluster.heartbeat(victim)  # its last beat: gossip may still spread it
            started = time.monotonic()
            await until(lambda: not cluster.is_alive(observer, victim))
            delay = time.monotonic() - started
            # phi 2 with 0.1 s gossip: ≈ 2·ln10·0.1 ≈ 0.46 s of silence
            assert 0.3 < delay < 1.5
            assert cluster.view(observer, victim).state.heartbeat <= frozen
            await until(
                lambda: all(
                    not cluster.is_alive(o, victim) for o in cluster.nodes if o is not victim
                )
            )
            downs = {
                e[1]
                for e in recorder.events
                if e[0] == "status" and e[2] == victim.name and not e[3]
            }
            assert downs == {n.name for n in cluster.nodes if n is not victim}
            recorder.events.clear()
            await asyncio.sleep(1.0)  # a later second: the new generation must be larger
            cluster.power_on(victim.name)
            assert recorder.events[0] == ("power", victim.name, True, False)
            assert victim.generation > generation

            def ups() -> set[str]:
                return {
                    e[1]
                    for e in recorder.events
                    if e[0] == "status" and e[2] == victim.name and e[3]
                }

            # the seed it gossips with at start knows it at once, the others by gossip
            await until(lambda: ups() == {n.name for n in cluster.nodes if n is not victim})
            assert cluster.view(observer, victim).state.generation == victim.generation

    asyncio.run(scenario())


def test_a_cut_dc_link_separates_both_sides_and_heals(demo_inventory):
    async def scenario() -> None:
        async with running(fast_cluster(demo_inventory)) as cluster:
            a, b = cluster.node("rpidc1r1n1"), cluster.node("rpidc2r1n1")
            assert cluster.power_off("link:DC1-DC2") == ["link:DC1-DC2"]
            await until(lambda: not cluster.is_alive(a, b) and not cluster.is_alive(b, a))
            assert cluster.is_alive(a, cluster.node("rpidc1r3n2"))
            assert cluster.client_can_reach("127.0.10.1", a)
            assert not cluster.client_can_reach("127.0.10.1", b)
            assert not cluster.client_can_reach("127.0.20.1", a)
            assert cluster.client_can_reach("127.0.0.1", b)  # not a writer: reaches everything
            cluster.power_on("link:DC1-DC2")
            await until(lambda: cluster.is_alive(a, b) and cluster.is_alive(b, a))
            assert cluster.client_can_reach("127.0.20.1", a)

    asyncio.run(scenario())


def test_power_targets_and_reset(demo_inventory):
    cluster = fast_cluster(demo_inventory)
    recorder = Recorder()
    cluster.add_listener(recorder)
    assert cluster.power_off("DC1/RAC3") == ["rpidc1r3n1", "rpidc1r3n2"]
    assert cluster.power_off("DC2") == ["rpidc2r1n1", "rpidc2r1n2", "rpidc2r1n3"]
    assert cluster.power_off("rpidc1r1n1", crash=True) == ["rpidc1r1n1"]
    for bad in ("DC3", "DC1/RAC9", "rpidc9", "link:DC1-DC1", "link:DC1-DC7", ""):
        with pytest.raises(UnknownTarget, match="unknown"):
            cluster.power_off(bad)
    cluster.interpret()
    cluster.reset()
    assert all(n.powered and not n.crashed for n in cluster.nodes)
    assert all(cluster.is_alive(o, n) for o in cluster.nodes for n in cluster.nodes)
    assert sum(1 for e in recorder.events if e[0] == "power" and e[2]) == 6
    state = cluster.state()
    assert [n["name"] for n in state["nodes"]] == [p.name for p in demo_inventory.nodes()]
    assert state["links"] == [{"link": "link:DC1-DC2", "up": True}]


def test_system_views_rows_follow_the_schemas(demo_inventory):
    async def scenario() -> None:
        async with running(fast_cluster(demo_inventory)) as cluster:
            observer = cluster.nodes[0]
            await cluster.write(observer, REPLICATION, [row(b"x", 1)], CL.ALL)
            client = ClientInfo(
                "127.0.10.1", 50000, "rpidc1user", driver_name="DataStax Python Driver"
            )
            for table, columns in VIEWS.items():
                rows = view_rows(cluster, observer, table, [client])
                assert rows or table == "pending_hints", table  # no hints: no rows
                for r in rows:
                    assert set(r) == {c.name for c in columns}, table
            settings = {r["name"]: r["value"] for r in view_rows(cluster, observer, "settings")}
            assert settings["phi_convict_threshold"] == "2.0"  # a double, as Cassandra prints it
            assert settings["max_hint_window"] == "3h"  # as cassandra.yaml writes it
            assert settings["write_request_timeout"] == "200ms"  # fast_cluster's
            gossip = {str(r["address"]): r for r in view_rows(cluster, observer, "gossip_info")}
            assert len(gossip) == 9 and gossip["127.0.21.3"]["dc"] == "DC2"
            assert gossip["127.0.11.1"]["status_with_port"].startswith("NORMAL")
            pools = {r["name"]: r for r in view_rows(cluster, observer, "thread_pools")}
            assert pools["RequestResponseStage"]["completed_tasks"] >= 1
            out = view_rows(cluster, observer, "internode_outbound")
            assert {r["active_connections"] for r in out} == {3}
            with pytest.raises(InvalidRequest):
                view_rows(cluster, observer, "nope")

    asyncio.run(scenario())


def test_a_nodes_gossip_states_follow_its_schema_data_and_generation(demo_inventory):
    """The states a node gossips are built once and reused until its schema, its load or its
    generation changes; then they change, the schema state with a newer version."""

    async def scenario() -> None:
        async with running(fast_cluster(demo_inventory)) as cluster:
            node = cluster.nodes[0]
            first = cluster.gossip_state(node).states
            assert cluster.gossip_state(node).states is first  # nothing changed: reused
            cluster.schema_version = uuid.uuid4()
            after_ddl = cluster.gossip_state(node).states
            assert after_ddl["schema"][0] == str(cluster.schema_version)
            assert after_ddl["schema"][1] > first["schema"][1]
            await cluster.write(node, REPLICATION, [row(b"x", 1)], CL.ALL)
            assert cluster.gossip_state(node).states["load"][0] != after_ddl["load"][0]
            generation = node.generation
            cluster.power_off(node.name, crash=True)
            await asyncio.sleep(1.0)  # a later second: the new generation is larger
            cluster.power_on(node.name)
            assert node.generation > generation
            assert cluster.gossip_state(node).generation == node.generation

    asyncio.run(scenario())


def test_replicas_share_equal_data_and_storage_keeps_a_bound(demo_inventory):
    async def scenario() -> None:
        cluster = SimCluster.from_inventory(demo_inventory, max_partitions=10)
        c = cluster.nodes[0]
        keys = [f"bound-{i}".encode() for i in range(25)]
        for i, key in enumerate(keys):
            m = Mutation("ks", "t", key, (), {"v": Cell(b"x", i + 1)}, row_marker=i + 1)
            await cluster.write(c, REPLICATION, [m], CL.ALL)
        replicas = cluster.replicas(REPLICATION, cluster.token(keys[-1]))
        assert len(cluster.storage.versions(("ks", "t"), keys[-1])) == 1  # six replicas, one copy
        assert cluster.storage.evicted == 15 and len(cluster.storage) == 10
        for key in keys[:15]:  # the oldest are gone from every replica
            assert not await cluster.read(c, REPLICATION, "ks", "t", key, CL.ALL)
        for key in keys[15:]:
            assert (await cluster.read(c, REPLICATION, "ks", "t", key, CL.ALL))[()]["v"].value
        stored = sum(cluster._store(n).partition_count() for n in cluster.nodes)
        assert stored == 10 * 6
        # a replica that misses a write gets its own copy; the others keep sharing
        stale = replicas[0]
        cluster.power_off(stale.name)
        cluster.interpret()  # not convicted yet: the write reaches the five others
        m = Mutation("ks", "t", keys[-1], (), {"v": Cell(b"y", 100)}, row_marker=100)
        await cluster.write(c if c is not stale else replicas[1], REPLICATION, [m], CL.ONE)
        old = cluster._store(stale).partition("ks", "t", keys[-1])
        new = cluster._store(replicas[1]).partition("ks", "t", keys[-1])
        assert resolve(old)[()]["v"].value == b"x" and resolve(new)[()]["v"].value == b"y"
        assert len(cluster.storage.versions(("ks", "t"), keys[-1])) == 2

    asyncio.run(scenario())


def test_an_observers_phis_at_once_equal_its_phis_pair_by_pair():
    """The FailureDetector bean reads a whole row of phi at once (1,000 pairs for one bean at
    1,000 nodes): same values as pair by pair, 0 for the observer itself, through a power cut
    (growing silences, convictions)."""
    from rackpanel.simulator.cluster.gossip import Gossip

    size = 40
    gossip = Gossip(
        size,
        interval=1.0,
        phi_convict_threshold=8.0,
        dcs=[0] * 20 + [1] * 20,
        seeds=[0, 20],
        now=0.0,
        rng_seed=18,
    )
    for i in range(size):
        gossip.start(i, 1_700_000_000, 15, alone=False)
    gossip.all_up(0.0)
    for second in range(1, 40):
        gossip.advance(float(second))
    gossip.powered[5:10] = False
    checked = 0
    for now in (39.5, 45.0, 60.0):
        gossip.advance(now)
        for observer in (0, 7, 21):
            row = gossip.phis(observer, now)
            assert row.tolist() == [gossip.phi(observer, e, now) for e in range(size)]
            assert row[observer] == 0.0
            checked += 1
    assert checked == 9 and gossip.phis(0, 60.0)[5:10].min() > 4.0  # 20 s of silence

"""The plain-write lane (``NodeExecutor.plain_write``: a prepared INSERT of a new partition
whose replicas all answer, done without request or mutation objects) against the general
write path it shortcuts: the same rows on the same replicas, the same thread-pool counts, and
nothing done when it must leave a write to the general path. The real driver's writes take
the lane everywhere else in the suite."""

from __future__ import annotations

import asyncio

from rackpanel.simulator.cluster import SimCluster
from rackpanel.simulator.cluster.views import view_rows
from rackpanel.simulator.core import ConsistencyLevel as CL
from rackpanel.simulator.cql import parse
from rackpanel.simulator.executor import dml
from rackpanel.simulator.executor.binding import Bound
from rackpanel.simulator.protocol.wire import UNSET
from rackpanel.simulator.schema import table_def

from tests.test_sim_cluster import REPLICATION, fast_cluster, running, until

TABLE = table_def(
    "ks", "events", [("k", "text")], [("at", "int")],
    [("body", "text"), ("n", "int"), ("note", "text")],
)  # fmt: skip
INSERT = parse("INSERT INTO ks.events (k, at, n, body, note) VALUES (?, ?, ?, ?, ?)")
# the write target's placement is not used by the shape
SHAPE = dml.write_target(None, INSERT, TABLE, REPLICATION, None).shape  # type: ignore[arg-type]
POOLS = ("MutationStage", "Native-Transport-Requests", "RequestResponseStage")
TS = 1_700_000_000_000_000


def completed(cluster: SimCluster) -> dict[tuple[str, str], int]:
    return {
        (node.name, row["name"]): row["completed_tasks"]
        for node in cluster.nodes
        for row in view_rows(cluster, node, "thread_pools")
        if row["name"] in POOLS
    }


def grown(before: dict, after: dict) -> dict:
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


def test_a_plain_insert_stores_and_counts_what_the_general_write_does(demo_inventory):
    shape = SHAPE
    assert shape is not None and shape.plain

    async def scenario() -> None:
        async with running(fast_cluster(demo_inventory)) as cluster:
            coordinator = cluster.node("rpidc1r1n1")
            repl = cluster.replication(REPLICATION)
            for values in (
                [b"A", b"\x00\x00\x00\x01", b"\x00\x00\x00\x07", b"hello", None],  # a null
                [b"B", b"\x00\x00\x00\x02", b"\x00\x00\x00\x08", b"x", b"y"],
            ):
                key, clustering, row = shape.new_row(values, TS)
                before = completed(cluster)
                assert cluster.insert_new(
                    coordinator, repl, ("ks", "events"), key, clustering, row, CL.LOCAL_QUORUM
                )
                lane = grown(before, completed(cluster))
                # the same values under another key, through the general path
                general_values = [key + b"-general", *values[1:]]
                mutation = shape.mutation(Bound(general_values, None, INSERT.bind_markers), TS)
                before = completed(cluster)
                assert cluster.write_now(coordinator, repl, [mutation], CL.LOCAL_QUORUM) is None
                general = grown(before, completed(cluster))
                for counted, written in ((lane, key), (general, mutation.partition_key)):
                    replicas = cluster.replicas(REPLICATION, cluster.token(written))
                    assert counted == {(r.name, "MutationStage"): 1 for r in replicas} | {
                        (coordinator.name, "Native-Transport-Requests"): 1,
                        (coordinator.name, "RequestResponseStage"): 1,
                    }
                versions = cluster.storage.versions(("ks", "events"), key)
                other = cluster.storage.versions(("ks", "events"), mutation.partition_key)
                assert [dict(v) | {0: 0} for v in versions] == [
                    dict(v) | {0: 0} for v in other
                ]  # the same partition (holders aside: other replicas)

    asyncio.run(scenario())


def test_the_lane_leaves_every_other_write_to_the_general_path(demo_inventory):
    shape = SHAPE
    assert shape is not None

    async def scenario() -> None:
        async with running(fast_cluster(demo_inventory)) as cluster:
            coordinator = cluster.node("rpidc1r1n1")
            repl = cluster.replication(REPLICATION)
            one = b"\x00\x00\x00\x01"
            # a key part null or unset, a value unset: the general path refuses or skips
            assert shape.new_row([None, one, one, b"b", b"c"], TS) is None
            assert shape.new_row([b"k", UNSET, one, b"b", b"c"], TS) is None
            assert shape.new_row([b"k", one, UNSET, b"b", b"c"], TS) is None
            key, clustering, row = shape.new_row([b"held", one, one, b"b", b"c"], TS)

            def insert() -> bool:
                return cluster.insert_new(
                    coordinator, repl, ("ks", "events"), key, clustering, row, CL.LOCAL_QUORUM
                )

            assert insert()
            before = completed(cluster), cluster.storage.versions(("ks", "events"), key)
            assert not insert()  # the partition exists: the general path merges
            cluster.power_off("DC2")  # powered off, not yet convicted: no lane either
            key = b"fresh"
            assert not insert()
            await until(lambda: not cluster.sees_all_alive(coordinator))
            assert not insert()  # convicted: hints
            assert completed(cluster) == before[0]
            assert cluster.storage.versions(("ks", "events"), b"held") == before[1]
            assert cluster.storage.versions(("ks", "events"), b"fresh") == ()

    asyncio.run(scenario())


def test_a_node_down_elsewhere_leaves_the_lane_to_the_writes_it_does_not_hold(demo_inventory):
    """A coordinator doubting one node (a large cluster's detectors always doubt a few) still
    writes in the lane, and in write_now's every-replica-up path, every partition that node
    does not hold; the partitions it holds go replica by replica (hinted)."""

    async def scenario() -> None:
        async with running(fast_cluster(demo_inventory)) as cluster:
            coordinator = cluster.node("rpidc1r1n1")
            repl = cluster.replication(REPLICATION)
            victim = cluster.node("rpidc1r3n2")
            cluster.power_off(victim.name)
            await until(lambda: not cluster.is_alive(coordinator, victim))
            one = b"\x00\x00\x00\x01"
            held, free = [], []
            for i in range(40):
                key = f"elsewhere-{i}".encode()
                replicas = cluster.replicas(REPLICATION, cluster.token(key))
                (held if victim in replicas else free).append(key)
            assert held and free
            for key in free + held:
                _, clustering, row = SHAPE.new_row([key, one, one, b"b", None], TS)
                written = cluster.insert_new(
                    coordinator, repl, ("ks", "events"), key, clustering, row, CL.LOCAL_QUORUM
                )
                assert written == (key in free), key
            hinted = cluster.pending_hints(coordinator).get(victim.name, [])
            assert hinted == []  # nothing was written for the held keys yet
            for key in held:  # the general path: written, and a hint for the victim
                mutation = SHAPE.mutation(
                    Bound([key, one, one, b"b", None], None, INSERT.bind_markers), TS
                )
                assert cluster.write_now(coordinator, repl, [mutation], CL.LOCAL_QUORUM) is None
            assert len(cluster.pending_hints(coordinator)[victim.name]) == len(held)

    asyncio.run(scenario())

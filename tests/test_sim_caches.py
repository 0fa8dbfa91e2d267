"""The simulator's statement caches are bounded in bytes (simulator/executor/caches.py), as
Cassandra bounds its prepared statements by memory (prepared_statements_cache_size): each
node's prepared statements (10 MiB) and the parse cache the nodes share (64 MiB), an entry
costing an estimate from its statement text. Past the budget the least recently used entries
go; an evicted prepared statement answers Unprepared, and the driver re-prepares it
(test_sim_driver's test_unprepared_on_another_node_is_reprepared_by_the_driver)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from rackpanel.simulator.cluster.model import SimCluster
from rackpanel.simulator.core import Unprepared
from rackpanel.simulator.executor.caches import ByteBoundedLRU, statement_bytes
from rackpanel.simulator.executor.context import PARSE_CACHE_BYTES, SimContext
from rackpanel.simulator.executor.node import PREPARED_CACHE_BYTES, NodeExecutor, settled
from rackpanel.simulator.protocol import messages

PADDING = 8000  # characters of comment in each statement: about 190 KB of estimated cost


def statement(i: int) -> str:
    """A distinct statement text of some 8 KB (a comment pads it)."""
    return f"SELECT key FROM system.local WHERE key = ? /* {i} {'x' * PADDING} */"


def past(budget: int) -> int:
    """How many statements of ``statement(i)``'s size cost more than twice ``budget``."""
    return 2 * budget // statement_bytes(statement(0)) + 1


def lru(capacity: int, *keys: str, size: int) -> ByteBoundedLRU[str]:
    cache: ByteBoundedLRU[str] = ByteBoundedLRU(capacity)
    for key in keys:
        cache.put(key, key.upper(), size)
    return cache


# ---- the LRU itself -------------------------------------------------------------------------


def test_the_bytes_held_stay_within_the_budget_and_the_oldest_entries_go_first():
    cache: ByteBoundedLRU[int] = ByteBoundedLRU(1000)
    for i in range(10):
        assert cache.put(str(i), i, 300)
        assert cache.used <= 1000
    assert [k for k in map(str, range(10)) if k in cache] == ["7", "8", "9"]
    assert (len(cache), cache.used) == (3, 900)


def test_reading_an_entry_keeps_it_over_older_unread_ones():
    cache = lru(1000, "a", "b", "c", size=300)
    assert cache.get("a") == "A"
    cache.put("d", "D", 300)
    assert ("a" in cache, "b" in cache, "c" in cache, "d" in cache) == (True, False, True, True)


def test_one_big_entry_evicts_as_many_as_it_needs():
    cache = lru(1000, "a", "b", "c", size=300)
    cache.put("big", "BIG", 700)
    assert ("a" in cache, "b" in cache, "c" in cache) == (False, False, True)
    assert cache.used == 1000


def test_an_entry_bigger_than_the_whole_budget_is_not_kept_and_evicts_nothing():
    cache = lru(1000, "a", "b", size=300)
    assert not cache.put("huge", "HUGE", 1001)
    assert ("huge" in cache, len(cache), cache.used) == (False, 2, 600)


def test_putting_a_key_again_counts_its_bytes_once():
    cache = lru(1000, "a", size=400)
    cache.put("a", "A2", 700)
    assert (cache.get("a"), len(cache), cache.used) == ("A2", 1, 700)


# ---- the caches the executors use -----------------------------------------------------------


@pytest.fixture
def context(demo_inventory) -> SimContext:
    return SimContext(SimCluster.from_inventory(demo_inventory), demo_inventory.ports.cql)


def statement_id(prepared_result: bytes) -> bytes:
    """The id of a RESULT Prepared body: [int kind][short bytes id]..."""
    length = int.from_bytes(prepared_result[4:6], "big")
    return prepared_result[6 : 6 + length]


def test_a_nodes_prepared_statements_stay_within_10_mib_and_evicted_ones_are_unprepared(context):
    executor = NodeExecutor(context, context.cluster.nodes[0])
    conn = SimpleNamespace(protocol_version=5, keyspace=None, address="127.0.0.1")
    params = messages.QueryParams(values=[b"local"])

    async def prepared(i: int) -> bytes:
        return statement_id(await executor.prepare(conn, messages.Prepare(statement(i))))

    async def scenario() -> None:
        first = await prepared(0)
        ids = [first] + [await prepared(i) for i in range(1, past(PREPARED_CACHE_BYTES))]
        assert executor.prepared.used <= PREPARED_CACHE_BYTES
        assert first not in executor.prepared and ids[-1] in executor.prepared
        with pytest.raises(Unprepared) as refused:
            await settled(executor.execute(conn, messages.Execute(first, params)))
        assert (refused.value.code, refused.value.statement_id) == (0x2500, first)
        await settled(executor.execute(conn, messages.Execute(ids[-1], params)))  # still prepared

    asyncio.run(scenario())


def test_the_shared_parse_cache_stays_within_64_mib_keeping_what_is_used(context):
    async def scenario() -> None:
        kept = await context.parse(statement(0))
        dropped = await context.parse(statement(1))
        for i in range(2, past(PARSE_CACHE_BYTES)):
            assert await context.parse(statement(0)) is kept  # used all along: still cached
            await context.parse(statement(i))
        assert context.parsed.used <= PARSE_CACHE_BYTES
        assert await context.parse(statement(1)) is not dropped  # evicted: parsed anew

    asyncio.run(scenario())

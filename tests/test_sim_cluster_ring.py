"""Replica placement: the simulator's own NetworkTopologyStrategy and SimpleStrategy agree
with the cassandra-driver's replica computation on random topologies."""

from __future__ import annotations

from bisect import bisect_left

import pytest
from cassandra.metadata import Murmur3Token, NetworkTopologyStrategy, SimpleStrategy
from hypothesis import given, settings
from hypothesis import strategies as st
from rackpanel.simulator.cluster import SimCluster, SimNode
from rackpanel.simulator.cluster.node import host_id_for, tokens_for
from rackpanel.simulator.core import ConfigurationException


class DriverHost:
    """The attributes the driver's strategies read from a Host."""

    def __init__(self, node: SimNode) -> None:
        self.name = node.name
        self.datacenter = node.dc
        self.rack = node.rack


@st.composite
def topologies(draw):
    dcs = draw(st.integers(1, 3))
    num_tokens = draw(st.integers(1, 6))
    nodes = []
    for d in range(1, dcs + 1):
        for r in range(1, draw(st.integers(1, 4)) + 1):
            for n in range(1, draw(st.integers(1, 3)) + 1):
                name = f"n{d}{r}{n}-{num_tokens}"
                nodes.append(
                    SimNode(
                        name, f"DC{d}", f"RAC{r}", f"127.0.{d}{r}.{n}", tokens_for(name, num_tokens)
                    )
                )
    rfs = {f"DC{d}": draw(st.integers(0, 5)) for d in range(1, dcs + 1)}
    return nodes, rfs


def driver_replicas(strategy, nodes: list[SimNode], token: int) -> list[str]:
    hosts = {n.name: DriverHost(n) for n in nodes}
    owner = {Murmur3Token(t): hosts[n.name] for n in nodes for t in n.tokens}
    ring = sorted(owner)
    replica_map = strategy.make_token_replica_map(owner, ring)
    i = bisect_left(ring, Murmur3Token(token))
    return [h.name for h in replica_map[ring[i if i < len(ring) else 0]]]


@settings(max_examples=150, deadline=None)
@given(topologies(), st.lists(st.binary(min_size=1, max_size=12), min_size=1, max_size=8))
def test_network_topology_strategy_matches_the_driver(topology, keys):
    nodes, rfs = topology
    cluster = SimCluster("prop", nodes)
    replication = {"class": "org.apache.cassandra.locator.NetworkTopologyStrategy"} | {
        dc: str(rf) for dc, rf in rfs.items()
    }
    strategy = NetworkTopologyStrategy(rfs)
    for key in keys:
        token = cluster.token(key)
        ours = cluster.replicas(replication, token)
        assert len(ours) == len({id(n) for n in ours}), "a node placed twice"
        theirs = driver_replicas(strategy, nodes, token)
        if len(theirs) == len(set(theirs)):
            assert {n.name for n in ours} == set(theirs)
        else:
            # Driver 3.30 quirk: a host skipped for its rack once per vnode is appended once
            # per vnode, so the driver lists it twice and places fewer distinct replicas than
            # Cassandra's NetworkTopologyStrategy.java; ours must still include all it found.
            assert set(theirs) <= {n.name for n in ours}
        for dc, rf in rfs.items():
            in_dc = [n for n in ours if n.dc == dc]
            racks = {n.rack for n in nodes if n.dc == dc}
            assert len(in_dc) == min(rf, sum(1 for n in nodes if n.dc == dc))
            # rack-aware: as many distinct racks as the RF allows
            assert len({n.rack for n in in_dc}) == min(len(in_dc), len(racks))


@settings(max_examples=60, deadline=None)
@given(topologies(), st.integers(1, 5), st.binary(min_size=1, max_size=12))
def test_simple_strategy_matches_the_driver(topology, rf, key):
    nodes, _ = topology
    cluster = SimCluster("prop", nodes)
    token = cluster.token(key)
    ours = cluster.replicas({"class": "SimpleStrategy", "replication_factor": str(rf)}, token)
    expected = driver_replicas(SimpleStrategy({"replication_factor": str(rf)}), nodes, token)
    assert {n.name for n in ours} == set(expected)


def test_tokens_and_host_ids_are_deterministic_per_name(demo_inventory):
    a = SimCluster.from_inventory(demo_inventory)
    b = SimCluster.from_inventory(demo_inventory)
    assert [n.tokens for n in a.nodes] == [n.tokens for n in b.nodes]
    assert all(len(n.tokens) == demo_inventory.cluster.num_tokens for n in a.nodes)
    assert len({t for n in a.nodes for t in n.tokens}) == 16 * len(a.nodes)
    assert a.node("rpidc2r1n3").host_id == host_id_for("rpidc2r1n3") != host_id_for("rpidc2r1n2")
    assert a.by_address("127.0.21.3").name == "rpidc2r1n3"
    assert a.partitioner == "org.apache.cassandra.dht.Murmur3Partitioner"


def test_token_is_the_drivers_murmur3():
    assert SimCluster.token(b"abc") == Murmur3Token.from_key(b"abc").value


def test_demo_keyspace_has_one_replica_per_dc1_rack_and_every_dc2_node(demo_inventory):
    cluster = SimCluster.from_inventory(demo_inventory)
    replication = {"class": "NetworkTopologyStrategy", "DC1": "3", "DC2": "3"}
    for key in (b"a", b"b", b"writer-1", b"\x00\x01"):
        replicas = cluster.replicas(replication, cluster.token(key))
        assert sorted(n.rack for n in replicas if n.dc == "DC1") == ["RAC1", "RAC2", "RAC3"]
        assert sorted(n.name for n in replicas if n.dc == "DC2") == [
            "rpidc2r1n1",
            "rpidc2r1n2",
            "rpidc2r1n3",
        ]


@pytest.mark.parametrize(
    ("replication", "message"),
    [
        ({"class": "FooStrategy"}, "Unable to find replication strategy class 'FooStrategy'"),
        ({"class": "SimpleStrategy"}, "requires a replication_factor"),
        ({"class": "SimpleStrategy", "replication_factor": "x"}, "not a valid replication factor"),
        ({"class": "NetworkTopologyStrategy", "DC9": "3"}, "Unrecognized strategy option {DC9}"),
    ],
)
def test_bad_replication_maps_are_configuration_errors(demo_inventory, replication, message):
    cluster = SimCluster.from_inventory(demo_inventory)
    with pytest.raises(
        ConfigurationException, match=message.replace("{", r"\{").replace("}", r"\}")
    ):
        cluster.validate_replication(replication)

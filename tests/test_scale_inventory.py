"""`rackpanel scale`: the inventory of a bigger simulated cluster, and the simulator running it."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

import pytest
from cassandra import ConsistencyLevel
from cassandra.query import SimpleStatement
from rackpanel.topology import Inventory, load_inventory
from rackpanel.topology.scaled import ScaleError, scaled_inventory

from rackpanel.cli import main
from tests.support.inventories import REPO, scaled_inventory_file
from tests.support.lab import loopback_octet
from tests.support.sim import create_keyspace, driver_cluster, running_simulator

OCTET = loopback_octet()
BASE = ["--inventory", str(REPO / "inventory.yml")]


def test_a_thousand_nodes_in_their_own_loopback_range(demo_inventory: Inventory):
    inv = scaled_inventory(demo_inventory, dcs=2, racks=20, nodes_per_rack=25, octet=7)
    places = list(inv.nodes())
    assert len(places) == 1000
    own = IPv4Network("127.7.0.0/16")
    sims = [p.sim_address for p in places] + [w.sim_address for w in inv.writer_places()]
    assert len(set(sims)) == len(sims) and all(a in own for a in sims)
    assert inv.monitor is not None and inv.monitor.sim_address in own
    assert IPv4Address(inv.simulator.admin_address.split(":")[0]) in own
    # the hosts do not exist: their addresses come from the benchmarking range
    reals = [p.node.address for p in places]
    assert len(set(reals)) == 1000 and all(a in IPv4Network("198.18.0.0/15") for a in reals)
    assert {(p.dc, p.rack) for p in places} == {
        (f"DC{d}", f"RAC{r}") for d in (1, 2) for r in range(1, 21)
    }
    assert inv.keyspace.name == demo_inventory.keyspace.name
    assert inv.keyspace.replication == {"DC1": 3, "DC2": 3}
    seeds = [inv.node(s) for s in inv.seeds]
    assert {(s.dc, s.rack) for s in seeds} == {
        (f"DC{d}", f"RAC{r}") for d in (1, 2) for r in (1, 2, 3)
    }
    assert inv.cluster == demo_inventory.cluster
    assert inv.simulator.failure_detector == "realistic"
    assert inv.prometheus.profile == "production"


def test_a_small_cluster_keeps_the_demo_profile_and_a_one_node_rack_rf_one(
    demo_inventory: Inventory,
):
    inv = scaled_inventory(
        demo_inventory, dcs=3, racks=1, nodes_per_rack=1, failure_detector="fast"
    )
    assert inv.keyspace.replication == {"DC1": 1, "DC2": 1, "DC3": 1}
    assert inv.prometheus.profile == demo_inventory.prometheus.profile
    assert inv.simulator.failure_detector == "fast"
    assert [w.writer.local_dc for w in inv.writer_places()] == ["DC1", "DC2", "DC3"]


@pytest.mark.parametrize(
    ("sizes", "named"),
    [
        ({"dcs": 0, "racks": 1, "nodes_per_rack": 1}, "--dcs"),
        ({"dcs": 2, "racks": 200, "nodes_per_rack": 1}, "--racks"),
        ({"dcs": 1, "racks": 1, "nodes_per_rack": 255}, "--nodes-per-rack"),
        ({"dcs": 2, "racks": 20, "nodes_per_rack": 60}, "at most 2000"),
        ({"dcs": 1, "racks": 1, "nodes_per_rack": 1, "octet": 0}, "--octet"),
    ],
)
def test_sizes_that_give_no_valid_inventory_are_refused_by_name(demo_inventory, sizes, named):
    with pytest.raises(ScaleError, match=named):
        scaled_inventory(demo_inventory, **sizes)


def test_the_command_writes_a_file_that_loads_and_never_overwrites_unasked(tmp_path, capsys):
    out = tmp_path / "big.yml"
    args = ["scale", *BASE, "--racks", "4", "--nodes-per-rack", "5", "--out", str(out)]
    assert main(args) == 0
    assert "40 nodes" in capsys.readouterr().out
    assert len(list(load_inventory(out).nodes())) == 40
    before = out.read_text()
    assert main(["scale", *BASE, "--racks", "2", "--nodes-per-rack", "2", "--out", str(out)]) == 2
    assert "exists; use --force" in capsys.readouterr().err
    assert out.read_text() == before
    assert main([*args[:-2], "--dcs", "1", "--out", str(out), "--force"]) == 0
    assert len(list(load_inventory(out).nodes())) == 20
    bad = tmp_path / "bad.yml"
    assert main(["scale", *BASE, "--racks", "300", "--nodes-per-rack", "1", "--out", str(bad)]) == 2
    assert "--racks" in capsys.readouterr().err and not bad.exists()


def test_the_simulator_runs_a_scaled_inventory_for_a_real_driver(tmp_path):
    """200 nodes: the file `rackpanel scale` writes is all `rackpanel sim` needs."""
    path = scaled_inventory_file(tmp_path, racks=4, per_rack=25, octet=OCTET)
    inv = load_inventory(path)
    with running_simulator(path, failure_detector="realistic") as sim:
        cluster = driver_cluster(sim, "DC1")
        try:
            session = cluster.connect()
            peers = session.execute("SELECT peer, data_center, rack FROM system.peers").all()
            assert len(peers) == 199
            assert {(p.data_center, p.rack) for p in peers} == {(p.dc, p.rack) for p in inv.nodes()}
            create_keyspace(session, "rehearsal", "kv (k int PRIMARY KEY, v int)")
            insert = SimpleStatement(
                "INSERT INTO rehearsal.kv (k, v) VALUES (%s, %s)",
                consistency_level=ConsistencyLevel.LOCAL_QUORUM,
            )
            for k in range(50):
                session.execute(insert, (k, k))
            read = SimpleStatement(
                "SELECT v FROM rehearsal.kv WHERE k = 42",
                consistency_level=ConsistencyLevel.LOCAL_QUORUM,
            )
            assert session.execute(read).one().v == 42
        finally:
            cluster.shutdown()


def test_the_demo_refuses_a_cluster_too_big_for_an_exporter_per_node(tmp_path, capsys):
    """`rackpanel demo` runs one exporter process per node: on a scaled inventory it stops
    before starting anything and says what to run instead."""
    path = scaled_inventory_file(tmp_path, racks=5, per_rack=10, octet=OCTET)
    run_dir = tmp_path / "run"
    demo = ["demo", "--inventory", str(path), "--no-ui", "--run-dir", str(run_dir)]
    assert main(demo) == 2
    err = capsys.readouterr().err
    assert "has 100 nodes" in err and f"rackpanel sim --inventory {path}" in err
    assert not run_dir.exists()

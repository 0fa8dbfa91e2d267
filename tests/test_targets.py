"""The one target grammar (topology.targets) and every place that uses it."""

from __future__ import annotations

import pytest
from rackpanel.deploy.hosts import HostSelectionError, select_hosts
from rackpanel.simulator.cluster import SimCluster, UnknownTarget
from rackpanel.topology.targets import TargetError, link_targets, parse_link, select

from rackpanel.compose import node_services


def test_each_kind_of_target(demo_inventory):
    nodes = list(demo_inventory.nodes())
    dc1 = select("DC1", nodes)
    assert dc1.kind == "dc" and {n.dc for n in dc1.members} == {"DC1"}
    assert len(dc1.members) == sum(1 for n in nodes if n.dc == "DC1")
    rack = select("DC1/RAC2", nodes)
    assert rack.kind == "rack" and {(n.dc, n.rack) for n in rack.members} == {("DC1", "RAC2")}
    node = select(nodes[0].name, nodes)
    assert node.kind == "node" and node.members == (nodes[0],)
    link = select("link:DC1-DC2", nodes)
    assert link.kind == "link" and link.link == ("DC1", "DC2") and not link.members


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("DC9", r"unknown target 'DC9': expected a DC \(DC1, DC2\), a rack \(DC1/RAC1"),
        ("DC1/RAC9", "unknown target 'DC1/RAC9'"),
        ("link:DC1-DC1", "two different DCs of DC1, DC2"),
        ("link:DC1-DC9", "unknown link"),
    ],
)
def test_a_bad_target_says_what_exists(demo_inventory, text, message):
    with pytest.raises(TargetError, match=message):
        select(text, demo_inventory.nodes())


def test_dc_names_with_dashes_and_every_link():
    assert parse_link("link:eu-west-us-east", ["eu-west", "us-east"]) == ("eu-west", "us-east")
    assert link_targets(["A", "B", "C"]) == ["link:A-B", "link:A-C", "link:B-C"]


def test_simulator_compose_and_deploy_share_the_grammar(demo_inventory):
    cluster = SimCluster.from_inventory(demo_inventory)
    assert {n.name for n in cluster.resolve_target("DC1/RAC2").nodes} == {
        p.name for p in demo_inventory.nodes() if (p.dc, p.rack) == ("DC1", "RAC2")
    }
    assert cluster.resolve_target("link:DC1-DC2").link == ("DC1", "DC2")
    with pytest.raises(UnknownTarget, match="unknown power target 'DC9'"):
        cluster.resolve_target("DC9")

    services = node_services(demo_inventory, "DC1/RAC2")
    assert services and all(s.startswith(("rpidc1r2", "exporter-rpidc1r2")) for s in services)
    with pytest.raises(TargetError, match="compose"):
        node_services(demo_inventory, "link:DC1-DC2")

    hosts = select_hosts(demo_inventory, ["DC1/RAC2", "rpidc1user"])
    assert {h.name for h in hosts} == {*(s for s in services if "exporter" not in s), "rpidc1user"}
    with pytest.raises(HostSelectionError):
        select_hosts(demo_inventory, ["DC1/RAC9"])


def test_the_placement_catalogue_places_every_process(demo_inventory):
    from rackpanel.topology.placement import (
        exporter_address,
        monitor_address,
        writer_address,
    )

    inv = demo_inventory
    node = next(inv.nodes())
    writer = next(inv.writer_places())
    assert exporter_address(inv, node, "pi") == f"{node.address}:{inv.ports.exporter}"
    assert exporter_address(inv, node, "sim") == f"{node.sim_address}:{inv.ports.exporter}"
    assert exporter_address(inv, node, "compose") == f"{node.name}:{inv.ports.exporter}"
    assert writer_address(inv, writer, "sim") == f"{writer.sim_address}:{inv.ports.writer}"
    assert monitor_address(inv, "grafana", "pi") == f"{inv.monitor.address}:3000"
    assert monitor_address(inv, "alertmanager", "pi", beside=True) == "127.0.0.1:9093"
    assert monitor_address(inv, "prometheus", "compose") == "prometheus:9090"
    assert inv.monitor_ports == (inv.monitor.prometheus_port, 9093, 3000)
    assert inv.model_copy(update={"monitor": None}).monitor_ports == (9090, 9093, 3000)

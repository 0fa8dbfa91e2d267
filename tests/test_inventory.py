"""The inventory model: the demo file, every invalid case, defaults that round-trip."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from rackpanel.topology import InventoryError, dump_inventory, load_inventory, parse_inventory

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def raw() -> dict[str, Any]:
    return yaml.safe_load((REPO / "inventory.yml").read_text())


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(InventoryError) as info:
        parse_inventory(data, "test.yml")
    assert str(info.value).startswith("test.yml: invalid inventory")
    return info.value.problems


def test_demo_inventory_is_the_seed_panel(demo_inventory):
    inv = demo_inventory
    assert inv.cluster.name == "BlaBlaRpi Cluster"
    layout = {(p.dc, p.rack): [] for p in inv.nodes()}
    for p in inv.nodes():
        layout[(p.dc, p.rack)].append(p.name)
    assert layout == {
        ("DC1", "RAC1"): ["rpidc1r1n1", "rpidc1r1n2"],
        ("DC1", "RAC2"): ["rpidc1r2n1", "rpidc1r2n2"],
        ("DC1", "RAC3"): ["rpidc1r3n1", "rpidc1r3n2"],
        ("DC2", "RAC1"): ["rpidc2r1n1", "rpidc2r1n2", "rpidc2r1n3"],
    }
    assert inv.seeds == ["rpidc1r1n1", "rpidc1r2n1", "rpidc2r1n1"]
    assert inv.keyspace.name == "demorpi"
    assert inv.keyspace.replication == {"DC1": 3, "DC2": 3}
    assert [(w.name, w.local_dc) for w in inv.writers] == [
        ("rpidc1user", "DC1"),
        ("rpidc2user", "DC2"),
    ]
    assert inv.monitor is not None


def test_simulator_addresses_follow_the_convention(demo_inventory):
    inv = demo_inventory
    assert str(inv.node("rpidc1r2n1").sim_address) == "127.0.12.1"
    assert str(inv.node("rpidc2r1n3").sim_address) == "127.0.21.3"
    writers = {w.name: str(w.sim_address) for w in inv.writer_places()}
    assert writers == {"rpidc1user": "127.0.10.1", "rpidc2user": "127.0.20.1"}
    assert str(inv.monitor.sim_address) == "127.0.0.1"


def test_sim_address_may_be_overridden(raw):
    raw["datacenters"][0]["racks"][0]["nodes"][0]["sim_address"] = "127.1.1.1"
    inv = parse_inventory(raw)
    assert str(inv.node("rpidc1r1n1").sim_address) == "127.1.1.1"


def test_defaults_round_trip(demo_inventory, tmp_path):
    text = dump_inventory(demo_inventory)
    (tmp_path / "full.yml").write_text(text)
    again = load_inventory(tmp_path / "full.yml")
    assert again == demo_inventory
    assert again.cluster.num_tokens == 16
    assert again.ports.cql == 9042 and again.ports.exporter == 9500 and again.ports.writer == 9501


def test_duplicate_node_name(raw):
    raw["datacenters"][1]["racks"][0]["nodes"][2]["name"] = "rpidc1r1n1"
    found = problems_of(raw)
    assert any("duplicate host name 'rpidc1r1n1'" in p for p in found)


def test_duplicate_address(raw):
    raw["datacenters"][0]["racks"][1]["nodes"][0]["address"] = "192.168.11.11"
    found = problems_of(raw)
    assert any("192.168.11.11" in p and "rpidc1r1n1" in p and "rpidc1r2n1" in p for p in found)


def test_seed_naming_no_node(raw):
    raw["seeds"].append("rpidc9r9n9")
    assert any(p.startswith("seeds:") and "rpidc9r9n9" in p for p in problems_of(raw))


def test_writer_naming_no_node_or_dc(raw):
    raw["writers"][0]["contact_points"] = ["nosuchnode"]
    raw["writers"][1]["local_dc"] = "DC7"
    found = problems_of(raw)
    assert any(p.startswith("writers.rpidc1user.contact_points") for p in found)
    assert any(p.startswith("writers.rpidc2user.local_dc") and "DC7" in p for p in found)


def test_rf_above_node_count(raw):
    raw["keyspace"]["replication"]["DC2"] = 4
    found = problems_of(raw)
    assert found == ["keyspace.replication.DC2: replication factor 4 is above the 3 node(s) of DC2"]


def test_empty_rack(raw):
    raw["datacenters"][0]["racks"][2]["nodes"] = []
    assert problems_of(raw) == ["datacenters.DC1.racks.RAC3.nodes: rack 'RAC3' is empty"]


def test_unknown_keys_are_named_with_their_place(raw):
    raw["datacenters"][0]["racks"][1]["nodes"][1]["adress"] = "1.2.3.4"
    raw["clutser"] = {}
    found = problems_of(raw)
    assert "datacenters.DC1.racks.RAC2.nodes.rpidc1r2n2: unknown key 'adress'" in found
    assert "(top level): unknown key 'clutser'" in found or ": unknown key 'clutser'" in " ".join(
        found
    )


def test_every_problem_is_reported_at_once(raw):
    bad = copy.deepcopy(raw)
    bad["seeds"] = ["ghost"]
    bad["keyspace"]["replication"]["DC1"] = 7
    bad["datacenters"][1]["racks"][0]["nodes"] = []
    found = problems_of(bad)
    assert len(found) >= 3


def test_bad_value_names_field(raw):
    raw["datacenters"][0]["racks"][0]["nodes"][0]["address"] = "not-an-ip"
    found = problems_of(raw)
    assert len(found) == 1
    assert found[0].startswith("datacenters.DC1.racks.RAC1.nodes.rpidc1r1n1.address:")


def test_duplicate_yaml_key_and_bad_yaml_name_the_file(tmp_path):
    f = tmp_path / "dup.yml"
    f.write_text("cluster: {name: a}\ncluster: {name: b}\n")
    with pytest.raises(InventoryError, match=r"(?s)dup\.yml.*line 2.*duplicate key 'cluster'"):
        load_inventory(f)
    g = tmp_path / "broken.yml"
    g.write_text("cluster: [unclosed\n")
    with pytest.raises(InventoryError, match=r"(?s)broken\.yml.*not valid YAML"):
        load_inventory(g)
    with pytest.raises(InventoryError, match=r"(?s)missing\.yml.*cannot read"):
        load_inventory(tmp_path / "missing.yml")


def test_inventory_is_immutable(demo_inventory):
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error type
        demo_inventory.cluster.name = "other"  # type: ignore[misc]


def test_backlight_colours_belong_to_datacenters(raw, demo_inventory):
    assert demo_inventory.dc_colors() == {"DC1": (0, 1, 0), "DC2": (0, 0, 1)}
    raw["datacenters"][0]["color"] = [0, 2, 0]
    assert problems_of(raw) == ["datacenters.DC1.color: each of r, g, b must be 0 or 1"]


def test_cassandra_5_0_is_the_default_and_4_1_stays_supported(raw):
    del raw["cluster"]["cassandra_version"]
    assert parse_inventory(raw, "test.yml").cluster.release == "5.0"
    raw["cluster"]["cassandra_version"] = "4.1.7"
    assert parse_inventory(raw, "test.yml").cluster.release == "4.1"
    raw["cluster"]["cassandra_version"] = "4.0.13"
    found = problems_of(raw)
    assert any("cluster.cassandra_version" in p and "4.0.13 is not supported" in p for p in found)

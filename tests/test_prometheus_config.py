"""The generated Prometheus/Alertmanager configuration: content, validity, staleness."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from rackpanel.contract import alert_names, record_names
from rackpanel.prometheus import rules
from rackpanel.prometheus.alertmanager import INHIBIT_RULES
from rackpanel.prometheus.config import render
from rackpanel.prometheus.generate import files as generated_files
from rackpanel.prometheus.profiles import DEMO, PRODUCTION
from rackpanel.prometheus.targets import PLACEMENTS
from rackpanel.topology import Inventory

from rackpanel.cli.generate import plan
from tests.support.binaries import require_binary

# What the design asks for at least (the contract, rackpanel.contract, may hold more).
MANDATORY_RECORDS = {
    "cassandra:endpoint_up:max",
    "cassandra:rack_nodes_up:sum",
    "cassandra:rack_nodes:count",
    "cassandra:dc_nodes_up:sum",
    "cassandra:dc_nodes:count",
    "lcd_writer:success_ratio:rate1m",
}
MANDATORY_ALERTS = {
    "CassandraNodeDown",
    "CassandraRackDown",
    "CassandraDatacenterUnavailable",
    "CassandraDatacenterPartitioned",
    "CassandraLocalQuorumAtRisk",
    "CassandraExporterDown",
    "CassandraJvmHeapHigh",
    "LcdWriterWritesFailing",
    "LcdWriterDown",
}


def write_tree(files: dict[str, str], root: Path) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def all_rules(files: dict[str, str]) -> list[dict]:
    found = []
    for rel, text in files.items():
        if rel.startswith("rules/"):
            for group in yaml.safe_load(text)["groups"]:
                found.extend(group["rules"])
    return found


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_every_target_is_labelled_from_the_inventory(demo_inventory: Inventory, placement):
    files = render(demo_inventory, placement)
    nodes = json.loads(files["targets/cassandra.json"])
    writers = json.loads(files["targets/lcd_writer.json"])
    places = list(demo_inventory.nodes())
    assert len(nodes) == len(places) == 9
    for group, place in zip(nodes, places, strict=True):
        assert group["labels"] == {
            "cluster": "BlaBlaRpi Cluster",
            "dc": place.dc,
            "rack": place.rack,
            "node": place.name,
        }
        host = {"pi": str(place.address), "sim": str(place.sim_address), "compose": place.name}
        assert group["targets"] == [f"{host[placement]}:9500"]
    assert [(w["labels"]["node"], w["labels"]["dc"]) for w in writers] == [
        ("rpidc1user", "DC1"),
        ("rpidc2user", "DC2"),
    ]
    assert all(w["targets"][0].endswith(":9501") and w["labels"]["rack"] for w in writers)


def test_profiles_set_the_pace_from_one_rule_source(demo_inventory: Inventory):
    demo = render(demo_inventory, "sim", "demo")
    prod = render(demo_inventory, "sim", "production")
    demo_global = yaml.safe_load(demo["prometheus.yml"])["global"]
    prod_global = yaml.safe_load(prod["prometheus.yml"])["global"]
    assert (demo_global["scrape_interval"], demo_global["evaluation_interval"]) == ("2s", "2s")
    assert (prod_global["scrape_interval"], prod_global["evaluation_interval"]) == ("15s", "15s")
    demo_rules, prod_rules = all_rules(demo), all_rules(prod)
    # Same rules, same queries (bar rate windows), only the hold times and windows differ.
    assert [r.get("alert", r.get("record")) for r in demo_rules] == [
        r.get("alert", r.get("record")) for r in prod_rules
    ]
    for d, p in zip(demo_rules, prod_rules, strict=True):
        if "alert" in d:
            assert d["for"] == DEMO.hold_for(d["alert"])
            assert p["for"] == PRODUCTION.hold_for(p["alert"])
            assert d["for"].endswith("s") and p["for"].endswith("m")


def test_rules_cover_the_contract_and_every_alert_explains_itself(demo_inventory: Inventory):
    found = all_rules(render(demo_inventory, "pi"))
    records = {r["record"] for r in found if "record" in r}
    alerts = [r for r in found if "alert" in r]
    assert records == record_names() >= MANDATORY_RECORDS
    assert {a["alert"] for a in alerts} == alert_names() >= MANDATORY_ALERTS
    assert set(rules.alert_names()) == alert_names()
    for alert in alerts:
        assert alert["labels"]["severity"] in {"warning", "critical"}, alert["alert"]
        summary, description = alert["annotations"]["summary"], alert["annotations"]["description"]
        assert summary and len(description) > len(summary), alert["alert"]
        place = "$labels.node" if "$labels.node" in summary else "$labels.endpoint_dc"
        assert place in summary or "$labels.dc" in summary, alert["alert"]


def test_local_quorum_risk_follows_the_replication(demo_inventory: Inventory):
    by_dc = {dict(a.labels)["endpoint_dc"]: a for a in rules.local_quorum_at_risk(demo_inventory)}
    assert set(by_dc) == {"DC1", "DC2"}
    # DC1: three racks, RF 3 -> one replica per rack, two racks with a down node is too many.
    assert "count by (endpoint_dc)" in by_dc["DC1"].expr and by_dc["DC1"].expr.endswith("> 1")
    # DC2: one rack, RF 3 -> every node is a replica, two down nodes are too many.
    assert "sum by (endpoint_dc)" in by_dc["DC2"].expr and by_dc["DC2"].expr.endswith("> 1")


@pytest.mark.parametrize("profile", ["demo", "production"])
@pytest.mark.parametrize("placement", PLACEMENTS)
def test_promtool_and_amtool_accept_the_configuration(
    demo_inventory: Inventory, tmp_path: Path, placement, profile
):
    promtool = require_binary("promtool")
    amtool = require_binary("amtool")
    files = render(demo_inventory, placement, profile, webhook_url="http://127.0.0.1:1/hook")
    root = write_tree(files, tmp_path)
    checked = subprocess.run(
        [promtool, "check", "config", str(root / "prometheus.yml")], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 2 rule files found" in checked.stdout
    am = subprocess.run(
        [amtool, "check-config", str(root / "alertmanager.yml")], capture_output=True, text=True
    )
    assert am.returncode == 0, am.stdout + am.stderr
    assert "2 inhibit rules" in am.stdout


def test_inhibitions_follow_the_outage_hierarchy(demo_inventory: Inventory):
    config = yaml.safe_load(render(demo_inventory, "sim")["alertmanager.yml"])
    dc_rule, rack_rule = config["inhibit_rules"]
    assert dc_rule["source_matchers"] == ['alertname="CassandraDatacenterUnavailable"']
    assert "CassandraRackDown" in dc_rule["target_matchers"][0]
    assert "CassandraNodeDown" in dc_rule["target_matchers"][0]
    assert "endpoint_dc" in dc_rule["equal"] and "endpoint_rack" not in dc_rule["equal"]
    assert rack_rule["target_matchers"] == ['alertname="CassandraNodeDown"']
    assert {"endpoint_dc", "endpoint_rack"} <= set(rack_rule["equal"])


def test_committed_files_are_current_and_staleness_is_caught(
    demo_inventory: Inventory, repo_root: Path, tmp_path: Path
):
    assert not plan(demo_inventory, repo_root, ["rackpanel.prometheus.generate"]).stale
    copy = write_tree(generated_files(demo_inventory), tmp_path)
    assert not plan(demo_inventory, copy, ["rackpanel.prometheus.generate"]).stale
    targets = copy / "prometheus/targets/cassandra.json"
    targets.write_text(targets.read_text().replace("rpidc2r1n3", "rpidc2r1n9"))
    (copy / "prometheus/rules/old.yml").write_text("groups: []\n")
    result = plan(demo_inventory, copy, ["rackpanel.prometheus.generate"])
    assert result.changed == ["prometheus/targets/cassandra.json"]
    assert result.orphaned == ["prometheus/rules/old.yml"]


def test_bad_profile_or_placement_is_named(demo_inventory: Inventory):
    with pytest.raises(ValueError, match="'staging'"):
        render(demo_inventory, "pi", "staging")
    with pytest.raises(ValueError, match="'k8s'"):
        render(demo_inventory, "k8s")  # type: ignore[arg-type]


def test_every_inhibiting_alert_outlasts_the_recovery_of_what_it_inhibits(
    demo_inventory: Inventory,
):
    # Power returns node by node: the rack or DC condition clears with the first node seen up,
    # so the alerts that inhibit others keep firing, in both profiles, at least as long as the
    # node alerts they inhibit take to fire; otherwise the last node back is notified alone.
    sources = {
        matcher.split('"')[1]
        for rule in INHIBIT_RULES
        for matcher in rule["source_matchers"]  # type: ignore[union-attr]
    }
    assert sources == {"CassandraDatacenterUnavailable", "CassandraRackDown"}
    for profile in (DEMO, PRODUCTION):
        rendered = {
            r["alert"]: r
            for r in all_rules(render(demo_inventory, "sim", profile.name))
            if "alert" in r
        }
        for name, rule in rendered.items():
            if name in sources:
                assert seconds(rule["keep_firing_for"]) >= seconds(
                    profile.hold_for("CassandraNodeDown")
                ), (profile.name, name)
            else:
                assert "keep_firing_for" not in rule, (profile.name, name)


def seconds(duration: str) -> float:
    return float(duration[:-1]) * {"s": 1, "m": 60}[duration[-1]]

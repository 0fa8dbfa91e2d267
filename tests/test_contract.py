"""The metric contract is the one source: change a family in it and the exporter, the rules,
the dashboards and docs/metrics.md follow, or `rackpanel generate` refuses / goes stale."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from rackpanel.contract import ContractError, MetricFamily, metric_families
from rackpanel.contract import families as m
from rackpanel.contract.docs import render as render_docs
from rackpanel.dashboards.catalog import json_files
from rackpanel.exporter.exposition import Family, render
from rackpanel.exporter.families import cql_families
from rackpanel.exporter.readings import CqlReading, EndpointId, LocalNode, ThreadPool
from rackpanel.prometheus.profiles import DEMO
from rackpanel.prometheus.rules import rule_files
from rackpanel.topology import load_inventory

from rackpanel.cli.generate import plan
from tests.support.contract import families as page_families

REPO = Path(__file__).resolve().parent.parent

LOCAL = EndpointId("127.0.0.1", "DC1", "RAC1")
READING = CqlReading(
    local=LocalNode("5f1d…", LOCAL, "5.0.2", "rackpanel"),
    gossip=(),
    gossip_from_peers=False,
    phi_convict_threshold=8.0,
    thread_pools=(ThreadPool("MutationStage", 1, 2, 3, 40, 5),),
    native_clients=2,
    pending_hints=(),
)


@pytest.fixture
def inventory():
    return load_inventory(REPO / "inventory.yml")


def change(monkeypatch: pytest.MonkeyPatch, attribute: str, **fields: object) -> MetricFamily:
    """Change one family of the contract for this test, as an edit of contract/ would."""
    changed = dataclasses.replace(getattr(m, attribute), **fields)
    monkeypatch.setattr(m, attribute, changed)
    return changed


def exporter_page() -> str:
    return render(cql_families(READING)).decode()


def test_the_committed_docs_are_the_contract():
    assert (REPO / "docs" / "metrics.md").read_text() == render_docs()
    assert "cassandra_thread_pool_currently_blocked_tasks" in render_docs()
    assert "cassandra_thread_pool_blocked_tasks |" not in render_docs()


def test_a_renamed_family_is_followed_by_exporter_dashboards_and_docs(monkeypatch, inventory):
    old = m.POOL_BLOCKED.name
    new = change(monkeypatch, "POOL_BLOCKED", name="cassandra_thread_pool_stuck_tasks").name

    page = page_families(exporter_page())
    assert new in page and old not in page
    assert page[new] == ("gauge", frozenset({"pool"}))

    node_board = json_files(inventory)["dashboards/json/rackpanel-node.json"]
    assert new in node_board and f"{old}{{" not in node_board
    assert f"`{new}`" in render_docs()

    stale = plan(inventory, REPO).changed
    assert {"docs/metrics.md", "dashboards/json/rackpanel-node.json"} <= set(stale)
    rule_files(inventory, DEMO)  # the rules do not read this family: nothing to follow


def test_a_renamed_family_that_a_rule_and_a_dashboard_read_stops_generation(monkeypatch, inventory):
    change(monkeypatch, "ENDPOINT_UP", name="cassandra_endpoint_alive")
    with pytest.raises(ContractError, match="unknown series 'cassandra_endpoint_up'"):
        rule_files(inventory, DEMO)
    with pytest.raises(ContractError, match="unknown series 'cassandra_endpoint_up'"):
        json_files(inventory)
    with pytest.raises(ContractError):
        plan(inventory, REPO)


def test_help_type_and_labels_come_from_the_contract(monkeypatch):
    change(monkeypatch, "NATIVE_CLIENTS", help="Clients on the native port")
    assert "# HELP cassandra_native_clients Clients on the native port" in exporter_page()

    change(monkeypatch, "POOL_ACTIVE", labels=("pool", "stage"))
    with pytest.raises(ContractError, match="labels"):
        exporter_page()


def test_an_alert_the_contract_does_not_name_is_refused_by_the_rules(monkeypatch, inventory):
    from rackpanel.contract import rules as contract_rules

    renamed = dataclasses.replace(contract_rules.RACK_DOWN, name="CassandraRackGone")
    monkeypatch.setattr(contract_rules, "RACK_DOWN", renamed)
    with pytest.raises(ContractError, match="alert CassandraRackDown: not in the contract"):
        rule_files(inventory, DEMO)


@pytest.mark.parametrize(
    "fields, problem",
    [
        ({"name": "cassandra_x_total", "type": "gauge"}, "_total"),
        ({"name": "cassandra_x", "type": "counter"}, "_total"),
        ({"name": "lcd_writer_x"}, "prefix"),
        ({"labels": ("pool", "dc")}, "target labels"),
        ({"labels": ("pool", "pool")}, "repeats"),
        ({"help": ""}, "help"),
        ({"name": "cassandra_Bad"}, "snake_case"),
    ],
)
def test_the_contract_keeps_its_conventions(fields, problem):
    base = {"name": "cassandra_x", "type": "gauge", "help": "h", "job": "cassandra"}
    with pytest.raises(ContractError, match=problem):
        MetricFamily(**{**base, **fields})


def test_every_exporter_family_names_the_source_it_needs():
    own = {m.SOURCE_UP, m.COLLECT_DURATION, m.COLLECT_ERRORS}
    for family in metric_families():
        if family.job == "cassandra" and family not in own:
            assert family.sources, family.name
        if family.job == "lcd_writer":
            assert not family.sources, family.name


def test_the_exporter_family_type_is_checked():
    with pytest.raises(ContractError, match="histogram"):
        Family(m.WRITER_REQUEST_DURATION).add(1.0, operation="w", cl="ONE", outcome="x").metric()

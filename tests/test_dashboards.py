"""Dashboards offline: layout, SDK round trip, metric vocabulary, generation, provisioning."""

from __future__ import annotations

import configparser
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from rackpanel.contract import series_names
from rackpanel.dashboards import consistency, kiosk, node
from rackpanel.dashboards.catalog import BUILDERS, JSON_DIR, dashboards
from rackpanel.dashboards.datasources import ALERTMANAGER_UID, PROMETHEUS_UID
from rackpanel.dashboards.layout import GRID_COLUMNS, KIOSK_ROWS, Box, layout_problems, split
from rackpanel.dashboards.provisioning import (
    KIOSK_PATH,
    grafana_environment,
    kiosk_url,
    provisioning,
)
from rackpanel.topology import load_inventory, parse_inventory

from rackpanel.cli.generate import apply, plan
from tests.support.dashboard_checks import panel_queries, round_trip_problems, unknown_series
from tests.support.inventories import shifted_inventory
from tests.support.lab import loopback_octet

REPO = Path(__file__).resolve().parent.parent
GENERATOR = ["rackpanel.dashboards.generate"]


@pytest.fixture(scope="module")
def boards(demo_inventory) -> dict:
    return dashboards(demo_inventory)


def test_every_dashboard_has_its_stable_uid_and_committed_file(boards) -> None:
    assert set(boards) == {"rackpanel-panel", "rackpanel-node", "rackpanel-consistency"}
    for uid, board in boards.items():
        assert board["uid"] == uid
        committed = json.loads((REPO / JSON_DIR / f"{uid}.json").read_text())
        assert committed == board, f"{uid}: committed JSON is stale, run `rackpanel generate`"


@pytest.mark.parametrize("uid", list(BUILDERS))
def test_grid_ids_unique_within_24_columns_without_overlap(boards, uid) -> None:
    assert layout_problems(boards[uid]) == []


def test_kiosk_fills_one_1080p_screen_without_scrolling(boards) -> None:
    board = boards[kiosk.UID]
    assert layout_problems(board, max_rows=KIOSK_ROWS) == []
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in board["panels"])
    assert bottom == KIOSK_ROWS, "the kiosk should use the whole screen"
    assert board["refresh"] == "5s"


@pytest.mark.parametrize("uid", list(BUILDERS))
def test_json_round_trips_through_the_sdk_models(boards, uid) -> None:
    assert round_trip_problems(boards[uid]) == []


@pytest.mark.parametrize("uid", list(BUILDERS))
def test_queries_use_only_contract_series_with_ref_ids_and_the_fixed_datasource(
    boards, uid
) -> None:
    board = boards[uid]
    assert unknown_series(board) == []
    assert panel_queries(board), "a dashboard without queries"
    for panel in board["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == PROMETHEUS_UID
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)) and all(refs), panel["title"]
        assert all(t["datasource"]["uid"] == PROMETHEUS_UID for t in panel["targets"])


@pytest.mark.parametrize("uid", list(BUILDERS))
def test_no_query_names_an_address(boards, uid) -> None:
    """Nodes are selected by their inventory name (the ``node`` label): compose and real hosts
    give endpoints addresses that no dashboard could know. Live, the kiosk's map is checked
    against an inventory naming none of the running addresses (test_dashboards_live)."""
    address = re.compile(r"\b\d{1,3}(\.\d{1,3}){3}\b")
    assert [q.expr for q in panel_queries(boards[uid]) if address.search(q.expr)] == []


def test_series_names_ignore_labels_functions_and_durations() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le, cl) (rate(x_bucket{a="y:z", b=~"c(d)"}[1m])))'
        " / ignoring (cl) group_left () cassandra:dc_nodes:count or on () vector(0)"
    )
    assert series_names(expr) == {"x_bucket", "cassandra:dc_nodes:count"}


def test_the_map_follows_the_inventory(tmp_path, demo_inventory) -> None:
    raw = yaml.safe_load((REPO / "inventory.yml").read_text())
    raw["datacenters"][1]["racks"].append(
        {"name": "RAC2", "nodes": [{"name": "rpidc2r2n1", "address": "192.168.11.51"}]}
    )
    raw["writers"] = raw["writers"][:1]
    raw["keyspace"]["replication"] = {"DC1": 3, "DC2": 3}
    bigger = parse_inventory(raw, "test")
    board = json.loads(json.dumps(dashboards(bigger)[kiosk.UID]))
    titles = {p["title"] for p in board["panels"]}
    assert "DC2 / RAC2" in titles and "rpidc2user: write CL" not in titles
    assert layout_problems(board, max_rows=KIOSK_ROWS) == []
    rack = next(p for p in board["panels"] if p["title"] == "DC2 / RAC2")
    assert [t["legendFormat"] for t in rack["targets"]] == ["rpidc2r2n1"]
    assert 'node="rpidc2r2n1"' in rack["targets"][0]["expr"]
    # tiles select by node name, never by address: moving every address changes nothing
    k = loopback_octet()
    shifted = load_inventory(shifted_inventory(tmp_path, k))
    exprs = [q.expr for q in panel_queries(dashboards(shifted)[kiosk.UID])]
    assert not any("192.168" in e or f"127.{k}." in e or "127\\." in e for e in exprs)
    assert dashboards(demo_inventory)[kiosk.UID] == dashboards(shifted)[kiosk.UID]


def test_node_and_consistency_boards_have_their_variables(boards) -> None:
    names = [v["name"] for v in boards[node.UID]["templating"]["list"]]
    assert names == ["dc", "rack", "node"]
    assert [v["name"] for v in boards[consistency.UID]["templating"]["list"]] == ["cl"]


def test_generate_check_flags_stale_and_orphaned_files(tmp_path, demo_inventory) -> None:
    assert not plan(demo_inventory, REPO, GENERATOR).stale
    shutil.copytree(REPO / "dashboards", tmp_path / "dashboards")
    assert not plan(demo_inventory, tmp_path, GENERATOR).stale
    panel = tmp_path / JSON_DIR / "rackpanel-panel.json"
    panel.write_text(panel.read_text().replace('"5s"', '"1m"'))
    (tmp_path / JSON_DIR / "old-board.json").write_text("{}")
    result = plan(demo_inventory, tmp_path, GENERATOR)
    assert result.changed == [f"{JSON_DIR}/rackpanel-panel.json"]
    assert result.orphaned == [f"{JSON_DIR}/old-board.json"]
    apply(result, tmp_path)
    assert not plan(demo_inventory, tmp_path, GENERATOR).stale


def test_provisioning_renders_for_any_placement() -> None:
    files = provisioning(
        "http://prometheus:9090", "http://alertmanager:9093", "/dash", scrape_interval="15s"
    )
    sources = yaml.safe_load(files["datasources/rackpanel.yml"])["datasources"]
    by_uid = {s["uid"]: s for s in sources}
    assert by_uid[PROMETHEUS_UID]["url"] == "http://prometheus:9090"
    assert by_uid[PROMETHEUS_UID]["jsonData"]["timeInterval"] == "15s"
    assert by_uid[ALERTMANAGER_UID]["type"] == "alertmanager"
    assert by_uid[ALERTMANAGER_UID]["jsonData"]["implementation"] == "prometheus"
    provider = yaml.safe_load(files["dashboards/rackpanel.yml"])["providers"][0]
    assert provider["type"] == "file" and provider["options"]["path"] == "/dash"
    ini = configparser.ConfigParser()
    ini.read_string(files["grafana.ini"])
    assert ini["dashboards"]["default_home_dashboard_path"] == "/dash/rackpanel-panel.json"
    env = grafana_environment("/dash")
    assert env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"] == "/dash/rackpanel-panel.json"
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "true"


def test_kiosk_url() -> None:
    assert KIOSK_PATH == (
        "/d/rackpanel-panel/rackpanel-panel"
        "?orgId=1&kiosk&_dash.hideTimePicker&_dash.hideVariables&refresh=5s"
    )
    assert kiosk_url("http://127.0.0.1:3000/").startswith("http://127.0.0.1:3000/d/")


def test_layout_checks_catch_bad_grids() -> None:
    board = {
        "panels": [
            {"id": 1, "title": "a", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 4}},
            {"id": 1, "title": "b", "gridPos": {"x": 6, "y": 2, "w": 12, "h": 4}},
            {"id": 3, "title": "c", "gridPos": {"x": 20, "y": 30, "w": 6, "h": 4}},
        ]
    }
    problems = "\n".join(layout_problems(board, max_rows=KIOSK_ROWS))
    assert "already used" in problems and "overlaps" in problems
    assert f"past {GRID_COLUMNS}" in problems and "past the screen" in problems


def test_split_is_exact_and_proportional() -> None:
    assert split(24, [1, 1, 1, 1]) == [6, 6, 6, 6]
    assert sum(split(23, [1, 2, 3])) == 23
    assert Box(0, 0, 24, 3).columns([1, 5])[1] == Box(4, 0, 20, 3)
    with pytest.raises(ValueError):
        split(2, [1, 1, 1])


def test_preview_draws_the_kiosk_at_screen_size(tmp_path, boards) -> None:
    image_module = pytest.importorskip("PIL.Image")
    from rackpanel.dashboards.layout import SCREEN_HEIGHT_PX

    from tests.support.preview import BACKGROUND, PANEL, WIDTH_PX, render

    path = render(boards[kiosk.UID], tmp_path / "panel.png", min_height=SCREEN_HEIGHT_PX)
    with image_module.open(path) as image:
        assert image.size == (WIDTH_PX, SCREEN_HEIGHT_PX)
        pixels = image.convert("RGB")
        assert pixels.getpixel((5, 5)) == _rgb(BACKGROUND)
        # the alert table (bottom right) is drawn inside the screen
        assert pixels.getpixel((WIDTH_PX - 40, SCREEN_HEIGHT_PX - 80)) == _rgb(PANEL)


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))

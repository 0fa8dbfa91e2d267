"""promtool unit tests of the rules, run against both profiles' rendering of the rules."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from rackpanel.prometheus.config import render
from rackpanel.topology import Inventory

from tests.support.binaries import require_binary
from tests.support.rule_tests import TESTS_DIR, build


def test_committed_promtool_tests_match_their_scenarios(demo_inventory: Inventory):
    for name, text in build(demo_inventory).items():
        committed = (TESTS_DIR / name).read_text()
        stale = f"stale prometheus/tests/{name}: python -m tests.support.rule_tests"
        assert committed == text, stale


@pytest.mark.parametrize("profile", ["demo", "production"])
def test_alerts_fire_and_stay_quiet_as_the_scenarios_say(
    demo_inventory: Inventory, tmp_path: Path, profile: str
):
    promtool = require_binary("promtool")
    for rel, text in render(demo_inventory, "pi", profile).items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    shutil.copytree(TESTS_DIR, tmp_path / "tests")
    names = sorted(p.name for p in (tmp_path / "tests").glob("*.yml"))
    assert names == ["cassandra_test.yml", "lcd_writer_test.yml"]
    result = subprocess.run(
        [promtool, "test", "rules", *names], cwd=tmp_path / "tests", capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert result.stdout.count("SUCCESS") == 2

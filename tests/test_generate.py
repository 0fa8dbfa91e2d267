"""Committed generated files are exactly what the inventory produces; stale ones are caught."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from rackpanel.topology import load_inventory

from rackpanel.cli.generate import GENERATORS, plan

REPO = Path(__file__).resolve().parent.parent


def generate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        # The console script, as a user runs it (``python -m`` would put the cwd, which holds a
        # generated prometheus/ directory, ahead of the installed package on sys.path).
        [str(Path(sys.executable).with_name("rackpanel")), "generate", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_every_part_that_generates_files_is_registered():
    assert GENERATORS == [
        "rackpanel.contract.docs",
        "rackpanel.prometheus.generate",
        "rackpanel.dashboards.generate",
        "rackpanel.compose",
    ]


def test_committed_generated_files_are_up_to_date(demo_inventory):
    result = plan(demo_inventory, REPO)
    assert result.changed == [], f"stale: {result.changed}; run `rackpanel generate`"
    assert result.orphaned == [], f"orphaned: {result.orphaned}"
    assert "docker-compose.yml" in result.wanted
    assert any(rel.startswith("prometheus/targets/") for rel in result.wanted)
    assert any(rel.startswith("dashboards/json/") for rel in result.wanted)


def test_check_fails_on_a_stale_or_orphaned_file_and_generate_repairs_it(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(REPO / "inventory.yml", root / "inventory.yml")
    assert generate("--inventory", "inventory.yml", cwd=root).returncode == 0
    assert generate("--check", cwd=root).returncode == 0

    (root / "docker-compose.yml").write_text("services: {}\n")
    orphan = root / "prometheus" / "targets" / "old-dc.json"
    orphan.write_text("[]\n")
    stale = generate("--check", "--diff", cwd=root)
    assert stale.returncode == 1
    assert "stale: docker-compose.yml" in stale.stderr
    assert "orphaned (no longer generated): prometheus/targets/old-dc.json" in stale.stderr
    assert "+++ docker-compose.yml" in stale.stderr

    repaired = generate(cwd=root)
    assert repaired.returncode == 0
    assert not orphan.exists()
    assert generate("--check", cwd=root).returncode == 0


def test_a_changed_inventory_changes_the_generated_files(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    text = (REPO / "inventory.yml").read_text().replace("rpidc2r1n3", "rpidc2r1n9")
    (root / "inventory.yml").write_text(text)
    inv = load_inventory(root / "inventory.yml")
    wanted = plan(inv, REPO).wanted
    assert "rpidc2r1n9" in wanted["docker-compose.yml"]
    assert "rpidc2r1n9" in wanted["prometheus/targets/cassandra.json"]

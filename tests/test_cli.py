"""The `rackpanel` command itself: subcommands listed, bad inventory reported clearly."""

from __future__ import annotations

import subprocess
import sys

from rackpanel.cli import SUBCOMMANDS


def rackpanel(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rackpanel", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def test_help_lists_every_subcommand_of_the_architecture():
    out = rackpanel("--help")
    assert out.returncode == 0
    for name in ("demo", "sim", "power", "exporter", "writer", "generate", "deploy"):
        assert name in SUBCOMMANDS
        assert f"    {name}" in out.stdout


def test_bad_inventory_is_reported_with_file_and_field(tmp_path):
    bad = tmp_path / "inv.yml"
    bad.write_text(
        "cluster: {name: x}\ndatacenters: []\nseeds: []\nkeyspace: {name: k, replication: {}}\n"
    )
    out = rackpanel("generate", "--check", "--inventory", str(bad))
    assert out.returncode == 2
    assert f"{bad}: invalid inventory" in out.stderr
    assert "datacenters: at least one datacenter is required" in out.stderr

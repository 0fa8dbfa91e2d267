"""The house's shape: one namespace, parts above the ground, the CLI on top.

Read from the code's own imports (``ast``), not from a list kept by hand.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PACKAGE_DIR: dict[str, str] = PYPROJECT["tool"]["setuptools"]["package-dir"]
PARTS = {name.split(".", 1)[1]: folder for name, folder in PACKAGE_DIR.items() if "." in name}
GROUND = {"topology", "settings", "contract"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(folder: str) -> list[Path]:
    return sorted(p for p in (REPO / folder).rglob("*.py") if "__pycache__" not in p.parts)


def test_every_package_in_the_tree_is_installed_under_rackpanel():
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = set()
    for name, folder in PACKAGE_DIR.items():
        for init in (REPO / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / folder).parts
            found.add(".".join((name, *rel)))
    assert found == listed


@pytest.mark.parametrize("part", sorted(PARTS))
def test_no_part_imports_the_cli_package(part):
    offenders = {
        str(path.relative_to(REPO)): sorted(
            n for n in _imports(path) if n == "rackpanel.cli" or n.startswith("rackpanel.cli.")
        )
        for path in _modules(PARTS[part])
    }
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize("part", sorted(GROUND & set(PARTS)))
def test_ground_modules_use_no_part(part):
    parts = {f"rackpanel.{p}" for p in PARTS if p not in GROUND} | {"rackpanel.demo"}
    for path in _modules(PARTS[part]):
        used = {n for n in _imports(path) if any(n == p or n.startswith(p + ".") for p in parts)}
        assert not used, f"{path.relative_to(REPO)} imports {sorted(used)}"


def test_nothing_imports_a_part_by_its_bare_folder_name():
    bare = set(PARTS.values())
    files = [p for f in (*PARTS.values(), "rackpanel", "tests", "benchmarks") for p in _modules(f)]
    offenders = {
        str(p.relative_to(REPO)): sorted(n for n in _imports(p) if n.split(".")[0] in bare)
        for p in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.slow
def test_the_wheel_installs_one_top_level_name(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("rackpanel-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        top = {name.split("/", 1)[0] for name in archive.namelist()}
    assert {t for t in top if not t.endswith(".dist-info")} == {"rackpanel"}


CORE_MUST_NOT_PULL = {"textual", "rich", "paramiko", "grafana-foundation-sdk"}


@pytest.mark.slow
def test_the_core_install_pulls_no_demo_deploy_or_generate_library(tmp_path):
    """`pip install rackpanel` (core) in a clean venv: what every Pi runs. The exporter and the
    writer import and answer --help there, and none of textual, rich, paramiko or the Grafana
    SDK is installed."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("rackpanel-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True
    )
    if installed.returncode != 0 and "No matching distribution" in installed.stderr:
        pytest.skip(f"no package index reachable: {installed.stderr.strip()[-200:]}")
    assert installed.returncode == 0, installed.stderr
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    names = {line.split("==")[0].lower().replace("_", "-") for line in listed.splitlines()}
    assert "rackpanel" in names and "cassandra-driver" in names
    assert not names & CORE_MUST_NOT_PULL, sorted(names & CORE_MUST_NOT_PULL)
    for service in ("exporter", "writer"):
        shown = subprocess.run(
            [str(venv / "bin" / "rackpanel"), service, "--help"],
            capture_output=True,
            text=True,
            cwd=tmp_path,  # not the checkout, whose folders would shadow the installed package
        )
        assert shown.returncode == 0 and "--config" in shown.stdout, shown.stderr
    sim = subprocess.run(
        [str(venv / "bin" / "rackpanel"), "sim", "--inventory", str(REPO / "inventory.yml")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert sim.returncode == 2 and "pip install 'rackpanel[demo]'" in sim.stderr, sim.stderr
    imported = subprocess.run(
        [
            str(python),
            "-c",
            "import sys, rackpanel.exporter.app, rackpanel.lcd_writer.app; "
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert not {"rich", "textual", "paramiko", "grafana_foundation_sdk"} & set(imported.split())

"""Secrets: Grafana never keeps admin/admin, secret files others can read are named, and
Prometheus's lifecycle API (remote shutdown and reload) is off where nothing uses it."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import yaml
from rackpanel.topology import load_inventory

from rackpanel.demo.stack import (
    StackOptions,
    grafana_admin_password_file,
    grafana_services,
    prometheus_services,
)
from rackpanel.secret_files import warn_if_readable_by_others
from tests.support.inventories import REPO


def fake_binaries(folder: Path, *names: str) -> str:
    for name in names:
        path = folder / name
        path.write_text("#!/bin/sh\nexit 0\n")
        path.chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"


def test_the_demo_grafana_gets_a_generated_admin_password_kept_across_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", fake_binaries(tmp_path, "grafana-server", "prometheus"))
    inv = load_inventory(REPO / "inventory.yml")
    opts = StackOptions(inventory_path=REPO / "inventory.yml", run_dir=tmp_path / "run")
    first = grafana_services(inv, opts)[0].env["GF_SECURITY_ADMIN_PASSWORD"]
    path = grafana_admin_password_file(opts.run_dir)
    assert len(first) >= 16 and first != "admin"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert grafana_services(inv, opts)[0].env["GF_SECURITY_ADMIN_PASSWORD"] == first
    other = StackOptions(inventory_path=REPO / "inventory.yml", run_dir=tmp_path / "other")
    assert grafana_services(inv, other)[0].env["GF_SECURITY_ADMIN_PASSWORD"] != first


def test_prometheus_runs_without_the_lifecycle_api(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", fake_binaries(tmp_path, "prometheus"))
    inv = load_inventory(REPO / "inventory.yml")
    opts = StackOptions(inventory_path=REPO / "inventory.yml", run_dir=tmp_path / "run")
    (prometheus,) = [s for s in prometheus_services(inv, opts) if s.kind == "prometheus"]
    assert "--web.enable-lifecycle" not in prometheus.argv
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    assert "--web.enable-lifecycle" not in compose["prometheus"]["command"]


def test_compose_grafana_refuses_to_start_without_an_admin_password():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    env = compose["grafana"]["environment"]
    assert env["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"


def test_secret_files_others_can_read_are_named_once(tmp_path):
    secret = tmp_path / "password"
    secret.write_text("x\n")
    out = io.StringIO()
    secret.chmod(0o600)
    assert not warn_if_readable_by_others(secret, "--password-file", out)
    secret.chmod(0o644)
    assert warn_if_readable_by_others(secret, "--password-file", out)
    assert not warn_if_readable_by_others(secret, "--password-file", out)  # once per file
    assert out.getvalue() == (
        f"rackpanel: warning: --password-file {secret} holds a secret but everyone can read it "
        f"(mode 0644); run: chmod 600 {secret}\n"
    )

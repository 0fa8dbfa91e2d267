"""The install phases as rendered, without hosts: versions, key pins, the apt cache index."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from rackpanel.deploy.aptcache import build_cache, control_fields
from rackpanel.deploy.bundle import Bundle
from rackpanel.deploy.hosts import all_hosts
from rackpanel.deploy.keys import CASSANDRA, GRAFANA, PinError, pinned_keyring
from rackpanel.deploy.phases import phases_for
from rackpanel.deploy.versions import VersionError, cassandra_series, check_versions
from rackpanel.topology import Inventory, parse_inventory

from tests.support.binaries import require_binary
from tests.support.gpgkey import make_signing_key

REPO = Path(__file__).resolve().parents[1]


def demo(**deploy: object) -> Inventory:
    raw = yaml.safe_load((REPO / "inventory.yml").read_text())
    raw["deploy"] = {**raw.get("deploy", {}), **deploy}
    return parse_inventory(raw)


def with_version(version: str, **deploy: object) -> Inventory:
    raw = yaml.safe_load((REPO / "inventory.yml").read_text())
    raw["cluster"]["cassandra_version"] = version
    raw["deploy"] = {**raw.get("deploy", {}), **deploy}
    return parse_inventory(raw)


def test_cassandra_41_on_the_bookworm_jdk_is_refused_with_the_reason():
    with pytest.raises(VersionError) as refused:
        check_versions(with_version("4.1.7"))
    assert "Cassandra 4.1.7 runs on Java 8 or 11 only" in str(refused.value)
    assert "openjdk-17-jre-headless is Java 17" in str(refused.value)
    assert "-XX:+UseConcMarkSweepGC" in str(refused.value)
    check_versions(with_version("4.1.7", java_package="openjdk-11-jre-headless"))
    check_versions(with_version("5.0.6"))
    with pytest.raises(VersionError, match="not an OpenJDK package"):
        check_versions(with_version("5.0.6", java_package="default-jre"))
    assert cassandra_series("5.0.6") == "50x" and cassandra_series("4.1.7") == "41x"


def test_the_pins_are_full_fingerprints():
    for key in (CASSANDRA, GRAFANA):
        assert key.fingerprints and all(
            len(f) == 40 and f == f.upper() and int(f, 16) >= 0 for f in key.fingerprints
        )
    assert "B53AE77BADB630A683046005963FA27710458545" in GRAFANA.fingerprints


@pytest.fixture
def lab_key(tmp_path: Path) -> Path:
    return make_signing_key(tmp_path)


def test_a_key_file_without_a_pinned_key_is_refused(lab_key):
    """The real pins: a key file that is not the repository's (here one made now) is refused."""
    with pytest.raises(PinError) as refused:
        pinned_keyring(CASSANDRA, lab_key)
    assert "none of its 1 key(s) is pinned for the cassandra repository" in str(refused.value)
    assert "https://downloads.apache.org/cassandra/KEYS" in str(refused.value)
    with pytest.raises(PinError, match="is missing: run `rackpanel deploy bundle`"):
        pinned_keyring(CASSANDRA, lab_key.with_name("absent.asc"))


def test_phases_of_each_role_in_order(tmp_path, lab_key, monkeypatch):
    from dataclasses import replace

    from rackpanel.deploy import phases
    from rackpanel.deploy.keys import fingerprints

    (fpr,) = fingerprints(lab_key)
    monkeypatch.setattr(phases, "CASSANDRA", replace(CASSANDRA, fingerprints=(fpr,)))
    monkeypatch.setattr(phases, "GRAFANA", replace(GRAFANA, fingerprints=(fpr,)))
    bundle_dir = tmp_path / "bundle"
    (bundle_dir / "keys").mkdir(parents=True)
    for name in ("cassandra", "grafana"):
        shutil.copy(lab_key, bundle_dir / "keys" / f"{name}.asc")
    (bundle_dir / "wheels").mkdir()
    (bundle_dir / "wheels" / "rackpanel-0.1.0-py3-none-any.whl").write_bytes(b"wheel")
    from rackpanel.deploy.bundle import wheels_digest

    (bundle_dir / "wheels.json").write_text(
        '{"version": "0.1.0", "project_wheel": "rackpanel-0.1.0-py3-none-any.whl", '
        f'"extras": ["pi"], "apt_packages": ["python3-rpi.gpio"], '
        f'"digest": "{wheels_digest(bundle_dir / "wheels")}"}}'
    )
    jar = tmp_path / "jolokia-agent-jvm-2.2.9-javaagent.jar"
    jar.write_bytes(b"jar")
    raw = yaml.safe_load((REPO / "inventory.yml").read_text())
    raw["cluster"]["jolokia"] = True
    inv = parse_inventory(raw)
    bundle = Bundle(bundle_dir, jar)
    names = {
        role: [p.name for p in phases_for(inv, host, bundle)]
        for host in all_hosts(inv)
        for role in [host.role]
    }
    assert names == {
        "node": ["base", "java", "cassandra", "jolokia", "rackpanel"],
        "writer": ["base", "rackpanel"],
        "monitor": ["base", "rackpanel", "monitor"],
    }
    node, writer, monitor = (
        phases_for(inv, next(h for h in all_hosts(inv) if h.role == r), bundle)
        for r in ("node", "writer", "monitor")
    )
    cassandra = node[2]
    assert cassandra.packages == (f"cassandra={inv.cluster.cassandra_version}",)
    assert cassandra.hold_services  # not started before it has the cluster's configuration
    assert node[3].uploads[0].remote == inv.deploy.jolokia_agent
    # writers: the pi extra, its compiled libraries from Debian, seen through the venv
    step = writer[1].steps[0]
    assert "python3 -m venv --system-site-packages /opt/rackpanel" in step.run
    assert "'rackpanel[pi]==0.1.0'" in step.run and "--no-index" in step.run
    assert "python3-rpi.gpio" in writer[1].packages
    assert any(s.run == "raspi-config nonint do_i2c 0" for s in writer[0].steps)
    # the monitor: nothing starts before the configuration (Grafana's admin password) is there
    assert monitor[2].hold_services and monitor[2].steps == ()


def test_the_apt_cache_index_matches_dpkg(tmp_path):
    """The Packages index is read from each .deb's own control file, as dpkg-deb reads it."""
    dpkg_deb = require_binary("dpkg-deb")
    debs = sorted(Path("/var/cache/apt/archives").glob("*.deb"))[:5]
    if not debs:
        out = subprocess.run(
            ["apt-get", "download", "hello"], cwd=tmp_path, capture_output=True, text=True
        )
        debs = sorted(tmp_path.glob("*.deb"))
        if not debs:
            pytest.skip(f"no .deb at hand and apt-get download failed: {out.stderr[-200:]}")
    source = tmp_path / "debs"
    source.mkdir()
    for deb in debs:
        shutil.copy(deb, source / deb.name)
        expected = subprocess.run([dpkg_deb, "-f", str(deb)], capture_output=True, text=True)
        assert control_fields(deb) == expected.stdout
    assert build_cache(source, tmp_path / "apt") == len(debs)
    index = (tmp_path / "apt" / "Packages").read_text()
    assert index.count("\nFilename: ./") == len(debs)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_bundle_builds_the_wheels_for_the_pis_platform(tmp_path, lab_key, capsys):
    """`deploy bundle` as the operator runs it: wheels for manylinux aarch64 / Python 3.11."""
    from rackpanel.cli import main

    raw = yaml.safe_load((REPO / "inventory.yml").read_text())
    raw["deploy"] = {**raw.get("deploy", {}), "bundle_dir": "bundle"}
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump(raw, sort_keys=False))
    keys = tmp_path / "bundle" / "keys"
    keys.mkdir(parents=True)
    for name in ("cassandra", "grafana"):  # as downloaded earlier: not reachable from here
        shutil.copy(lab_key, keys / f"{name}.asc")
    code = main(["deploy", "bundle", "--no-pi", "--inventory", str(inventory)])
    out = capsys.readouterr().out
    assert code == 0, out
    wheels = sorted(p.name for p in (tmp_path / "bundle" / "wheels").glob("*.whl"))
    assert "rackpanel-0.1.0-py3-none-any.whl" in wheels
    compiled = [w for w in wheels if not w.endswith("-none-any.whl")]
    assert compiled and all("aarch64" in w and "-cp311-" in w for w in compiled), wheels
    assert any(w.startswith("cassandra_driver-3.30.1-") for w in compiled)
    bundle = Bundle(tmp_path / "bundle").wheels()
    assert bundle.count == len(wheels) and bundle.extras == ()
    assert f"bundle ready in {tmp_path / 'bundle'}" in out

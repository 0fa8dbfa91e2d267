"""`rackpanel deploy` from blank hosts: the install phases, run for real where this machine can.

Each lab host is a real ``sshd`` on loopback whose ``remote_root`` is a disposable Debian
bookworm root (tests/support/debroot.py); every install command runs inside that root. What runs
for real: apt installing Debian's openjdk-17-jre-headless and python3-venv (from the Debian
mirror, or with no network at all from the operator's apt cache), the wheels built here, uploaded
and installed with ``pip --no-index``, ``python -m rackpanel exporter --help`` in the host's venv,
time sync and I2C probes (raspi-config is a stand-in). What cannot run here: the Apache Cassandra
and Grafana repositories (unreachable from this machine): their rendered definitions and pinned
keyrings are checked, and a download from them fails cleanly.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from rackpanel.deploy import phases
from rackpanel.deploy.keys import CASSANDRA, GRAFANA, fingerprints

from tests.support.debroot import debs_for, in_root, make_root, wrapper
from tests.support.gpgkey import make_signing_key
from tests.support.lab import loopback_octet
from tests.support.sshd import Fleet, InventoryLab, lab_hosts, lab_inventory, sshd_fleet

# a Debian root per host, apt and pip: minutes on a loaded machine, the first time longer
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

REPO = Path(__file__).resolve().parents[1]
HOSTS = lab_hosts(loopback_octet())  # a loopback range of its own (tests/support/lab.py)
NODE, WRITER, MONITOR = "rpidc1r1n1", "rpidc1user", "rpimonitor"
CASSANDRA_VERSION = "5.0.4"
LAB_WHEEL_PLATFORMS = ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]  # the lab hosts' own


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory):
    with sshd_fleet(tmp_path_factory.mktemp("sshd"), HOSTS) as running:
        yield running


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An OpenPGP key made here: the real repositories' keys cannot be downloaded here."""
    return make_signing_key(tmp_path_factory.mktemp("gpg"))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory, signing_key: Path) -> Path:
    """The operator's bundle, built here as `deploy bundle` does, for the lab's platform."""
    from rackpanel.deploy.wheels import build_wheels

    directory = tmp_path_factory.mktemp("bundle")
    build_wheels(REPO, directory, LAB_WHEEL_PLATFORMS, "3.11", log=lambda _: None)
    (directory / "keys").mkdir()
    for name in ("cassandra", "grafana"):
        (directory / "keys" / f"{name}.asc").write_bytes(signing_key.read_bytes())
    return directory


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch, signing_key: Path) -> str:
    """Pin the lab key in place of the real fingerprints (their keys are not available here)."""
    (fpr,) = fingerprints(signing_key)
    monkeypatch.setattr(phases, "CASSANDRA", replace(CASSANDRA, fingerprints=(fpr,)))
    monkeypatch.setattr(phases, "GRAFANA", replace(GRAFANA, fingerprints=(fpr,)))
    return fpr


class Lab(InventoryLab):
    def __init__(self, directory: Path, fleet: Fleet, bundle: Path, offline: bool = False):
        self.dir = directory
        hosts_dir = directory / "hosts"
        self.inventory = lab_inventory(
            directory,
            fleet,
            HOSTS,
            install=True,
            command_wrapper=wrapper(f"{hosts_dir}/{{host}}", offline=offline),
            bundle_dir=str(bundle),
            wheel_platforms=LAB_WHEEL_PLATFORMS,
        )
        raw = yaml.safe_load(self.inventory.read_text())
        raw["cluster"]["cassandra_version"] = CASSANDRA_VERSION
        self.inventory.write_text(yaml.safe_dump(raw, sort_keys=False))
        fleet.write_known_hosts(directory / "known_hosts")

    def root(self, host: str) -> Path:
        return self.dir / "hosts" / host

    def blank(self, *hosts: str) -> None:
        for host in hosts:
            make_root(self.root(host), raspi_config=host == WRITER)

    def state(self, host: str, *parts: str) -> dict[str, str]:
        """Checksum of every file under the host's ``parts`` (its system, as installed)."""
        out = {}
        for part in parts:
            for path in sorted((self.root(host) / part).rglob("*")):
                if path.is_file() and not path.is_symlink():
                    out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
        return out

    def close(self) -> None:
        subprocess.run(["rm", "-rf", str(self.dir / "hosts")], check=False)


@pytest.fixture
def lab(tmp_path: Path, fleet: Fleet, bundle: Path):
    made = Lab(tmp_path, fleet, bundle)
    yield made
    made.close()  # a Debian root per host: do not leave gigabytes in /tmp


def test_plan_on_blank_hosts_lists_every_phase_and_writes_nothing(lab, pinned, capsys):
    lab.blank(NODE, WRITER, MONITOR)
    before = {h: lab.state(h, "etc", "var/lib/dpkg", "opt") for h in (NODE, WRITER, MONITOR)}
    code, out = lab.deploy("plan", "--limit", NODE, WRITER, MONITOR, capsys=capsys)
    assert code == 0, out
    node = out.split(f"{NODE} (node)")[1].split(f"{WRITER} (writer)")[0]
    assert "phase base: time sync (systemd-timesyncd) — done" in node  # as on Pi OS Lite
    assert "phase java: openjdk-17-jre-headless — to do: install openjdk-17-jre-headless" in node
    assert (
        f"phase cassandra: Apache Cassandra {CASSANDRA_VERSION} "
        "(https://debian.cassandra.apache.org 50x, key pinned) — to do: "
        f"install cassandra {CASSANDRA_VERSION}; "
        "write /etc/apt/keyrings/rackpanel-cassandra.asc; "
        "write /etc/apt/sources.list.d/rackpanel-cassandra.sources"
    ) in node
    # the repository definition as rendered: deb822, trusting only the pinned keyring
    for line in (
        "+Types: deb",
        "+URIs: https://debian.cassandra.apache.org",
        "+Suites: 50x",
        "+Components: main",
        "+Signed-By: /etc/apt/keyrings/rackpanel-cassandra.asc",
        "+-----BEGIN PGP PUBLIC KEY BLOCK-----",
    ):
        assert line in node
    assert "phase rackpanel: rackpanel==0.1.0 into /opt/rackpanel from" in node
    assert "install python3-venv; upload" in node
    assert "merged once the install phases put the packaged file there: " in node
    assert "/etc/cassandra/cassandra.yaml" in node

    writer = out.split(f"{WRITER} (writer)")[1].split(f"{MONITOR} (monitor)")[0]
    assert "phase base: time sync (systemd-timesyncd); I2C on for the LCD plate — to do: " in writer
    assert "enable I2C (raspi-config nonint do_i2c 0)" in writer

    monitor = out.split(f"{MONITOR} (monitor)")[1]
    assert (
        "phase monitor: prometheus, prometheus-alertmanager (Debian); grafana "
        "(https://apt.grafana.com, key pinned); chromium + cage kiosk — to do: install prometheus; "
        "install prometheus-alertmanager; install grafana; install chromium; install cage"
    ) in monitor
    assert "+URIs: https://apt.grafana.com" in monitor and "+Suites: stable" in monitor
    assert "plan: " in out and "nothing was written" in out
    assert {h: lab.state(h, "etc", "var/lib/dpkg", "opt") for h in before} == before


SYSTEM = ("etc", "var/lib/dpkg", "opt", "usr/share/java")


def test_blank_node_gets_its_jdk_and_a_failed_cassandra_download_leaves_it_as_it_was(
    lab, pinned, capsys
):
    lab.blank(NODE)
    code, out = lab.deploy("apply", "--limit", NODE, capsys=capsys)
    assert code == 1, out
    # Java came from the Debian mirror, really installed into the host
    java = in_root(lab.root(NODE), "java -version 2>&1")
    assert java.returncode == 0 and 'openjdk version "17.' in java.stdout, java.stdout
    # Cassandra's repository cannot be reached from here: the host stops with apt's reason
    assert f"{NODE}: phase cassandra: download of cassandra={CASSANDRA_VERSION} failed: E: " in out
    assert re.search(
        r"\(apt-get update: Err:\d+ https://debian\.cassandra\.apache\.org 50x InRelease "
        r"Could not resolve 'debian\.cassandra\.apache\.org'\)",
        out,
    ), out
    assert "nothing was installed; its files were put back as they were" in out
    assert not (lab.root(NODE) / "etc/apt/sources.list.d/rackpanel-cassandra.sources").exists()
    assert not (lab.root(NODE) / "etc/apt/keyrings/rackpanel-cassandra.asc").exists()
    assert not (lab.root(NODE) / "etc/cassandra").exists()  # no configuration without it
    assert "restart" not in out.split("rackpanel deploy apply")[-1]

    # again: Java is done, the same download fails, and the host's system is untouched
    before = lab.state(NODE, *SYSTEM)
    code, out = lab.deploy("apply", "--limit", NODE, capsys=capsys)
    assert code == 1 and "phase java" not in out, out
    assert "phase cassandra: download of cassandra" in out
    assert lab.state(NODE, *SYSTEM) == before

    code, out = lab.deploy("check", "--limit", NODE, capsys=capsys)
    assert "to do: cassandra, rackpanel" in out, out


def test_writer_installs_offline_from_the_operators_bundle_and_apt_cache(
    tmp_path, fleet, bundle, pinned, capsys
):
    """No network in the host at all: apt from the operator's cache, rackpanel from wheels."""
    from rackpanel.deploy.aptcache import build_cache

    build_cache(debs_for(["python3-venv"]), bundle / "apt")
    lab = Lab(tmp_path, fleet, bundle, offline=True)
    try:
        lab.edit_inventory(lambda raw: raw["deploy"].update(apt_cache=True))
        lab.blank(WRITER)
        root = lab.root(WRITER)
        reach = "import socket; socket.create_connection(('deb.debian.org', 80), timeout=5)"
        assert in_root(root, f'python3 -c "{reach}"', offline=True).returncode != 0

        code, out = lab.deploy("apply", "--limit", WRITER, capsys=capsys)
        assert code == 0, out
        for phase in ("apt-cache", "base", "rackpanel"):
            assert f"{WRITER}: phase {phase}: " in out
        assert "enable I2C (raspi-config nonint do_i2c 0)" in out
        assert "dtparam=i2c_arm=on" in (root / "boot/firmware/config.txt").read_text()
        exporter = in_root(
            root, "/opt/rackpanel/bin/python -m rackpanel exporter --help", offline=True
        )
        assert exporter.returncode == 0 and "usage:" in exporter.stdout, exporter.stderr
        unit = (root / "etc/systemd/system/rackpanel-writer.service").read_text()
        assert "ExecStart=/opt/rackpanel/bin/python -m rackpanel writer" in unit

        before = lab.state(WRITER, *SYSTEM)
        code, out = lab.deploy("apply", "--limit", WRITER, capsys=capsys)
        assert code == 0 and "phase " not in out, out
        assert "unchanged" in out
        assert lab.state(WRITER, *SYSTEM) == before
        code, out = lab.deploy("plan", "--limit", WRITER, capsys=capsys)
        assert "plan: 0 file(s) would change, 0 install phase(s) to run" in out, out
    finally:
        lab.close()

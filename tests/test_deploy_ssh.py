"""`rackpanel deploy` against real OpenSSH servers on loopback, through paramiko.

Each lab host is its own ``sshd`` in the lab's loopback range;
``remote_root`` maps the host's absolute paths
into ``hosts/<name>/`` and a recording ``service_manager`` logs the actions deploy takes.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from rackpanel.deploy.apply import apply
from rackpanel.deploy.hosts import select_hosts
from rackpanel.deploy.progress import Progress
from rackpanel.deploy.sessions import Sessions
from rackpanel.deploy.ssh import Credentials
from rackpanel.topology import load_inventory

from tests.support.sshd import (
    LAB_HOSTS,
    LAB_NODES,
    LAB_OCTET,
    STOCK_CASSANDRA_YAML,
    STOCK_HOSTS,
    USER,
    Fleet,
    InventoryLab,
    lab_inventory,
    sshd_fleet,
    write_nodetool_status,
)

SEED_ORDER = ["rpidc1r1n1", "rpidc2r1n1", "rpidc1r2n1"]  # seeds first, then inventory order


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory):
    with sshd_fleet(tmp_path_factory.mktemp("sshd"), LAB_HOSTS) as running:
        yield running


class Lab(InventoryLab):
    def __init__(self, directory: Path, fleet: Fleet) -> None:
        self.dir = directory
        self.fleet = fleet
        self.inventory = lab_inventory(directory, fleet)
        self.known_hosts = fleet.write_known_hosts(directory / "known_hosts")

    def root(self, host: str) -> Path:
        return self.dir / "hosts" / host

    def file(self, host: str, path: str) -> Path:
        return self.root(host) / path.lstrip("/")

    def actions(self) -> list[str]:
        log = self.dir / "actions.log"
        return log.read_text().splitlines() if log.exists() else []

    def snapshot(self) -> dict[str, str]:
        """Every file under the hosts' roots with its checksum and mtime."""
        out = {}
        for path in sorted((self.dir / "hosts").rglob("*")):
            if path.is_file():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                out[str(path.relative_to(self.dir))] = f"{digest} {path.stat().st_mtime_ns}"
        return out


@pytest.fixture
def lab(tmp_path: Path, fleet: Fleet) -> Lab:
    return Lab(tmp_path, fleet)


def test_first_apply_writes_every_file_with_the_inventory_content(lab, capsys):
    code, out = lab.deploy("apply", capsys=capsys)
    assert code == 0, out

    for name in LAB_NODES:
        address = LAB_HOSTS[name]
        conf = yaml.safe_load(lab.file(name, "/etc/cassandra/cassandra.yaml").read_text())
        assert conf["cluster_name"] == "Lab Cluster"
        assert conf["listen_address"] == conf["rpc_address"] == address
        seeds = f"{LAB_HOSTS['rpidc1r1n1']},{LAB_HOSTS['rpidc2r1n1']}"
        assert conf["seed_provider"][0]["parameters"][0]["seeds"] == seeds
        assert conf["endpoint_snitch"] == "GossipingPropertyFileSnitch"
        assert conf["phi_convict_threshold"] == 8
        assert (conf["concurrent_reads"], conf["concurrent_writes"]) == (8, 8)
        # keys deploy does not own, and the comments, stay as installed
        stock = yaml.safe_load(STOCK_CASSANDRA_YAML)
        for key in ("hinted_handoff_enabled", "max_hint_window", "data_file_directories"):
            assert conf[key] == stock[key]
        text = lab.file(name, "/etc/cassandra/cassandra.yaml").read_text()
        assert "# phi_convict_threshold: 8\n" in text
        assert "# The name of the cluster. This is mainly used" in text
        backup = lab.file(name, "/etc/cassandra/cassandra.yaml.rackpanel-bak")
        assert backup.read_text() == STOCK_CASSANDRA_YAML

        dc, rack = {"rpidc1r1n1": ("DC1", "RAC1"), "rpidc1r2n1": ("DC1", "RAC2")}.get(
            name, ("DC2", "RAC1")
        )
        rackdc = lab.file(name, "/etc/cassandra/cassandra-rackdc.properties").read_text()
        assert f"\ndc={dc}\nrack={rack}\n" in rackdc
        env = lab.file(name, "/etc/cassandra/cassandra-env.sh").read_text()
        assert env.index('MAX_HEAP_SIZE="512M"') < env.index('if [ "x$MAX_HEAP_SIZE" = "x" ]')
        assert "javaagent" not in env  # the inventory does not ask for Jolokia
        exporter = yaml.safe_load(lab.file(name, "/etc/rackpanel/exporter.yml").read_text())
        assert exporter["cassandra"] == f"{address}:9042"
        unit = lab.file(name, "/etc/systemd/system/rackpanel-exporter.service").read_text()
        assert "--config /etc/rackpanel/exporter.yml" in unit

    for name in LAB_HOSTS:
        assert lab.file(name, "/etc/hostname").read_text() == f"{name}\n"
        hosts = lab.file(name, "/etc/hosts").read_text()
        assert hosts.startswith(STOCK_HOSTS)
        for other, address in LAB_HOSTS.items():
            assert f"{address}\t{other}\n" in hosts
        leftovers = [p for p in lab.root(name).rglob("*") if "rackpanel-new" in p.name]
        assert leftovers == []

    writer = yaml.safe_load(lab.file("rpidc1user", "/etc/rackpanel/writer.yml").read_text())
    assert writer["local-dc"] == "DC1"
    contact_points = [f"{LAB_HOSTS[n]}:9042" for n in ("rpidc1r1n1", "rpidc1r2n1")]
    assert writer["contact-points"] == contact_points

    from rackpanel.prometheus.config import render

    inv = load_inventory(lab.inventory)
    for rel, text in render(inv, "pi").items():
        assert lab.file("rpimonitor", f"/etc/prometheus/{rel}").read_text() == text
    from rackpanel.dashboards.generate import files as dashboard_files
    from rackpanel.dashboards.provisioning import KIOSK_PATH

    rendered = dashboard_files(inv)
    panel = lab.file("rpimonitor", "/var/lib/grafana/dashboards/rackpanel/rackpanel-panel.json")
    assert panel.read_text() == rendered["dashboards/json/rackpanel-panel.json"]
    datasources = lab.file("rpimonitor", "/etc/grafana/provisioning/datasources/rackpanel.yml")
    assert datasources.read_text() == rendered["dashboards/provisioning/datasources/rackpanel.yml"]
    ini = lab.file("rpimonitor", "/etc/grafana/grafana.ini").read_text()
    assert ini == rendered["dashboards/provisioning/grafana.ini"]
    assert "admin_password = $__file{/etc/grafana/admin-password}" in ini
    secret = lab.file("rpimonitor", "/etc/grafana/admin-password")  # never admin/admin
    assert len(secret.read_text().strip()) >= 20 and secret.stat().st_mode & 0o777 == 0o640
    kiosk = lab.file("rpimonitor", "/etc/systemd/system/rackpanel-kiosk.service").read_text()
    assert (
        "ExecStart=/usr/bin/cage -d -- /usr/bin/chromium --kiosk --noerrdialogs "
        "--disable-infobars --incognito --ozone-platform=wayland "
        f'"http://localhost:3000{KIOSK_PATH}"'
    ) in kiosk
    assert "TTYPath=/dev/tty1" in kiosk and f"User={USER}" in kiosk

    actions = lab.actions()
    for name in LAB_NODES:
        assert f"{name} set-hostname {name}" in actions
        assert f"{name} restart rackpanel-exporter.service" in actions
    assert "rpidc1user restart rackpanel-writer.service" in actions
    assert "rpimonitor restart prometheus" in actions
    assert "rpimonitor restart prometheus-alertmanager" in actions
    assert "rpimonitor restart grafana-server" in actions
    assert "rpimonitor enable rackpanel-kiosk.service" in actions
    restarts = [a.split()[0] for a in actions if a.endswith(" restart cassandra")]
    assert restarts == SEED_ORDER


def test_second_apply_changes_nothing(lab, capsys):
    assert lab.deploy("apply", capsys=capsys)[0] == 0
    before, actions = lab.snapshot(), lab.actions()
    code, out = lab.deploy("apply", capsys=capsys)
    assert code == 0, out
    assert lab.snapshot() == before
    assert lab.actions() == actions
    assert out.count("unchanged") == len(LAB_HOSTS)
    code, out = lab.deploy("plan", capsys=capsys)
    assert code == 0 and "plan: 0 file(s) would change" in out


def test_plan_shows_unified_diffs_and_writes_nothing(lab, capsys):
    before = lab.snapshot()
    code, out = lab.deploy("plan", "--limit", "rpidc1r2n1", capsys=capsys)
    assert code == 0, out
    assert "--- /etc/cassandra/cassandra.yaml\n+++ /etc/cassandra/cassandra.yaml\n" in out
    assert "-cluster_name: 'Test Cluster'\n+cluster_name: Lab Cluster\n" in out
    assert "--- /dev/null\n+++ /etc/hostname\n" in out
    assert "would run: set-hostname rpidc1r2n1; daemon-reload" in out
    assert "Cassandra would restart one node at a time: rpidc1r2n1\n" in out
    assert "rpidc1r1n1 (node)" not in out and "rpidc1r2n1 (node)" in out  # --limit
    code, out = lab.deploy("plan", "--limit", "rpimonitor", capsys=capsys)
    assert "--- /etc/grafana/admin-password\n(secret: written once, contents not shown)" in out
    assert lab.snapshot() == before
    assert lab.actions() == []


def test_changed_inventory_restarts_only_what_changed(lab, capsys):
    assert lab.deploy("apply", capsys=capsys)[0] == 0
    first = len(lab.actions())

    lab.edit_inventory(lambda raw: raw["cluster"].update(heap="768M"))
    code, out = lab.deploy("apply", capsys=capsys)
    assert code == 0, out
    assert lab.actions()[first:] == [f"{name} restart cassandra" for name in SEED_ORDER]
    env = lab.file("rpidc2r1n1", "/etc/cassandra/cassandra-env.sh").read_text()
    assert 'MAX_HEAP_SIZE="768M"' in env and env.count("MAX_HEAP_SIZE=") == 2  # + the comment
    second = len(lab.actions())

    lab.edit_inventory(lambda raw: raw["writers"][0].update(used_hosts_per_remote_dc=1))
    code, out = lab.deploy("apply", capsys=capsys)
    assert code == 0, out
    assert lab.actions()[second:] == ["rpidc1user restart rackpanel-writer.service"]


def test_unknown_host_key_is_refused_until_accepted_explicitly(lab, capsys):
    known = [n for n in LAB_HOSTS if n != "rpimonitor"]
    lab.fleet.write_known_hosts(lab.known_hosts, known)
    code, out = lab.deploy("apply", capsys=capsys)
    assert code == 1
    monitor = re.escape(LAB_HOSTS["rpimonitor"])
    assert re.search(rf"rpimonitor: refused: host key of \[{monitor}\]:\d+ is not in", out)
    assert "--accept-new" in out
    assert not lab.file("rpimonitor", "/etc/hostname").exists()
    assert lab.file("rpidc1user", "/etc/hostname").exists()  # the others finished

    code, out = lab.deploy("apply", "--accept-new", capsys=capsys)
    assert code == 0, out
    assert f"--accept-new: trusting the new host key of [{LAB_HOSTS['rpimonitor']}]" in out
    server = lab.fleet.servers["rpimonitor"]
    assert server.known_hosts_line() in lab.known_hosts.read_text()


def test_changed_host_key_is_refused_even_with_accept_new(lab, capsys):
    lines = lab.known_hosts.read_text().splitlines(keepends=True)
    address = LAB_HOSTS["rpidc1r2n1"]
    lines = [line for line in lines if f"[{address}]" not in line]
    lab.known_hosts.write_text("".join(lines) + lab.fleet.other_key_line("rpidc1r2n1"))
    for extra in ([], ["--accept-new"]):
        code, out = lab.deploy("apply", *extra, capsys=capsys)
        assert code == 1
        assert f"rpidc1r2n1: host key CHANGED for [{address}]" in out
        assert "refusing to connect" in out
        assert not lab.file("rpidc1r2n1", "/etc/hostname").exists()


def test_bad_credentials_and_unreachable_hosts_are_reported_by_name(lab, capsys, tmp_path):
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)

    def break_access(raw):
        raw["deploy"]["identity_file"] = str(stranger)

    lab.edit_inventory(break_access)
    code, out = lab.deploy("check", "--limit", "rpidc1user", capsys=capsys)
    assert code == 1
    assert f"rpidc1user: authentication failed for {USER}@{LAB_HOSTS['rpidc1user']}" in out
    assert f"with key {stranger}" in out

    def unreachable_monitor(raw):
        raw["deploy"]["identity_file"] = str(lab.fleet.user_key)
        raw["monitor"]["address"] = f"127.{LAB_OCTET}.0.9"  # nobody listens there

    lab.edit_inventory(unreachable_monitor)
    code, out = lab.deploy("apply", capsys=capsys)
    assert code == 1
    assert f"rpimonitor: unreachable: {USER}@127.{LAB_OCTET}.0.9" in out
    assert "Unable to connect" in out or "refused" in out
    assert lab.file("rpidc2r1n1", "/etc/hostname").exists()  # without --fail-fast: others done


def test_fail_fast_starts_no_other_host(lab, capsys):
    def first_host_unreachable(raw):
        raw["datacenters"][0]["racks"][0]["nodes"][0]["address"] = f"127.{LAB_OCTET}.11.9"
        raw["deploy"]["parallel"] = 1

    lab.edit_inventory(first_host_unreachable)
    code, out = lab.deploy("apply", "--fail-fast", capsys=capsys)
    assert code == 1
    assert "rpidc1r1n1: unreachable" in out
    assert out.count("--fail-fast: another host failed") == len(LAB_HOSTS) - 1
    assert lab.actions() == []


def test_a_node_not_seen_up_stops_the_rolling_restart(lab, capsys):
    # Every node changes; the first (a seed) is checked by itself: make it report itself down.
    status = {LAB_HOSTS[n]: "UN" for n in LAB_NODES} | {LAB_HOSTS["rpidc1r1n1"]: "DN"}
    write_nodetool_status(lab.root("rpidc1r1n1"), status)
    code, out = lab.deploy("apply", capsys=capsys)
    assert code == 1
    assert "rpidc1r1n1: not seen up by rpidc1r1n1 within 3 s after the restart" in out
    assert out.count("rolling restart stopped before this node") == 2
    assert [a for a in lab.actions() if a.endswith("restart cassandra")] == [
        "rpidc1r1n1 restart cassandra"
    ]
    untouched = lab.file("rpidc1r2n1", "/etc/cassandra/cassandra.yaml").read_text()
    assert untouched == STOCK_CASSANDRA_YAML


class Interrupting(Progress):
    """Kills the host's sshd sessions once part of the file has gone out."""

    def __init__(self, lab: Lab, host: str) -> None:
        super().__init__()
        self.lab, self.host, self.fired = lab, host, False

    def upload(self, host: str, path: str, sent: int, total: int) -> None:
        if host == self.host and 0 < sent < total and not self.fired:
            self.fired = True
            self.lab.fleet.servers[host].kill_sessions()


def test_an_interrupted_upload_leaves_the_old_file_intact(lab, capsys):
    big = STOCK_CASSANDRA_YAML + "".join(
        f"# padding line {i:06d} {'x' * 60}\n" for i in range(16000)
    )
    target = lab.file("rpidc1r2n1", "/etc/cassandra/cassandra.yaml")
    target.write_text(big)
    inv = load_inventory(lab.inventory)
    creds = Credentials(user=USER, identity_file=lab.fleet.user_key, known_hosts=lab.known_hosts)
    progress = Interrupting(lab, "rpidc1r2n1")
    with Sessions(inv, creds) as sessions:
        outcomes = apply(inv, select_hosts(inv, ["rpidc1r2n1"]), sessions, progress)
    assert progress.fired
    assert outcomes[0].status == "failed"
    assert "upload of" in outcomes[0].reason and "interrupted" in outcomes[0].reason
    assert target.read_text() == big  # the installed file is whole and unchanged
    assert "restart cassandra" not in " ".join(lab.actions())
    partial = target.parent / ".cassandra.yaml.rackpanel-new"
    assert partial.exists() and partial.stat().st_size < len(big)  # cut off midway

    code, out = lab.deploy("apply", "--limit", "rpidc1r2n1", capsys=capsys)
    assert code == 0, out
    assert "removed 1 partial upload(s)" in out
    merged = target.read_text()
    assert "cluster_name: Lab Cluster\n" in merged and "# padding line 015999" in merged
    assert not list(target.parent.glob(".*rackpanel-new"))


def test_check_reports_each_host(lab, capsys):
    code, out = lab.deploy("check", capsys=capsys)
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    version = re.search(r'version "([^"]+)"', java).group(1)
    assert code == 1  # no Cassandra is installed on the lab hosts
    for name in LAB_HOSTS:
        assert name in out
    assert out.count("Cassandra is not installed") == len(LAB_NODES)
    assert version in out
    assert ("root" if USER == "root" else "sudo") in out
    assert "GiB" in out


def test_a_failing_command_is_reported_and_its_actions_are_run_by_the_next_apply(lab, capsys):
    recorder = yaml.safe_load(lab.inventory.read_text())["deploy"]["service_manager"]
    lab.edit_inventory(
        lambda raw: raw["deploy"].update(service_manager="systemctl-that-does-not-exist")
    )
    code, out = lab.deploy("apply", "--limit", "rpidc1user", capsys=capsys)
    assert code == 1
    assert re.search(
        r"rpidc1user: failed: rpidc1user: set-hostname rpidc1user failed \(exit 127\): .*not found",
        out,
    )
    # the files went in whole before the action failed; nothing is half-written
    writer = lab.file("rpidc1user", "/etc/rackpanel/writer.yml").read_text()
    assert yaml.safe_load(writer)["name"] == "rpidc1user"
    # a node whose first phase failed does not go on to its Cassandra restart
    code, out = lab.deploy("apply", "--limit", "rpidc1r2n1", capsys=capsys)
    assert code == 1 and "rpidc1r2n1: failed: rpidc1r2n1: set-hostname" in out
    cassandra_yaml = lab.file("rpidc1r2n1", "/etc/cassandra/cassandra.yaml").read_text()
    assert cassandra_yaml == STOCK_CASSANDRA_YAML

    # the files no longer differ, but the actions they need are still owed: the next apply runs them
    lab.edit_inventory(lambda raw: raw["deploy"].update(service_manager=recorder))
    code, out = lab.deploy("plan", "--limit", "rpidc1user", capsys=capsys)
    assert code == 0, out
    assert "left unfinished by an earlier apply: set-hostname rpidc1user; daemon-reload" in out
    assert lab.actions() == []
    code, out = lab.deploy("apply", "--limit", "rpidc1user", capsys=capsys)
    assert code == 0, out
    assert lab.actions() == [
        "rpidc1user set-hostname rpidc1user",
        "rpidc1user daemon-reload",
        "rpidc1user enable rackpanel-writer.service",
        "rpidc1user restart rackpanel-writer.service",
    ]
    code, out = lab.deploy("apply", "--limit", "rpidc1user", capsys=capsys)
    assert code == 0 and "unchanged" in out
    assert len(lab.actions()) == 4


def test_check_columns_say_how_far_each_host_got(lab):
    from rackpanel.deploy.check import check

    keep = [n for n in LAB_HOSTS if n not in ("rpimonitor", "rpidc1r2n1")]
    lab.fleet.write_known_hosts(lab.known_hosts, keep)
    with lab.known_hosts.open("a") as handle:
        handle.write(lab.fleet.other_key_line("rpidc1r2n1"))
    lab.edit_inventory(lambda raw: raw["writers"][0].update(address=f"127.{LAB_OCTET}.10.9"))
    inv = load_inventory(lab.inventory)
    creds = Credentials(user=USER, identity_file=lab.fleet.user_key, known_hosts=lab.known_hosts)
    with Sessions(inv, creds) as sessions:
        rows = {row.host.name: row for row in check(inv, select_hosts(inv, None), sessions)}
    assert (rows["rpimonitor"].ssh, rows["rpimonitor"].host_key) == ("reachable", "unknown")
    assert (rows["rpidc1r2n1"].ssh, rows["rpidc1r2n1"].host_key) == ("reachable", "CHANGED")
    assert (rows["rpidc1user"].ssh, rows["rpidc1user"].host_key) == ("unreachable", "-")
    node = rows["rpidc1r1n1"]
    assert (node.ssh, node.host_key, node.cassandra) == ("ok", "known", "not found")
    assert re.fullmatch(r"\d+(\.\d+)*", node.java)
    assert node.problems == ["Cassandra is not installed"]

    lab.fleet.write_known_hosts(lab.known_hosts)
    lab.edit_inventory(lambda raw: raw["cluster"].update(jolokia=True))
    jar = lab.file("rpidc1r2n1", "/usr/share/java/jolokia-jvm-agent.jar")
    jar.parent.mkdir(parents=True)
    jar.write_bytes(b"PK")
    inv = load_inventory(lab.inventory)
    with Sessions(inv, creds) as sessions:
        rows = {row.host.name: row for row in check(inv, select_hosts(inv, ["DC1"]), sessions)}
    assert any("agent jar" in p and "is missing" in p for p in rows["rpidc1r1n1"].problems)
    assert rows["rpidc1r2n1"].problems == ["Cassandra is not installed"]  # its jar is there

    # 4.1 does not start on a JDK above 11: check says so, from the host's real `java -version`
    lab.edit_inventory(lambda raw: raw["cluster"].update(cassandra_version="4.1.7"))
    inv = load_inventory(lab.inventory)
    with Sessions(inv, creds) as sessions:
        (row,) = check(inv, select_hosts(inv, ["rpidc1r1n1"]), sessions)
    from rackpanel.deploy.check import java_major

    refused = [p for p in row.problems if "runs on Java 8 or 11 only" in p]
    assert len(refused) == (1 if java_major(row.java) > 11 else 0), row.problems


def test_ctrl_c_during_the_rolling_restart_stops_cleanly(lab):
    import os
    import signal
    import sys
    import time

    slow_check = f"sleep 30; cat {lab.dir}/hosts/{{host}}/nodetool-status"
    lab.edit_inventory(lambda raw: raw["deploy"].update(up_check=slow_check, up_timeout_seconds=60))
    process = subprocess.Popen(
        [sys.executable, "-m", "rackpanel", "deploy", "apply", "-i", str(lab.inventory)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        # Ctrl-C as a terminal delivers it: a suite started in the background (`&`) runs with
        # SIGINT ignored, and a child inherits that, so give the deploy the default disposition.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen.append(line)
        if "rpidc1r1n1: waiting until" in line:
            break
    time.sleep(0.5)  # now inside the 30 s up check
    process.send_signal(signal.SIGINT)
    try:
        rest = process.communicate(timeout=60)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        rest = process.communicate()[0]
        pytest.fail("deploy did not stop after Ctrl-C:\n" + "".join(seen) + rest)
    out = "".join(seen) + rest
    assert process.returncode == 1, out
    assert "rpidc1r1n1: failed: rpidc1r1n1: interrupted (Ctrl-C) during its restart" in out
    assert out.count("rolling restart stopped before this node") == 2
    assert [a for a in lab.actions() if a.endswith("restart cassandra")] == [
        "rpidc1r1n1 restart cassandra"
    ]
    conf = yaml.safe_load(lab.file("rpidc1r1n1", "/etc/cassandra/cassandra.yaml").read_text())
    assert conf["cluster_name"] == "Lab Cluster"  # whole: the new file, not a mix
    untouched = lab.file("rpidc1r2n1", "/etc/cassandra/cassandra.yaml").read_text()
    assert untouched == STOCK_CASSANDRA_YAML

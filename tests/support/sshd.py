"""Real OpenSSH servers on loopback for the deploy tests: one ``sshd`` per simulated host.

Host keys and the user key are generated at test time with ``ssh-keygen``. Every server runs
as the test's own user (root in CI containers; any user works, without privilege separation),
with public-key authentication only, on its own 127.x.y.z address and a shared non-22 port.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.binaries import IN_CI, require_binary
from tests.support.lab import free_port, loopback_octet

USER = pwd.getpwuid(os.geteuid()).pw_name  # sshd lets only this user in: the one running it


@dataclass
class Sshd:
    name: str
    address: str
    port: int
    host_key: Path
    process: subprocess.Popen[bytes]

    def public_key(self) -> str:
        """``<type> <base64>`` of the host key."""
        kind, blob = Path(f"{self.host_key}.pub").read_text().split()[:2]
        return f"{kind} {blob}"

    def known_hosts_line(self) -> str:
        return f"[{self.address}]:{self.port} {self.public_key()}\n"

    def kill_sessions(self) -> None:
        """SIGKILL every per-connection sshd process: the remote end of each session dies."""
        pending = _children(self.process.pid)
        found: list[int] = []
        while pending:
            pid = pending.pop()
            found.append(pid)
            pending += _children(pid)
        for pid in found:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@dataclass
class Fleet:
    servers: dict[str, Sshd]
    user_key: Path
    port: int
    directory: Path

    def write_known_hosts(self, path: Path, names: Iterable[str] | None = None) -> Path:
        chosen = self.servers if names is None else {n: self.servers[n] for n in names}
        path.write_text("".join(s.known_hosts_line() for s in chosen.values()))
        return path

    def other_key_line(self, name: str) -> str:
        """A known_hosts line for ``name``'s address carrying a *different* ed25519 key."""
        other = self.directory / f"impostor-{name}"
        if not other.exists():
            _keygen(other)
        server = self.servers[name]
        kind, blob = Path(f"{other}.pub").read_text().split()[:2]
        return f"[{server.address}]:{server.port} {kind} {blob}\n"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
    )


def _wait_listening(address: str, port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd on {address}:{port} exited with {process.returncode}")
        try:
            with socket.create_connection((address, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"sshd on {address}:{port} did not start listening")


def _config(directory: Path, address: str, port: int, host_key: Path, authorized: Path) -> Path:
    config = directory / "sshd_config"
    config.write_text(
        f"Port {port}\n"
        f"ListenAddress {address}\n"
        f"HostKey {host_key}\n"
        f"PidFile {directory / 'sshd.pid'}\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "UsePAM no\n"
        "PermitRootLogin prohibit-password\n"
        f"AuthorizedKeysFile {authorized}\n"
        "StrictModes no\n"
        f"AllowUsers {USER}\n"
        "MaxStartups 50\n"
        "Subsystem sftp internal-sftp\n"
    )
    return config


def _require_privileges() -> None:
    """Deploy writes as root on the lab hosts: the tests need root or passwordless sudo."""
    if os.geteuid() == 0:
        return
    try:
        ok = subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0
    except OSError:
        ok = False
    if not ok:
        reason = f"the deploy lab needs root or passwordless sudo for {USER}"
        if IN_CI:
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)


@contextmanager
def sshd_fleet(directory: Path, hosts: dict[str, str]) -> Iterator[Fleet]:
    """Start one sshd per ``{name: address}``; yields the :class:`Fleet`; stops them all."""
    sshd = require_binary("sshd")
    require_binary("ssh-keygen")
    _require_privileges()
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege-separation directory
    directory.mkdir(parents=True, exist_ok=True)
    user_key = directory / "user_ed25519"
    _keygen(user_key)
    authorized = directory / "authorized_keys"
    authorized.write_text(Path(f"{user_key}.pub").read_text())
    port = free_port(next(iter(hosts.values())))
    servers: dict[str, Sshd] = {}
    try:
        for name, address in hosts.items():
            own = directory / name
            own.mkdir(exist_ok=True)
            host_key = own / "host_ed25519"
            _keygen(host_key)
            config = _config(own, address, port, host_key, authorized)
            subprocess.run([sshd, "-t", "-f", str(config)], check=True)
            log = (own / "sshd.log").open("wb")
            process = subprocess.Popen(
                [sshd, "-D", "-e", "-f", str(config)], stdout=log, stderr=log
            )
            servers[name] = Sshd(name, address, port, host_key, process)
        for server in servers.values():
            _wait_listening(server.address, port, server.process)
        yield Fleet(servers, user_key, port, directory)
    finally:
        for server in servers.values():
            server.process.terminate()
        for server in servers.values():
            try:
                server.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                server.process.kill()


class InventoryLab:
    """A lab's inventory file and `rackpanel deploy` run on it, as a user runs it."""

    inventory: Path

    def edit_inventory(self, change) -> None:
        import yaml

        raw = yaml.safe_load(self.inventory.read_text())
        change(raw)
        self.inventory.write_text(yaml.safe_dump(raw, sort_keys=False))

    def deploy(self, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
        from rackpanel.cli import main

        code = main(["deploy", *args, "--inventory", str(self.inventory)])
        captured = capsys.readouterr()
        return code, captured.out + captured.err


# ---- a deploy lab: a small inventory whose hosts are the servers above ---------------------
def lab_hosts(octet: int) -> dict[str, str]:
    """The lab's hosts on 127.<octet>.x.y, laid out as the simulator lays out the demo's nodes."""
    return {
        "rpidc1r1n1": f"127.{octet}.11.1",
        "rpidc1r2n1": f"127.{octet}.12.1",
        "rpidc2r1n1": f"127.{octet}.21.1",
        "rpidc1user": f"127.{octet}.10.1",
        "rpimonitor": f"127.{octet}.0.1",
    }


LAB_OCTET = loopback_octet()
LAB_HOSTS = lab_hosts(LAB_OCTET)
LAB_NODES = ("rpidc1r1n1", "rpidc1r2n1", "rpidc2r1n1")

# An excerpt in the shape of Cassandra 4.1's packaged cassandra.yaml: comments, nested lists,
# commented-out keys, and keys deploy must leave alone.
STOCK_CASSANDRA_YAML = """\
# Cassandra storage config YAML

# The name of the cluster. This is mainly used to prevent machines in
# one logical cluster from joining another.
cluster_name: 'Test Cluster'

# This defines the number of tokens randomly assigned to this node on the ring
num_tokens: 16

allocate_tokens_for_local_replication_factor: 3

hinted_handoff_enabled: true
max_hint_window: 3h

# any class that implements the SeedProvider interface and has a
# constructor that takes a Map<String, String> of parameters will do.
seed_provider:
  # Addresses of hosts that are deemed contact points.
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      # seeds is actually a comma-delimited list of addresses.
      - seeds: "127.0.0.1:7000"

concurrent_reads: 32
concurrent_writes: 32
concurrent_counter_writes: 32

listen_address: localhost
rpc_address: localhost
native_transport_port: 9042

# phi_convict_threshold: 8

endpoint_snitch: SimpleSnitch

data_file_directories:
  - /var/lib/cassandra/data
"""

STOCK_CASSANDRA_ENV = """\
#!/bin/sh
# cassandra-env.sh (excerpt)
calculate_heap_sizes() { :; }
#MAX_HEAP_SIZE="4G"
#HEAP_NEWSIZE="800M"
if [ "x$MAX_HEAP_SIZE" = "x" ] && [ "x$HEAP_NEWSIZE" = "x" ]; then
    calculate_heap_sizes
fi
JVM_OPTS="$JVM_OPTS -Xss256k"
"""

STOCK_HOSTS = "127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n"

RECORD_ACTIONS = """\
#!/bin/sh
# Test service manager: record "<host> <verb> <target>" instead of calling systemd.
log="$1"; shift
echo "$*" >> "$log"
"""


def seed_lab_host(root: Path, node: bool) -> None:
    """What a freshly imaged Pi holds before deploy: /etc/hosts, and Cassandra's stock files."""
    (root / "etc/cassandra").mkdir(parents=True, exist_ok=True)
    (root / "etc/hosts").write_text(STOCK_HOSTS)
    if node:
        (root / "etc/cassandra/cassandra.yaml").write_text(STOCK_CASSANDRA_YAML)
        (root / "etc/cassandra/cassandra-env.sh").write_text(STOCK_CASSANDRA_ENV)


def write_nodetool_status(root: Path, up: dict[str, str]) -> None:
    """The lab's ``nodetool status`` for one observer: ``{address: 'UN'|'DN'}``."""
    lines = ["Datacenter: lab", "Status=Up/Down", "--  Address  Load  Tokens  Owns  Host ID  Rack"]
    lines += [f"{state}  {address}  1 KiB  16  ?  -  RAC1" for address, state in up.items()]
    (root / "nodetool-status").write_text("\n".join(lines) + "\n")


def _prepare_lab(
    directory: Path, fleet: Fleet, hosts: dict[str, str], nodes: list[str], **deploy: object
) -> dict[str, object]:
    """Seed every host's root and return the inventory's ``deploy`` section for the lab."""
    hosts_dir = directory / "hosts"
    recorder = directory / "record-action"
    recorder.write_text(RECORD_ACTIONS)
    recorder.chmod(0o755)
    for name in hosts:
        seed_lab_host(hosts_dir / name, node=name in nodes)
        write_nodetool_status(hosts_dir / name, {hosts[n]: "UN" for n in nodes})
    return {
        "ssh_user": USER,
        "identity_file": str(fleet.user_key),
        "known_hosts": str(directory / "known_hosts"),
        "remote_root": f"{hosts_dir}/{{host}}",
        "service_manager": f"{recorder} {directory / 'actions.log'} {{host}}",
        "up_check": f"cat {hosts_dir}/{{host}}/nodetool-status",
        "up_timeout_seconds": 3,
        "connect_timeout_seconds": 3,
        "parallel": 4,
        "install": False,  # these labs test the configuration; test_deploy_install the phases
        **deploy,
    }


def lab_inventory(
    directory: Path, fleet: Fleet, hosts: dict[str, str] = LAB_HOSTS, **deploy: object
) -> Path:
    """An inventory of the lab ``hosts``, deploying into ``directory/hosts/<host>``."""
    import yaml

    def node(name: str) -> dict[str, object]:
        return {"name": name, "address": hosts[name]}

    raw = {
        "cluster": {"name": "Lab Cluster", "phi_convict_threshold": 8},
        "datacenters": [
            {
                "name": "DC1",
                "racks": [
                    {"name": "RAC1", "nodes": [node("rpidc1r1n1")]},
                    {"name": "RAC2", "nodes": [node("rpidc1r2n1")]},
                ],
            },
            {"name": "DC2", "racks": [{"name": "RAC1", "nodes": [node("rpidc2r1n1")]}]},
        ],
        "seeds": ["rpidc1r1n1", "rpidc2r1n1"],
        "keyspace": {"name": "demorpi", "replication": {"DC1": 2, "DC2": 1}},
        "writers": [{"name": "rpidc1user", "local_dc": "DC1", "address": hosts["rpidc1user"]}],
        "monitor": {"name": "rpimonitor", "address": hosts["rpimonitor"]},
        "ports": {"ssh": fleet.port},
        "deploy": _prepare_lab(directory, fleet, hosts, list(LAB_NODES), **deploy),
    }
    path = directory / "inventory.yml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def demo_lab_hosts() -> dict[str, str]:
    """Every host of the demo inventory (9 nodes, 2 writers, the monitor) in the lab's range."""
    from rackpanel.topology import load_inventory

    inv = load_inventory(Path(__file__).resolve().parents[2] / "inventory.yml")
    places = [*inv.nodes(), *inv.writer_places()]
    hosts = {p.name: str(p.sim_address).replace("127.0.", f"127.{LAB_OCTET}.", 1) for p in places}
    if inv.monitor is not None:
        hosts[inv.monitor.name] = f"127.{LAB_OCTET}.0.1"
    return hosts


def demo_lab_inventory(directory: Path, fleet: Fleet, **deploy: object) -> Path:
    """The demo inventory itself, its hosts moved to the lab's addresses (``demo_lab_hosts``)."""
    import yaml

    hosts = demo_lab_hosts()
    raw = yaml.safe_load((Path(__file__).resolve().parents[2] / "inventory.yml").read_text())
    nodes = []
    for dc in raw["datacenters"]:
        for rack in dc["racks"]:
            for node in rack["nodes"]:
                node["address"] = hosts[node["name"]]
                nodes.append(node["name"])
    for writer in raw.get("writers", []):
        writer["address"] = hosts[writer["name"]]
    raw["monitor"]["address"] = hosts[raw["monitor"]["name"]]
    raw["ports"] = {**raw.get("ports", {}), "ssh": fleet.port}
    raw["deploy"] = _prepare_lab(directory, fleet, hosts, nodes, **deploy)
    path = directory / "inventory.yml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path

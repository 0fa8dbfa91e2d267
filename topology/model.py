"""The typed inventory: cluster, datacenters, racks, nodes, writers, monitor, keyspace.

This is the single source of truth of the project. Everything that is generated (Prometheus
targets, dashboards, the compose file, the simulator's cluster, the deploy plan) is derived
from an :class:`Inventory`. Field-level rules live on the models; rules that span the whole
file (unique names, references, replication vs. node count) live in :mod:`topology.validate`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address, ip_address
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
# The Cassandra releases the project targets: 5.0 by default (Java 11 or 17, G1), 4.1 still
# supported (Java 8 or 11 only, CMS). docs/cassandra-versions.md lists what differs.
SUPPORTED_RELEASES = ("5.0", "4.1")
# The Java majors each release runs on (NEWS.txt/README of each branch): 4.1 on 8 or 11 only
# (its conf/jvm11-server.options pass -XX:+UseConcMarkSweepGC, which Java 14+ rejects), 5.0 on
# 11 or 17.
SUPPORTED_JAVA = {"5.0": (11, 17), "4.1": (8, 11)}
DEFAULT_CASSANDRA_VERSION = "5.0.6"


def release_of(version: str) -> str:
    """``major.minor`` of a Cassandra version (``4.1.7`` → ``4.1``)."""
    return ".".join(version.split(".")[:2])


# The LCD backlight of a coordinator's DC when the inventory sets none: the original panel's
# colours, and cyan for any other DC (what the writer's LCD and the web panel both show).
DEFAULT_DC_COLORS: dict[str, tuple[int, int, int]] = {"DC1": (0, 1, 0), "DC2": (0, 0, 1)}
OTHER_DC_COLOR = (0, 1, 1)


class Strict(BaseModel):
    """Base for every inventory section: unknown keys are errors, values are not coerced,
    numbers are finite (``.inf`` and ``.nan`` are refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Ports(Strict):
    cql: int = Field(9042, ge=1, le=65535)
    exporter: int = Field(9500, ge=1, le=65535)
    writer: int = Field(9501, ge=1, le=65535)
    jolokia: int = Field(8778, ge=1, le=65535)
    ssh: int = Field(22, ge=1, le=65535)


class Node(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    address: IPv4Address
    sim_address: IPv4Address | None = None
    ssh_port: int | None = Field(None, ge=1, le=65535)


class Rack(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    nodes: list[Node]


class Datacenter(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    racks: list[Rack]
    color: tuple[int, int, int] | None = Field(
        None,
        description="LCD backlight (r, g, b), each 0 or 1, when a request's coordinator is in "
        "this DC (the original panel: DC1 green, DC2 blue); errors are always red",
    )


class Writer(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    local_dc: str
    address: IPv4Address
    sim_address: IPv4Address | None = None
    ssh_port: int | None = Field(None, ge=1, le=65535)
    contact_points: list[str] | None = Field(
        None, description="node names; default: every node of local_dc"
    )
    used_hosts_per_remote_dc: int = Field(3, ge=0)


class MonitorPorts(NamedTuple):
    """Where the monitor host's services listen (written once: the defaults are here)."""

    prometheus: int = 9090
    alertmanager: int = 9093
    grafana: int = 3000


class Monitor(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    address: IPv4Address
    sim_address: IPv4Address = IPv4Address("127.0.0.1")
    ssh_port: int | None = Field(None, ge=1, le=65535)
    grafana_port: int = Field(MonitorPorts().grafana, ge=1, le=65535)
    prometheus_port: int = Field(MonitorPorts().prometheus, ge=1, le=65535)
    alertmanager_port: int = Field(MonitorPorts().alertmanager, ge=1, le=65535)

    @property
    def ports(self) -> MonitorPorts:
        return MonitorPorts(self.prometheus_port, self.alertmanager_port, self.grafana_port)


class Keyspace(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    replication: dict[str, int] = Field(description="NetworkTopologyStrategy RF per DC")


class Cluster(Strict):
    name: str = Field(min_length=1)
    cassandra_version: str = Field(DEFAULT_CASSANDRA_VERSION, pattern=r"^[0-9]+\.[0-9]+\.[0-9]+$")
    num_tokens: int = Field(16, ge=1, le=256)
    snitch: Literal["GossipingPropertyFileSnitch", "PropertyFileSnitch"] = (
        "GossipingPropertyFileSnitch"
    )
    phi_convict_threshold: float = Field(8.0, gt=0)
    jolokia: bool | None = Field(
        None,
        description="the Jolokia agent on the nodes; unset: on when deploy.jolokia_jar names "
        "the agent jar",
    )
    heap: str = Field("512M", pattern=r"^[0-9]+[MG]$")
    heap_new: str = Field("128M", pattern=r"^[0-9]+[MG]$")

    @field_validator("cassandra_version")
    @classmethod
    def _supported(cls, version: str) -> str:
        if release_of(version) not in SUPPORTED_RELEASES:
            raise ValueError(
                f"Cassandra {version} is not supported: use a {' or '.join(SUPPORTED_RELEASES)}"
                " release (e.g. " + DEFAULT_CASSANDRA_VERSION + ")"
            )
        return version

    @property
    def release(self) -> str:
        """``5.0`` for ``5.0.6``: what decides columns, collectors and JVM options."""
        return release_of(self.cassandra_version)


class SimulatorSettings(Strict):
    """The embedded simulator (``rackpanel sim``)."""

    failure_detector: Literal["realistic", "fast"] = "realistic"
    gossip_interval_seconds: float = Field(1.0, gt=0)
    admin_address: str = Field(
        "127.0.0.1:9499",
        description="HOST:PORT of the admin API; a non-loopback host needs $RACKPANEL_ADMIN_TOKEN",
    )
    write_request_timeout_seconds: float = Field(2.0, gt=0)
    read_request_timeout_seconds: float = Field(5.0, gt=0)
    max_hint_window_seconds: float = Field(3 * 3600, gt=0)

    @field_validator("admin_address")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep:
            raise ValueError("expected IP:PORT, e.g. 127.0.0.1:9499")
        try:
            ip_address(host.strip("[]")) if host != "localhost" else None
        except ValueError:
            raise ValueError(f"expected IP:PORT, and {host!r} is not an IP address") from None
        if not sep or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError("expected IP:PORT with a port between 1 and 65535")
        return value


class PrometheusSettings(Strict):
    """Monitoring: which profile the generated configuration uses."""

    profile: Literal["demo", "production"] = "demo"


class DeploySettings(Strict):
    """How ``rackpanel deploy`` reaches and changes the hosts.

    ``remote_root`` and ``service_manager`` may contain ``{host}`` (the host's inventory name),
    so tests can give every simulated host its own directory and restart log.
    """

    ssh_user: str = "pi"
    identity_file: str | None = None
    known_hosts: str = "deploy/known_hosts"
    remote_root: str | None = Field(
        None, description="prefix every absolute remote path with this (tests)"
    )
    service_manager: str = Field(
        "systemd", description="'systemd' or a command run with the action and unit (tests)"
    )
    parallel: int = Field(4, ge=1)
    cassandra_home: str = "/etc/cassandra"
    python: str = Field("/opt/rackpanel/bin/python", description="runs the services")
    up_check: str = Field(
        "nodetool status",
        description="command run on a peer whose output lists 'UN <address>' once a node is up",
    )
    up_timeout_seconds: float = Field(600.0, gt=0)
    connect_timeout_seconds: float = Field(10.0, gt=0)
    jolokia_agent: str = "/usr/share/java/jolokia-jvm-agent.jar"
    # ---- installing on blank Raspberry Pi OS hosts (deploy/phases.py) --------------------
    install: bool = Field(
        True, description="install packages and rackpanel (the phases); false: configuration only"
    )
    command_wrapper: str | None = Field(
        None, description="run every install command through this command (tests: a chroot)"
    )
    bundle_dir: str = Field(
        ".rackpanel/bundle", description="wheels, keys and apt cache made by `deploy bundle`"
    )
    apt_cache: bool = Field(False, description="apt installs only from the bundle's apt cache")
    java_package: str = "openjdk-17-jre-headless"
    cassandra_repository: str = "https://debian.cassandra.apache.org"
    grafana_repository: str = "https://apt.grafana.com"
    grafana_version: str | None = Field(None, description="apt version of grafana; None: newest")
    venv: str = "/opt/rackpanel"
    wheel_platforms: list[str] = ["manylinux_2_17_aarch64", "manylinux2014_aarch64"]
    wheel_python: str = Field("3.11", description="the hosts' Python (bookworm: 3.11)")
    ntp_servers: list[str] = Field([], description="time servers; [] keeps Debian's pool")
    jolokia_jar: str | None = Field(
        None, description="the Jolokia JVM agent jar on this machine, uploaded to jolokia_agent"
    )

    @field_validator("remote_root", "service_manager", "up_check", "command_wrapper")
    @classmethod
    def _only_host_placeholder(cls, value: str | None) -> str | None:
        try:
            _ = value is None or value.format(host="h")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"only the {{host}} placeholder is known here ({exc!r})") from None
        return value


class Inventory(Strict):
    cluster: Cluster
    datacenters: list[Datacenter]
    seeds: list[str]
    keyspace: Keyspace
    writers: list[Writer] = []
    monitor: Monitor | None = None
    ports: Ports = Ports()
    simulator: SimulatorSettings = SimulatorSettings()
    prometheus: PrometheusSettings = PrometheusSettings()
    deploy: DeploySettings = DeploySettings()

    # ---- derived views -------------------------------------------------------------------
    def jolokia_on(self) -> bool:
        """Whether the nodes run the Jolokia agent: ``cluster.jolokia`` when given, else as soon
        as ``deploy.jolokia_jar`` names the agent jar to install."""
        if self.cluster.jolokia is not None:
            return self.cluster.jolokia
        return self.deploy.jolokia_jar is not None

    def nodes(self) -> Iterator[NodePlace]:
        """Every node with its DC and rack, in inventory order."""
        for dc_index, dc in enumerate(self.datacenters, start=1):
            for rack_index, rack in enumerate(dc.racks, start=1):
                for node_index, node in enumerate(rack.nodes, start=1):
                    yield NodePlace(
                        node=node,
                        dc=dc.name,
                        rack=rack.name,
                        sim_address=node.sim_address
                        or IPv4Address(f"127.0.{dc_index}{rack_index}.{node_index}"),
                    )

    def node(self, name: str) -> NodePlace:
        for place in self.nodes():
            if place.name == name:
                return place
        raise KeyError(name)

    def datacenter(self, name: str) -> Datacenter:
        for dc in self.datacenters:
            if dc.name == name:
                return dc
        raise KeyError(name)

    def writer_places(self) -> Iterator[WriterPlace]:
        """Every writer with its default simulator address 127.0.<dc>0.<k>."""
        per_dc: dict[str, int] = {}
        dc_index = {dc.name: i for i, dc in enumerate(self.datacenters, start=1)}
        for writer in self.writers:
            per_dc[writer.local_dc] = per_dc.get(writer.local_dc, 0) + 1
            third = int(f"{dc_index.get(writer.local_dc, 0)}0")
            default = IPv4Address(f"127.0.{third}.{per_dc[writer.local_dc]}")
            contacts = writer.contact_points or [
                p.name for p in self.nodes() if p.dc == writer.local_dc
            ]
            yield WriterPlace(
                writer=writer, sim_address=writer.sim_address or default, contact_points=contacts
            )

    @property
    def monitor_ports(self) -> MonitorPorts:
        """The monitor's ports, or the defaults when the inventory has no monitor host."""
        return self.monitor.ports if self.monitor else MonitorPorts()

    def dc_colors(self) -> dict[str, tuple[int, int, int]]:
        """The backlight colour of each DC that sets one."""
        return {dc.name: dc.color for dc in self.datacenters if dc.color is not None}

    def dc_color(self, name: str) -> tuple[int, int, int]:
        """The backlight a writer shows for a coordinator in DC ``name``: the inventory's
        colour, else the original panel's (DC1 green, DC2 blue), else cyan."""
        return self.dc_colors().get(name) or DEFAULT_DC_COLORS.get(name, OTHER_DC_COLOR)

    def seed_places(self) -> list[NodePlace]:
        return [self.node(name) for name in self.seeds]


@dataclass(frozen=True)
class NodePlace:
    """A node with where it sits: its DC, its rack and its simulator address."""

    node: Node
    dc: str
    rack: str
    sim_address: IPv4Address

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def address(self) -> IPv4Address:
        return self.node.address

    def host(self, simulated: bool) -> str:
        return str(self.sim_address if simulated else self.node.address)


@dataclass(frozen=True)
class WriterPlace:
    writer: Writer
    sim_address: IPv4Address
    contact_points: list[str]

    @property
    def name(self) -> str:
        return self.writer.name

    @property
    def local_dc(self) -> str:
        return self.writer.local_dc

    def host(self, simulated: bool) -> str:
        return str(self.sim_address if simulated else self.writer.address)

"""``rackpanel deploy check``: can deploy work on each host? A table, one row per host."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from rackpanel.deploy.hosts import DeployHost
from rackpanel.deploy.install import Installer
from rackpanel.deploy.remote import Remote
from rackpanel.deploy.sessions import Sessions
from rackpanel.deploy.ssh import DeployError
from rackpanel.topology import Inventory
from rackpanel.topology.model import SUPPORTED_JAVA, release_of

from rackpanel.compose_image import JOLOKIA_URL

MIN_FREE_BYTES = 1 << 30  # below this a node risks a full SD card during compaction
JAVA_VERSION = re.compile(r'version "([^"]+)"')
CASSANDRA_COMMAND = "cassandra -v 2>/dev/null || nodetool version 2>/dev/null"


@dataclass
class HostCheck:
    """Each column: a short text; ``problems`` lists what makes the host not ready."""

    host: DeployHost
    ssh: str = "-"
    host_key: str = "-"
    sudo: str = "-"
    java: str = "-"
    cassandra: str = "-"
    phases: str = "-"
    disk_free: str = "-"
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _sudo(remote: Remote) -> tuple[str, str | None]:
    if remote.is_root:
        return "root", None
    result = remote.run("true", privileged=True)
    if result.code == 0:
        return "ok", None
    reason = (result.err.strip().splitlines() or ["no output"])[-1]
    return "fails", f"sudo does not work: {reason}"


def _java(remote: Remote) -> str | None:
    run = remote.system if remote.wrapper else remote.run  # the tests' hosts are chroots
    match = JAVA_VERSION.search(run("java -version 2>&1").out)
    return match.group(1) if match else None


def java_major(version: str) -> int | None:
    """``17.0.15`` → 17, ``1.8.0_392`` → 8, ``11`` → 11; None when unreadable."""
    parts = re.findall(r"\d+", version)
    if not parts:
        return None
    major = int(parts[0])
    return int(parts[1]) if major == 1 and len(parts) > 1 else major


def java_problem(cassandra_version: str, java: str) -> str | None:
    """Why Cassandra ``cassandra_version`` will not start on Java ``java``, or None."""
    release = release_of(cassandra_version)
    major, supported = java_major(java), SUPPORTED_JAVA.get(release, ())
    if major is None or major in supported:
        return None
    reason = (
        ": its jvm11-server.options pass -XX:+UseConcMarkSweepGC, which Java 14 and later "
        "reject, so it would not start (install Java 11, or use Cassandra 5.0)"
        if release == "4.1" and major > 11
        else ""
    )
    allowed = " or ".join(str(v) for v in supported)
    return f"Cassandra {cassandra_version} runs on Java {allowed} only, this host has {java}" + (
        reason
    )


def _cassandra(remote: Remote) -> str | None:
    out = (remote.system if remote.wrapper else remote.run)(CASSANDRA_COMMAND).out
    match = re.search(r"\d+\.\d+(\.\d+)?", out)
    return match.group(0) if match else None


def _free_bytes(remote: Remote) -> int | None:
    path = remote.path("/") if remote.root else "/"
    lines = remote.run(f"df -Pk {shlex.quote(path)}").out.strip().splitlines()
    try:
        return int(lines[-1].split()[3]) * 1024
    except (IndexError, ValueError):
        return None


def _phases(installer: Installer, host: DeployHost, remote: Remote) -> tuple[str, list[str]]:
    """The phases column, and the problems that stop the phases (bundle, keys, versions)."""
    try:
        left = [s.phase.name for s in installer.states(host, remote) if not s.done]
    except DeployError as exc:
        return "blocked", [str(exc)]
    return ("to do: " + ", ".join(left) if left else "all done"), []


def check_host(
    inv: Inventory, host: DeployHost, sessions: Sessions, installer: Installer | None = None
) -> HostCheck:
    row = HostCheck(host)
    try:
        remote = sessions.get(host)
    except DeployError as exc:
        stage = exc.stage or "failed"
        row.ssh = "unreachable" if stage == "unreachable" else "reachable"
        if stage.startswith("host key"):
            row.host_key = stage.removeprefix("host key ")
        elif stage == "auth failed":
            row.host_key, row.ssh = "known", "auth failed"
        row.problems.append(str(exc))
        return row
    row.ssh, row.host_key = "ok", "known"
    try:
        row.sudo, problem = _sudo(remote)
        if problem:
            row.problems.append(problem)
        java = _java(remote)
        row.java = java or "not found"
        if installer is not None:  # what is missing, the phases install
            row.phases, problems = _phases(installer, host, remote)
            row.problems += problems
            if host.node is not None:
                row.cassandra = _cassandra(remote) or "not found"
                if java and (problem := java_problem(inv.cluster.cassandra_version, java)):
                    row.problems.append(problem)
        elif host.node is not None:
            if java is None:
                row.problems.append("Java is not installed (Cassandra needs it)")
            elif problem := java_problem(inv.cluster.cassandra_version, java):
                row.problems.append(problem)
            version = _cassandra(remote)
            row.cassandra = version or "not found"
            if version is None:
                row.problems.append("Cassandra is not installed")
            elif version != inv.cluster.cassandra_version:
                row.problems.append(
                    f"Cassandra {version} installed, inventory says {inv.cluster.cassandra_version}"
                )
            if inv.jolokia_on():
                jar = remote.path(inv.deploy.jolokia_agent)
                if remote.run(f"test -r {shlex.quote(jar)}").code != 0:
                    row.problems.append(
                        f"Jolokia is on but the agent jar {jar} is missing (deploy.jolokia_agent)"
                    )
        free = _free_bytes(remote)
        row.disk_free = f"{free / (1 << 30):.1f} GiB" if free is not None else "unknown"
        if free is not None and free < MIN_FREE_BYTES:
            row.problems.append(f"only {row.disk_free} free")
    except DeployError as exc:
        row.problems.append(str(exc))
    return row


def jolokia_hint(inv: Inventory, hosts: Sequence[DeployHost]) -> str | None:
    """How to turn Jolokia on, when nobody decided yet (neither ``cluster.jolokia`` nor
    ``deploy.jolokia_jar`` is set) and the nodes being checked will run without it."""
    if inv.cluster.jolokia is not None or inv.deploy.jolokia_jar is not None:
        return None
    if not any(host.node is not None for host in hosts):
        return None
    return (
        "Jolokia is off: the exporters read no live JVM memory and no hints during an outage. "
        f"Download the agent ({JOLOKIA_URL}) and set deploy.jolokia_jar to it; deploy then "
        "installs it on the nodes. cluster.jolokia: false silences this line."
    )


def check(
    inv: Inventory,
    hosts: Sequence[DeployHost],
    sessions: Sessions,
    installer: Installer | None = None,
) -> list[HostCheck]:
    with ThreadPoolExecutor(max_workers=inv.deploy.parallel) as pool:
        return list(pool.map(lambda h: check_host(inv, h, sessions, installer), hosts))

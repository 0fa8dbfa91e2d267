"""Probe and run the phases on one host over its session.

Probing asks the host (dpkg-query, checksums, each step's probe) and writes nothing. Running a
phase writes its files (atomically, with backups), downloads every package before installing
any (``apt-get install --download-only``): a download that fails puts the phase's files back as
they were and stops the host with apt's reason, with nothing installed. Packages that must not
start on install (Cassandra, before it has the cluster's configuration) are held by a
``policy-rc.d`` for the duration of the install.
"""

from __future__ import annotations

import hashlib
import posixpath
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rackpanel.deploy.aptcache import CACHE_OPTIONS
from rackpanel.deploy.files import FileChange, sha256
from rackpanel.deploy.phase import Phase, PhaseState, Upload, package_name, package_version
from rackpanel.deploy.remote import BACKUP_SUFFIX, Remote
from rackpanel.deploy.ssh import DeployError

INSTALL_TIMEOUT = 3600.0  # a JDK or Cassandra on a Pi with a slow SD card takes minutes
APT_GET = (
    "DEBIAN_FRONTEND=noninteractive apt-get -q -y "
    "-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"
)
POLICY = "/usr/sbin/policy-rc.d"
Report = Callable[[str], None]


@dataclass
class HostApt:
    """apt on one host for one run: where packages come from, and whether lists are fresh."""

    remote: Remote
    cache: bool
    updated: bool = False
    update_warnings: list[str] = field(default_factory=list)

    def command(self, args: str) -> str:
        return f"{APT_GET} {CACHE_OPTIONS + ' ' if self.cache else ''}{args}"

    def installed(self, names: list[str]) -> dict[str, str]:
        quoted = " ".join(shlex.quote(n) for n in names)
        query = "dpkg-query -W -f='${Package} ${db:Status-Status} ${Version}\\n' "
        out = self.remote.system(f"{query}{quoted} 2>/dev/null").out
        found = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] == "installed":
                found[parts[0]] = parts[2]
        return found

    def update(self) -> None:
        if self.updated:
            return
        self.update_warnings = []
        result = self.remote.system(self.command("update"), timeout=INSTALL_TIMEOUT)
        lines = (result.out + result.err).splitlines()
        for index, line in enumerate(lines):
            if line.startswith("Err:"):  # "Err:3 URI  SUITE InRelease", the reason below it
                below = lines[index + 1] if index + 1 < len(lines) else ""
                detail = below.strip() if below.startswith(" ") else ""
                self.update_warnings.append(" ".join(f"{line.strip()} {detail}".split()))
        if result.code != 0:
            raise DeployError(f"apt-get update failed: {_reason(result.out + result.err)}")
        self.updated = True

    def download(self, specs: list[str]) -> None:
        """Fetch every package (and what it depends on) without installing anything."""
        self.update()
        listed = " ".join(shlex.quote(s) for s in specs)
        result = self.remote.system(
            self.command(f"install --download-only --no-install-recommends {listed}"),
            timeout=INSTALL_TIMEOUT,
        )
        if result.code != 0:
            reason = _reason(result.out + result.err)
            if self.update_warnings:
                reason += f" (apt-get update: {self.update_warnings[0]})"
            raise DeployError(f"download of {', '.join(specs)} failed: {reason}")

    def install(self, specs: list[str], hold_services: bool) -> None:
        listed = " ".join(shlex.quote(s) for s in specs)
        install = self.command(f"install --no-install-recommends {listed}")
        if hold_services:  # keep an existing policy-rc.d; else add one for this install only
            install = (
                f"if [ -e {POLICY} ]; then {install}; else "
                f"printf '#!/bin/sh\\nexit 101\\n' > {POLICY} && chmod 755 {POLICY} && "
                f"{{ {install}; rc=$?; rm -f {POLICY}; exit $rc; }}; fi"
            )
        result = self.remote.system(install, timeout=INSTALL_TIMEOUT)
        if result.code != 0:
            raise DeployError(
                f"installing {', '.join(specs)} failed: {_reason(result.out + result.err)}"
            )


def _reason(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("E:")]
    return (errors or lines or ["no output"])[0]


def local_files(upload: Upload) -> dict[str, Path]:
    """Target path on the host → local file, for a file or every file of a directory."""
    if upload.local.is_dir():
        return {
            f"{upload.remote}/{p.name}": p for p in sorted(upload.local.iterdir()) if p.is_file()
        }
    return {upload.remote: upload.local}


def probe(remote: Remote, apt: HostApt, phase: Phase) -> PhaseState:
    """What ``phase`` still has to do on the host; nothing is written."""
    state = PhaseState(phase)
    if phase.packages:
        have = apt.installed([package_name(spec) for spec in phase.packages])
        for spec in phase.packages:
            name, want = package_name(spec), package_version(spec)
            if name not in have:
                state.packages.append(spec)
                state.package_notes.append(f"{name} {want}" if want else name)
            elif want and have[name] != want:
                raise DeployError(
                    f"{remote.host.name}: {name} {have[name]} is installed but the inventory "
                    f"asks for {want}; deploy installs on blank hosts and does not change an "
                    "installed version (upgrade it by hand, node by node)"
                )
    for spec in phase.files:
        path = remote.path(spec.path)
        old = remote.read(path)
        new = spec.render(old)
        if old is None or sha256(old) != sha256(new):
            state.files.append(FileChange(spec, path, old, new))
    for upload in phase.uploads:
        wanted = local_files(upload)
        present = remote.checksums([remote.path(target) for target in wanted])
        for target, source in wanted.items():
            if present.get(remote.path(target)) != hashlib.sha256(source.read_bytes()).hexdigest():
                state.uploads.append(upload)
                break
    for step in phase.steps:
        if remote.system(step.probe).code != 0:
            state.steps.append(step)
    return state


def restore(remote: Remote, changes: list[FileChange]) -> None:
    """Put files written by a phase back: the backup over it, or removed when it was new."""
    q = shlex.quote
    lines = [
        f"rm -f {q(c.remote_path)}"
        if c.old is None
        else f"mv -f {q(c.remote_path + BACKUP_SUFFIX)} {q(c.remote_path)}"
        for c in changes
    ]
    if lines:
        remote.check("\n".join(lines), privileged=True, what="restoring the phase's files")


def run_phase(remote: Remote, apt: HostApt, state: PhaseState, report: Report) -> None:
    """Do what ``state`` lists; a failure raises :class:`DeployError` naming host and phase."""
    name = f"{remote.host.name}: phase {state.phase.name}"
    if state.files:
        remote.install_files([(c.remote_path, c.new, c.spec.mode) for c in state.files])
        for change in state.files:
            report(f"wrote {change.spec.path}")
    if any(c.spec.path.startswith("/etc/apt/") for c in state.files):
        apt.updated = False  # a new repository: its package lists are needed
    if state.packages:
        try:
            apt.download(state.packages)
        except DeployError as exc:
            restore(remote, state.files)
            kept = "; its files were put back as they were" if state.files else ""
            raise DeployError(f"{name}: {exc}; nothing was installed{kept}") from None
        try:
            apt.install(state.packages, state.phase.hold_services)
        except DeployError as exc:
            raise DeployError(f"{name}: {exc}") from None
        missing = [
            s
            for s in state.packages
            if package_name(s) not in apt.installed([package_name(s) for s in state.packages])
        ]
        if missing:
            raise DeployError(f"{name}: apt finished but {', '.join(missing)} is not installed")
        report("installed " + ", ".join(state.package_notes))
    for upload in state.uploads:
        wanted = local_files(upload)
        files = [(remote.path(t), source.read_bytes(), 0o644) for t, source in wanted.items()]
        remote.install_files(files)
        if upload.local.is_dir():  # an earlier bundle's files must not be found by pip or apt
            keep = {posixpath.basename(t) for t in wanted}
            directory = remote.path(upload.remote)
            stale = [n for n in remote.sftp.listdir(directory) if n not in keep]
            if stale:
                listed = " ".join(shlex.quote(f"{directory}/{n}") for n in stale)
                remote.check(f"rm -rf {listed}", privileged=True, what="removing stale files")
        report(f"uploaded {upload.label}")
    for step in state.steps:
        result = remote.system(step.run, timeout=INSTALL_TIMEOUT, stdin=step.stdin)
        if result.code != 0:
            raise DeployError(
                f"{name}: {step.label} failed (exit {result.code}): "
                f"{_reason(result.err or result.out)}"
            )
        report(step.label)

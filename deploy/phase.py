"""A phase of bringing a host from a blank Raspberry Pi OS to its role: what it installs.

A phase is declarative: apt packages (a version after ``=`` is pinned and checked), managed files
(repository definitions, keyrings, drop-ins: the same atomic machinery as the configuration),
uploads from the operator's machine (wheels, the Jolokia jar) and steps, each a probe command
(exit 0: already done) and the command that does it. Probing every part tells what is left, so a
second ``apply`` finds nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rackpanel.deploy.files import FileChange, ManagedFile


@dataclass(frozen=True)
class Step:
    label: str
    probe: str
    run: str
    stdin: str | None = field(default=None, repr=False)  # secrets go to stdin, never printed


@dataclass(frozen=True)
class Upload:
    """A file or a directory of the operator's machine, copied to ``remote`` on the host."""

    label: str
    local: Path
    remote: str


@dataclass(frozen=True)
class Phase:
    name: str
    installs: str  # what it puts on a blank host, one line for `plan`
    packages: tuple[str, ...] = ()  # apt: "name" or "name=version" (pinned)
    files: tuple[ManagedFile, ...] = ()
    uploads: tuple[Upload, ...] = ()
    steps: tuple[Step, ...] = ()
    hold_services: bool = False  # packages must not start their services when installed


def package_name(spec: str) -> str:
    return spec.partition("=")[0]


def package_version(spec: str) -> str | None:
    return spec.partition("=")[2] or None


@dataclass
class PhaseState:
    """What a phase still has to do on one host."""

    phase: Phase
    packages: list[str] = field(default_factory=list)  # specs to install
    package_notes: list[str] = field(default_factory=list)
    files: list[FileChange] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return not (self.packages or self.files or self.uploads or self.steps)

    def todo(self) -> list[str]:
        lines = [f"install {note}" for note in self.package_notes]
        lines += [f"write {c.spec.path}" for c in self.files]
        lines += [f"upload {u.label}" for u in self.uploads]
        lines += [s.label for s in self.steps]
        return lines

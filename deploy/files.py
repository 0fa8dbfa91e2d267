"""What deploy puts on a host: managed files and the service actions their changes trigger."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

# Given the file as installed (None when absent), return the content it must have.
Render = Callable[[str | None], str]


@dataclass(frozen=True)
class ManagedFile:
    """One file on a host.

    ``path`` is the absolute path on a real host (before ``remote_root``). When the file
    changes: ``restarts`` lists the units to restart, ``unit_file`` asks for a daemon-reload and
    an enable, ``set_hostname`` for the host name to be applied. ``rolling`` marks Cassandra's
    files, applied node by node with a restart each; the others go in parallel.
    """

    path: str
    render: Render
    mode: int = 0o644
    restarts: tuple[str, ...] = ()
    unit_file: bool = False
    set_hostname: str | None = None
    rolling: bool = False
    group_of: str | None = None  # a new file takes this file's group (e.g. grafana's)
    secret: bool = False  # plan shows that it changes, never its contents


def generated_once(make: Callable[[], str]) -> Render:
    """A file written once (e.g. a generated password) and then left as the host has it."""
    return lambda current: current if current and current.strip() else make()


def whole(text: str) -> Render:
    """A file the project owns entirely: whatever is installed is replaced by ``text``."""
    return lambda _current: text


@dataclass(frozen=True)
class Action:
    """A service action: ``daemon-reload``, ``enable UNIT``, ``restart UNIT``, ``set-hostname``."""

    verb: str
    target: str = ""

    def __str__(self) -> str:
        return f"{self.verb} {self.target}".strip()


@dataclass
class FileChange:
    """A managed file whose installed content differs from what the inventory wants."""

    spec: ManagedFile
    remote_path: str
    old: str | None
    new: str


# Actions of an apply that wrote its files but did not finish their actions are recorded on the
# host (one file per phase) and run by the next apply, although the files no longer differ.
PENDING_DIR = "/var/lib/rackpanel"


def pending_path(rolling: bool) -> str:
    return f"{PENDING_DIR}/pending-{'rolling' if rolling else 'parallel'}-actions"


def parse_actions(text: str) -> list[Action]:
    actions = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            verb, _, target = line.strip().partition(" ")
            actions.append(Action(verb, target))
    return actions


def format_actions(actions: list[Action]) -> str:
    header = (
        "# actions rackpanel deploy has still to run on this host (left by an unfinished apply)\n"
    )
    return header + "".join(f"{a}\n" for a in actions)


@dataclass
class HostPlan:
    changes: list[FileChange] = field(default_factory=list)
    unchanged: int = 0
    pending: dict[bool, list[Action]] = field(default_factory=dict)  # rolling? → actions
    leftovers: list[str] = field(default_factory=list)  # temp files of interrupted uploads
    deferred: list[str] = field(default_factory=list)  # merged into a file not installed yet

    def part(self, rolling: bool) -> list[FileChange]:
        return [c for c in self.changes if c.spec.rolling == rolling]

    def actions(self, rolling: bool) -> list[Action]:
        """Left-over actions first, then those the changed files need; each once."""
        merged: list[Action] = []
        for action in [*self.pending.get(rolling, []), *actions_for(self.part(rolling))]:
            if action not in merged:
                merged.append(action)
        return merged

    def has_work(self, rolling: bool) -> bool:
        return bool(self.part(rolling) or self.pending.get(rolling))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def actions_for(changes: list[FileChange]) -> list[Action]:
    """The actions a set of changed files needs, in the order they must run."""
    actions: list[Action] = []

    def add(action: Action) -> None:
        if action not in actions:
            actions.append(action)

    for change in changes:
        if change.spec.set_hostname:
            add(Action("set-hostname", change.spec.set_hostname))
    if any(c.spec.unit_file for c in changes):
        add(Action("daemon-reload"))
        for change in changes:
            if change.spec.unit_file:
                add(Action("enable", change.spec.path.rsplit("/", 1)[-1]))
    for change in changes:
        for unit in change.spec.restarts:
            add(Action("restart", unit))
    return actions

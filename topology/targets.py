"""The one target selector: ``DC1``, ``DC1/RAC2``, a node name, or ``link:DC1-DC2``.

Power (simulator, compose), deploy's ``--limit`` and the panels all name parts of the cluster
this way. :func:`select` resolves a target against any members that have a ``name``, ``dc``
and ``rack`` (inventory places, simulator nodes, deploy hosts), so the grammar and its error
messages live here only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Generic, Literal, Protocol, TypeVar

LINK_PREFIX = "link:"


class Member(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def dc(self) -> str: ...

    @property
    def rack(self) -> str: ...


M = TypeVar("M", bound=Member)


class TargetError(ValueError):
    """A target that names no DC, rack, node or DC link; the message lists what exists."""


@dataclass(frozen=True)
class Selection(Generic[M]):
    text: str
    kind: Literal["dc", "rack", "node", "link"]
    members: tuple[M, ...] = ()
    link: tuple[str, str] | None = None  # the two DCs of a link target

    @property
    def is_link(self) -> bool:
        return self.link is not None


def link_target(a: str, b: str) -> str:
    """``link:A-B`` for the link between datacenters ``a`` and ``b``."""
    return f"{LINK_PREFIX}{a}-{b}"


def link_targets(dcs: Sequence[str]) -> list[str]:
    """Every DC link of these datacenters, in order."""
    return [link_target(a, b) for a, b in combinations(dcs, 2)]


def is_link(text: str) -> bool:
    return text.startswith(LINK_PREFIX)


def parse_link(text: str, dcs: Sequence[str]) -> tuple[str, str]:
    """``link:A-B`` → (A, B), two different DCs of ``dcs`` (a DC name may contain ``-``)."""
    spec = text.removeprefix(LINK_PREFIX)
    for i, ch in enumerate(spec):
        a, b = spec[:i], spec[i + 1 :]
        if ch == "-" and a in dcs and b in dcs and a != b:
            return a, b
    raise TargetError(
        f"unknown link {text!r}: expected link:<DC>-<DC> with two different DCs of {', '.join(dcs)}"
    )


def select(
    text: str,
    members: Iterable[M],
    *,
    links: bool = True,
    what: str = "target",
) -> Selection[M]:
    """Resolve ``text`` against ``members``; TargetError names what would have been valid.

    ``links=False`` refuses DC links (where nothing can cut one, e.g. one docker network).
    """
    everyone = list(members)
    dcs = list(dict.fromkeys(m.dc for m in everyone))
    if is_link(text):
        if not links:
            raise TargetError(f"{what} {text!r}: a DC link cannot be cut here")
        return Selection(text, "link", link=parse_link(text, dcs))
    named = tuple(m for m in everyone if m.name == text)
    if named:
        return Selection(text, "node", named)
    if text in dcs:
        return Selection(text, "dc", tuple(m for m in everyone if m.dc == text))
    dc, slash, rack = text.partition("/")
    if slash:
        in_rack = tuple(m for m in everyone if (m.dc, m.rack) == (dc, rack))
        if in_rack:
            return Selection(text, "rack", in_rack)
    racks = list(dict.fromkeys(f"{m.dc}/{m.rack}" for m in everyone))
    hint = f" or link:{dcs[0]}-{dcs[-1]}" if links and len(dcs) > 1 else ""
    raise TargetError(
        f"unknown {what} {text!r}: expected a DC ({', '.join(dcs)}), a rack "
        f"({', '.join(racks)}), a node name{hint}"
    )

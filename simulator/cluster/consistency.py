"""Cassandra's consistency-level arithmetic: which replicas count and how many must answer.

A request at a CL is a list of :class:`Requirement`: a group of candidate replicas and how
many of them must acknowledge. Most CLs have one group (every replica, or the coordinator's
DC for LOCAL_*); EACH_QUORUM has one per DC. Quorums come from the *configured* replication
factors (as Cassandra's ``ConsistencyLevel.blockFor``), so an RF larger than a DC's node count
makes QUORUM impossible rather than easier.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from rackpanel.simulator.cluster.node import SimNode
from rackpanel.simulator.cluster.ring import NTS, Replication
from rackpanel.simulator.core import ConsistencyLevel as CL
from rackpanel.simulator.core import InvalidRequest

SERIALS = (CL.SERIAL, CL.LOCAL_SERIAL)


class Requirement(NamedTuple):  # built per request from a cached plan: cheap to make
    group: tuple[SimNode, ...]
    required: int


def validate_for_write(cl: CL) -> None:
    if cl in SERIALS:
        raise InvalidRequest("You must use conditional updates for serializable writes")


def validate_for_read(cl: CL) -> None:
    if cl == CL.ANY:
        raise InvalidRequest("ANY ConsistencyLevel is only supported for writes")


def validate_for_cas(serial_cl: CL, commit_cl: CL) -> None:
    if serial_cl not in SERIALS:
        raise InvalidRequest(
            f"Invalid consistency for conditional update. Must be one of SERIAL or "
            f"LOCAL_SERIAL (got {serial_cl.name})"
        )
    if commit_cl in SERIALS:
        raise InvalidRequest(
            f"{commit_cl.name} is not supported as conditional update commit consistency. "
            "Use ANY if you mean \"make sure it is accepted but I don't care how many "
            'replicas commit it for non-SERIAL reads"'
        )


def quorum(n: int) -> int:
    return n // 2 + 1


def requirements(
    cl: CL, replication: Replication, replicas: Sequence[SimNode], coordinator_dc: str
) -> list[Requirement]:
    """What ``cl`` demands of ``replicas`` (the token's replica list) for this coordinator."""
    everyone = tuple(replicas)
    total = replication.total
    if cl in (CL.ANY, CL.ONE):
        return [Requirement(everyone, 1)]
    if cl == CL.TWO:
        return [Requirement(everyone, 2)]
    if cl == CL.THREE:
        return [Requirement(everyone, 3)]
    if cl in (CL.QUORUM, CL.SERIAL):
        return [Requirement(everyone, quorum(total))]
    if cl == CL.ALL:
        return [Requirement(everyone, total)]
    local = tuple(r for r in replicas if r.dc == coordinator_dc)
    if cl == CL.LOCAL_ONE:
        return [Requirement(local, 1)]
    if cl in (CL.LOCAL_QUORUM, CL.LOCAL_SERIAL):
        return [Requirement(local, quorum(replication.factor(coordinator_dc)))]
    if cl == CL.EACH_QUORUM:
        if replication.strategy != NTS:
            return [Requirement(everyone, quorum(total))]
        return [
            Requirement(tuple(r for r in replicas if r.dc == dc), quorum(rf))
            for dc, rf in replication.factors
            if rf > 0
        ]
    raise InvalidRequest(f"Unknown consistency level {cl!r}")


def block_for(reqs: Sequence[Requirement]) -> int:
    return sum(r.required for r in reqs)


def acknowledged(reqs: Sequence[Requirement], answered: set[SimNode] | list[SimNode]) -> int:
    return sum(min(req.required, sum(1 for r in req.group if r in answered)) for req in reqs)


def satisfied(reqs: Sequence[Requirement], answered: set[SimNode] | list[SimNode]) -> bool:
    return all(sum(1 for r in req.group if r in answered) >= req.required for req in reqs)

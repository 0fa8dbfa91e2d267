"""A simulated Cassandra node: identity (name, place, address, host id, tokens) and power."""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field

from rackpanel.topology.model import DEFAULT_CASSANDRA_VERSION

MIN_TOKEN = -(2**63)
MAX_TOKEN = 2**63 - 1
HOST_ID_NAMESPACE = uuid.UUID("6f1c3f0e-52a4-4b8e-9a53-7261636b7061")  # "rackpa" in the tail


def host_id_for(name: str) -> uuid.UUID:
    """The node's host id: the same on every run, different for every name."""
    return uuid.uuid5(HOST_ID_NAMESPACE, name)


def tokens_for(name: str, num_tokens: int) -> list[int]:
    """``num_tokens`` vnode tokens drawn from a generator seeded by the node name (sorted).

    Murmur3Partitioner tokens span [-2**63 + 1, 2**63 - 1] (MIN_TOKEN itself is never a key's
    token), so the vnodes fall in that range too.
    """
    rng = random.Random(f"rackpanel-tokens:{name}")
    tokens: set[int] = set()
    while len(tokens) < num_tokens:
        tokens.add(rng.randint(MIN_TOKEN + 1, MAX_TOKEN))
    return sorted(tokens)


@dataclass(eq=False)
class SimNode:
    """One node. Identity is by object (``eq=False``), so nodes can key dicts and sets.

    ``powered`` and ``crashed`` describe the hardware; what other nodes *think* of it is the
    failure detector's business (``SimCluster.is_alive``). ``generation`` is the gossip
    generation (epoch seconds of the last power-on); its heartbeat and the other nodes' views
    of it live in the cluster's gossip (``SimCluster.gossip``).
    """

    name: str
    dc: str
    rack: str
    address: str
    tokens: list[int]
    release_version: str = DEFAULT_CASSANDRA_VERSION
    host_id: uuid.UUID = field(default=None)  # type: ignore[assignment]
    powered: bool = True
    crashed: bool = False
    generation: int = field(default_factory=lambda: int(time.time()))
    started: bool = False  # booted at least once (a restart takes a newer generation)
    index: int = -1  # position in the cluster: its row and column in the gossip arrays

    def __post_init__(self) -> None:
        if self.host_id is None:
            self.host_id = host_id_for(self.name)

    def __repr__(self) -> str:
        state = "on" if self.powered else ("crashed" if self.crashed else "off")
        return f"SimNode({self.name} {self.dc}/{self.rack} {self.address} {state})"

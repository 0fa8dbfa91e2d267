"""The token ring: Murmur3 tokens and replica placement (NetworkTopologyStrategy, Simple).

Placement follows Cassandra's ``locator/NetworkTopologyStrategy.java`` (4.x): walk the ring
clockwise from the key's token; in each DC take the first node of every rack not yet used;
while the DC has fewer racks than its RF, also accept rack repeats as they come
(``acceptableRackRepeats = rf - racks``); a DC never gets more replicas than it has nodes.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cassandra.metadata import MAX_LONG as MAX_TOKEN
from cassandra.metadata import MIN_LONG as MIN_TOKEN
from cassandra.murmur3 import murmur3
from rackpanel.simulator.cluster.node import SimNode
from rackpanel.simulator.core import ConfigurationException

NTS = "NetworkTopologyStrategy"
SIMPLE = "SimpleStrategy"
LOCAL = "LocalStrategy"
STRATEGY_PACKAGE = "org.apache.cassandra.locator."


def token(routing_key: bytes) -> int:
    """The Murmur3Partitioner token of a routing key (as the driver computes it:
    ``Murmur3Token.hash_fn``, its C murmur3 called directly)."""
    hashed = murmur3(routing_key)
    return hashed if hashed != MIN_TOKEN else MAX_TOKEN


@dataclass(frozen=True)
class Replication:
    """A parsed replication map: the strategy's short name and RF per DC (or overall)."""

    strategy: str
    factors: tuple[tuple[str, int], ...]  # NTS: (dc, rf) pairs; Simple: (("", rf),)

    @property
    def dc_factors(self) -> dict[str, int]:
        return dict(self.factors)

    @property
    def total(self) -> int:
        return sum(rf for _, rf in self.factors)

    def factor(self, dc: str) -> int:
        """RF in ``dc`` (NTS); for SimpleStrategy the overall RF."""
        if self.strategy == SIMPLE:
            return self.total
        return self.dc_factors.get(dc, 0)


def _parse_rf(keyspace_option: str, value: str) -> int:
    full = str(value).split("/", 1)[0].strip()  # "3/1" = 3 replicas of which 1 transient
    if not full.isdigit():
        raise ConfigurationException(
            f"Replication factor must be non-negative; found {value}"
            if full.lstrip("-").isdigit()
            else f"{value} is not a valid replication factor for option '{keyspace_option}'"
        )
    return int(full)


def parse_replication(replication: Mapping[str, str], datacenters: Sequence[str]) -> Replication:
    """Parse a CQL replication map (class names short or qualified) into a :class:`Replication`.

    NTS's ``replication_factor`` option (4.x) applies to every DC of the cluster not named.
    Raises ConfigurationException for an unknown class or a bad factor.
    """
    cls = str(replication.get("class", ""))
    short = cls.removeprefix(STRATEGY_PACKAGE)
    options = {k: v for k, v in replication.items() if k != "class"}
    if short == NTS:
        factors: dict[str, int] = {}
        if "replication_factor" in options:
            default = _parse_rf("replication_factor", options.pop("replication_factor"))
            factors = {dc: default for dc in datacenters}
        for dc, value in options.items():
            factors[dc] = _parse_rf(dc, value)
        return Replication(NTS, tuple(sorted(factors.items())))
    if short == SIMPLE:
        if "replication_factor" not in options:
            raise ConfigurationException(
                "SimpleStrategy requires a replication_factor strategy option."
            )
        extra = sorted(set(options) - {"replication_factor"})
        if extra:
            raise ConfigurationException(
                f"Unrecognized strategy option {{{', '.join(extra)}}} passed to SimpleStrategy"
            )
        return Replication(
            SIMPLE, (("", _parse_rf("replication_factor", options["replication_factor"])),)
        )
    if short in (LOCAL, "EverywhereStrategy"):
        return Replication(short, ())
    raise ConfigurationException(f"Unable to find replication strategy class '{cls}'")


class Ring:
    """The sorted vnode tokens of a fixed set of nodes, with cached replica lists."""

    def __init__(self, nodes: Sequence[SimNode]) -> None:
        owners = sorted((t, n) for n in nodes for t in n.tokens)
        self.tokens: list[int] = [t for t, _ in owners]
        self.owners: list[SimNode] = [n for _, n in owners]
        self.nodes = list(nodes)
        self._dc_nodes: dict[str, int] = {}
        self._dc_racks: dict[str, int] = {}
        racks: dict[str, set[str]] = {}
        for n in nodes:
            self._dc_nodes[n.dc] = self._dc_nodes.get(n.dc, 0) + 1
            racks.setdefault(n.dc, set()).add(n.rack)
        self._dc_racks = {dc: len(r) for dc, r in racks.items()}
        self._positions = {id(n): i for i, n in enumerate(self.nodes)}
        # Replica lists are cached as positions in ``nodes``: tuples of ints, which the cyclic
        # GC stops tracking. Lists of nodes (1,000 nodes x 16 vnodes: 16,000 of them, and as
        # many plans) were walked by every full collection, a 50-90 ms stall of every node.
        self._cache: dict[Replication, dict[int, tuple[int, ...]]] = {}

    @property
    def datacenters(self) -> list[str]:
        return list(self._dc_nodes)

    def index_of(self, tok: int) -> int:
        """Index of the vnode owning ``tok``: the first ring token >= tok (wrapping)."""
        i = bisect_left(self.tokens, tok)
        return i if i < len(self.tokens) else 0

    def index_of_key(self, routing_key: bytes) -> int:
        """:meth:`index_of` the :func:`token` of ``routing_key``, in one call (most requests)."""
        hashed = murmur3(routing_key)
        i = bisect_left(self.tokens, hashed if hashed != MIN_TOKEN else MAX_TOKEN)
        return i if i < len(self.tokens) else 0

    def range_of(self, tok: int) -> tuple[int, int]:
        """The vnode range (left, right] that holds ``tok``: from the previous ring token."""
        i = self.index_of(tok)
        return self.tokens[i - 1], self.tokens[i]  # i == 0: the range that wraps around

    def replicas(self, replication: Replication, tok: int) -> list[SimNode]:
        return self.replicas_at(replication, self.index_of(tok))

    def replicas_at(self, replication: Replication, index: int) -> list[SimNode]:
        nodes = self.nodes
        return [nodes[i] for i in self.positions_at(replication, index)]

    def position(self, node: SimNode) -> int:
        """Where ``node`` is in :attr:`nodes`."""
        return self._positions[id(node)]

    def positions_at(self, replication: Replication, index: int) -> tuple[int, ...]:
        """The replicas of vnode ``index`` as positions in :attr:`nodes` (cached)."""
        cache = self._cache.get(replication)
        if cache is None:
            cache = self._cache[replication] = {}
        found = cache.get(index)
        if found is None:
            if replication.strategy == NTS:
                chosen = self._nts(replication.dc_factors, index)
            elif replication.strategy == SIMPLE:
                chosen = self._simple(replication.total, index)
            elif replication.strategy == "EverywhereStrategy":
                chosen = list(self.nodes)
            else:
                chosen = []
            found = cache[index] = tuple(self._positions[id(n)] for n in chosen)
        return found

    def _walk(self, start: int):
        size = len(self.owners)
        for step in range(size):
            yield self.owners[(start + step) % size]

    def _simple(self, rf: int, start: int) -> list[SimNode]:
        chosen: list[SimNode] = []
        for node in self._walk(start):
            if len(chosen) >= rf:
                break
            if node not in chosen:
                chosen.append(node)
        return chosen

    def _nts(self, factors: dict[str, int], start: int) -> list[SimNode]:
        left = {dc: min(rf, self._dc_nodes.get(dc, 0)) for dc, rf in factors.items() if rf > 0}
        repeats = {dc: factors[dc] - self._dc_racks.get(dc, 0) for dc in left}
        racks_used: dict[str, set[str]] = {dc: set() for dc in left}
        chosen: list[SimNode] = []
        taken: set[int] = set()
        for node in self._walk(start):
            if not any(left.values()):
                break
            dc = node.dc
            if left.get(dc, 0) <= 0 or id(node) in taken:
                continue
            if node.rack not in racks_used[dc]:
                racks_used[dc].add(node.rack)
            elif repeats[dc] > 0:
                repeats[dc] -= 1
            else:
                continue
            taken.add(id(node))
            chosen.append(node)
            left[dc] -= 1
        return chosen

"""The cluster model: nodes, ring, per-replica storage, gossip views and the failure
detector, hints, power and links. The request logic of every consistency level lives in
:mod:`simulator.cluster.coordinator`, mixed into :class:`SimCluster`.

Everything runs on one asyncio loop (``start()`` runs gossip and the failure detector on it);
listeners are called synchronously on that loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from rackpanel.simulator.cluster.coordinator import Coordinator, Plan
from rackpanel.simulator.cluster.gossip import (
    PHI_FACTOR,
    EndpointView,
    Gossip,
    GossipState,
    StatusChange,
)
from rackpanel.simulator.cluster.node import SimNode, tokens_for
from rackpanel.simulator.cluster.ring import Replication, Ring, parse_replication
from rackpanel.simulator.cluster.ring import token as murmur3_token
from rackpanel.simulator.cluster.stats import NodeStats
from rackpanel.simulator.cluster.storage import DEFAULT_MAX_PARTITIONS, ReplicaStore, Storage
from rackpanel.simulator.core import Mutation
from rackpanel.topology.targets import TargetError, select

if TYPE_CHECKING:
    from rackpanel.topology import Inventory

log = logging.getLogger(__name__)

PARTITIONER = "org.apache.cassandra.dht.Murmur3Partitioner"
STORAGE_PORT = 7000
FAST_PHI_CONVICT_THRESHOLD = 2.0
DEFAULT_SCHEMA_VERSION = uuid.UUID("59adb24e-f3cd-3e02-97f0-5b395827453f")  # empty schema
# States a node announces at start (each takes a version; the schema follows once known).
BOOT_STATES = (
    "status",
    "dc",
    "rack",
    "release_version",
    "internal_ip",
    "rpc_address",
    "host_id",
    "net_version",
    "rpc_ready",
    "internal_address_and_port",
    "native_address_and_port",
    "status_with_port",
    "sstable_versions",
    "severity",
    "load",
)
LISTENER_METHODS = ("on_status_change", "on_power_change", "on_link_change")
FULL_VIEWS_UP_TO = 64  # /state lists every observer's verdict up to this many nodes


def _size_bytes(size: str) -> int:
    """``512M`` / ``2G`` (the inventory's heap sizes) in bytes."""
    return int(size[:-1]) * 1024 ** (2 if size[-1] == "M" else 3)


class UnknownTarget(TargetError):
    """A power target that names no DC, rack, node or DC link of the cluster."""


class ClusterListener(Protocol):
    def on_status_change(self, observer: SimNode, node: SimNode, up: bool) -> None: ...

    def on_power_change(self, node: SimNode, powered: bool, crash: bool) -> None: ...

    def on_link_change(self, dc_a: str, dc_b: str, up: bool) -> None: ...


@dataclass
class Hint:
    mutation: Mutation
    created: float  # wall clock


@dataclass
class NodeRuntime:
    """What the cluster keeps for each node besides its identity."""

    store: ReplicaStore
    stats: NodeStats = field(default_factory=NodeStats)
    hints: dict[str, list[Hint]] = field(default_factory=dict)  # target name → hints
    versions: dict[str, int] = field(default_factory=dict)  # gossip state → version
    schema: str = ""
    # the application states last built, for (generation, schema, load): a view of 1,000
    # nodes (gossip_info, each collection of each exporter) reuses them instead of 16,000 tuples
    states: tuple[tuple[int, str, float], dict[str, tuple[str, int]]] | None = None


@dataclass(frozen=True)
class PowerTarget:
    nodes: tuple[SimNode, ...] = ()
    link: tuple[str, str] | None = None


class SimCluster(Coordinator):
    """The simulated cluster. See ``simulator.core`` for how the layers fit together."""

    partitioner = PARTITIONER

    def __init__(
        self,
        name: str,
        nodes: Sequence[SimNode],
        *,
        failure_detector: str = "realistic",
        phi_convict_threshold: float = 8.0,
        gossip_interval: float = 1.0,
        write_request_timeout: float = 2.0,
        read_request_timeout: float = 5.0,
        max_hint_window: float = 3 * 3600.0,
        writer_dcs: Mapping[str, str] | None = None,
        cql_port: int = 9042,
        num_tokens: int = 16,
        heap_max_bytes: int = 512 * 1024 * 1024,
        seeds: Sequence[str] = (),
        max_partitions: int = DEFAULT_MAX_PARTITIONS,
    ) -> None:
        if failure_detector not in ("realistic", "fast"):
            raise ValueError(
                f"failure_detector must be 'realistic' or 'fast', not {failure_detector!r}"
            )
        self.name = name
        self.nodes: list[SimNode] = list(nodes)
        self.failure_detector = failure_detector
        self.phi_convict_threshold = (
            FAST_PHI_CONVICT_THRESHOLD if failure_detector == "fast" else phi_convict_threshold
        )
        self.gossip_interval = gossip_interval
        self.write_request_timeout = write_request_timeout
        self.read_request_timeout = read_request_timeout
        self.max_hint_window = max_hint_window
        # Cassandra dispatches a target's hints from HintsDispatchTrigger, every 10 s, once it
        # sees the target alive: until then the hints are pending (system_views.pending_hints).
        self.hint_dispatch_delay = 2 * gossip_interval if failure_detector == "fast" else 10.0
        self._dispatch_at: dict[tuple[str, str], float] = {}
        self.cql_port = cql_port
        self.storage_port = STORAGE_PORT
        self.num_tokens = num_tokens
        self.heap_max_bytes = heap_max_bytes
        self.writer_dcs: dict[str, str] = dict(writer_dcs or {})
        self.schema_version: uuid.UUID = DEFAULT_SCHEMA_VERSION
        """Set by the schema layer on every DDL; gossiped as the SCHEMA state."""
        self.cut_links: set[frozenset[str]] = set()
        self.ring = Ring(self.nodes)
        self._by_name = {n.name: n for n in self.nodes}
        self._by_address = {n.address: n for n in self.nodes}
        self.storage = Storage(max_partitions)
        self._runtime: dict[str, NodeRuntime] = {
            n.name: NodeRuntime(ReplicaStore(self.storage)) for n in self.nodes
        }
        self._runtime_at = [self._runtime[n.name] for n in self.ring.nodes]
        self._unpowered: set[int] = set()  # indexes of the nodes without power
        self._replications: dict[tuple[tuple[Any, Any], ...], Replication] = {}
        # id(replication) → (that replication, its plans); checked by identity, not hashed
        self._plans: dict[int, tuple[Replication, dict[tuple[int, int, str], Plan]]] = {}
        # MutationStage work of writes every replica answered, per replicas' positions: added
        # to each node's counter when the counters are read (see stats())
        self._unsettled_mutations: dict[tuple[int, ...], int] = {}
        self._listeners: dict[str, list[Any]] = {}  # method name → bound callbacks
        self._task: asyncio.Task[None] | None = None
        self._now = time.monotonic
        for i, node in enumerate(self.nodes):
            node.index = i
        dcs = self.datacenters
        self._dc_index = {dc: i for i, dc in enumerate(dcs)}
        seed_names = list(seeds) or [next(n.name for n in self.nodes if n.dc == dc) for dc in dcs]
        self.seeds = [self._by_name[name] for name in seed_names]
        self.gossip = Gossip(
            len(self.nodes),
            interval=gossip_interval,
            phi_convict_threshold=self.phi_convict_threshold,
            dcs=[self._dc_index[n.dc] for n in self.nodes],
            seeds=[n.index for n in self.seeds],
            now=self._now(),
        )
        self._hint_holders: set[str] = set()
        for node in self.nodes:
            self._boot(node, alone=False)
        self.gossip.all_up(self._now())

    # ---- construction ------------------------------------------------------------------------

    @classmethod
    def from_inventory(
        cls,
        inv: Inventory,
        *,
        failure_detector: str | None = None,
        max_partitions: int = DEFAULT_MAX_PARTITIONS,
    ) -> SimCluster:
        version = inv.cluster.cassandra_version
        nodes = [
            SimNode(
                name=p.name,
                dc=p.dc,
                rack=p.rack,
                address=str(p.sim_address),
                tokens=tokens_for(p.name, inv.cluster.num_tokens),
                release_version=version,
            )
            for p in inv.nodes()
        ]
        sim = inv.simulator
        return cls(
            inv.cluster.name,
            nodes,
            failure_detector=failure_detector or sim.failure_detector,
            phi_convict_threshold=inv.cluster.phi_convict_threshold,
            gossip_interval=sim.gossip_interval_seconds,
            write_request_timeout=sim.write_request_timeout_seconds,
            read_request_timeout=sim.read_request_timeout_seconds,
            max_hint_window=sim.max_hint_window_seconds,
            writer_dcs={str(w.sim_address): w.local_dc for w in inv.writer_places()},
            cql_port=inv.ports.cql,
            num_tokens=inv.cluster.num_tokens,
            heap_max_bytes=_size_bytes(inv.cluster.heap),
            seeds=list(inv.seeds),
            max_partitions=max_partitions,
        )

    # ---- lookup ------------------------------------------------------------------------------

    def node(self, name: str) -> SimNode:
        return self._by_name[name]

    def by_address(self, address: str) -> SimNode:
        return self._by_address[str(address)]

    @property
    def datacenters(self) -> list[str]:
        return list(dict.fromkeys(n.dc for n in self.nodes))

    def racks(self, dc: str) -> list[str]:
        return list(dict.fromkeys(n.rack for n in self.nodes if n.dc == dc))

    def stats(self, node: SimNode) -> NodeStats:
        if self._unsettled_mutations:
            self._settle_mutation_counts()
        return self._runtime[node.name].stats

    def _settle_mutation_counts(self) -> None:
        """Spread the pending MutationStage counts over the nodes (as Storage.settle_counts
        does with partition counts)."""
        runtimes = self._runtime_at
        for positions, mutations in self._unsettled_mutations.items():
            for i in positions:
                runtimes[i].stats.completed["MutationStage"] += mutations
        self._unsettled_mutations.clear()

    def endpoint(self, node: SimNode) -> str:
        """``address:storage_port`` as Cassandra names endpoints in *WithPort attributes."""
        return f"{node.address}:{self.storage_port}"

    # ---- ring --------------------------------------------------------------------------------

    @staticmethod
    def token(routing_key: bytes) -> int:
        return murmur3_token(routing_key)

    def replication(self, replication: Mapping[str, str]) -> Replication:
        """Parse (and cache) a CQL replication map; ConfigurationException when invalid."""
        key = tuple(replication.items())  # a write asks per request: no sorting, no copies
        parsed = self._replications.get(key)
        if parsed is None:
            parsed = self._replications[key] = parse_replication(replication, self.datacenters)
        return parsed

    def validate_replication(self, replication: Mapping[str, str], keyspace: str = "") -> None:
        """For CREATE/ALTER KEYSPACE: ConfigurationException for an unknown class, a bad
        factor or a DC the cluster does not have (as Cassandra 4.x rejects them)."""
        from rackpanel.simulator.core import ConfigurationException

        parsed = self.replication(replication)
        unknown = sorted(set(parsed.dc_factors) - set(self.datacenters) - {""})
        if parsed.strategy == "NetworkTopologyStrategy" and unknown:
            raise ConfigurationException(
                f"Unrecognized strategy option {{{', '.join(unknown)}}} passed to "
                "NetworkTopologyStrategy" + (f" for keyspace {keyspace}" if keyspace else "")
            )

    def replicas(self, replication: Mapping[str, str], token: int) -> list[SimNode]:
        return self.ring.replicas(self.replication(replication), token)

    # ---- listeners ---------------------------------------------------------------------------

    def add_listener(self, listener: Any) -> None:
        """``listener`` gets the callbacks it defines: ``on_status_change(observer, node, up)``,
        ``on_power_change(node, powered, crash)``, ``on_link_change(dc_a, dc_b, up)``."""
        for method in LISTENER_METHODS:
            callback = getattr(listener, method, None)
            if callback is not None:
                self._listeners.setdefault(method, []).append(callback)

    def _notify(self, method: str, *args: Any) -> None:
        for callback in list(self._listeners.get(method, ())):
            try:
                callback(*args)
            except Exception:  # a listener's bug must not stop the cluster
                log.exception("cluster listener %r failed in %s", callback, method)

    # ---- reachability and liveness -----------------------------------------------------------

    def link_up(self, dc_a: str, dc_b: str) -> bool:
        return not self.cut_links or dc_a == dc_b or frozenset((dc_a, dc_b)) not in self.cut_links

    def reachable(self, a: SimNode, b: SimNode) -> bool:
        """Whether a message from ``a`` gets to ``b`` and back (both powered, no cut link)."""
        return a.powered and b.powered and self.link_up(a.dc, b.dc)

    def client_can_reach(self, client_address: str, node: SimNode) -> bool:
        """A writer sits in its local DC: a cut DC link separates it from the other DC.
        Addresses that are no writer of the inventory (tests, tools) reach everything."""
        dc = self.writer_dcs.get(str(client_address))
        return dc is None or self.link_up(dc, node.dc)

    def view(self, observer: SimNode, node: SimNode) -> EndpointView:
        """What ``observer`` knows of ``node`` right now (a snapshot)."""
        known = self.gossip.known_state(observer.index, node.index)
        state = None
        if known is not None:
            state = GossipState(known[0], known[1], self.application_states(node))
        return EndpointView(
            state=state,
            alive=self.is_alive(observer, node),
            down_since=self.gossip.down_since.get((observer.index, node.index)),
        )

    def sees_all_alive(self, observer: SimNode) -> bool:
        """Whether ``observer``'s failure detector judges every other node up."""
        return not self.gossip.down[observer.index]

    def sees_alive(self, observer: SimNode, positions: Sequence[int]) -> bool:
        """Whether ``observer``'s failure detector judges every node at ``positions`` (in
        ``nodes`` order) up: all of a write's replicas, say, while it doubts others."""
        down = self.gossip.down[observer.index]
        return not down or down.isdisjoint(positions)

    def all_powered(self, positions: Sequence[int]) -> bool:
        """Whether the nodes at ``positions`` (in ``nodes`` order) all have power."""
        return not self._unpowered or self._unpowered.isdisjoint(positions)

    def is_alive(self, observer: SimNode, node: SimNode) -> bool:
        return node.index not in self.gossip.down[observer.index]

    def phi(self, observer: SimNode, node: SimNode) -> float:
        return self.gossip.phi(observer.index, node.index, self._now())

    def phis(self, observer: SimNode) -> list[float]:
        """:meth:`phi` of every node (in ``nodes`` order) as ``observer`` judges it."""
        return self.gossip.phis(observer.index, self._now()).tolist()

    def heartbeat(self, node: SimNode) -> int:
        return int(self.gossip.heartbeat[node.index])

    # ---- gossip ------------------------------------------------------------------------------

    def gossip_state(self, node: SimNode) -> GossipState:
        """What ``node`` gossips about itself right now."""
        return GossipState(node.generation, self.heartbeat(node), self.application_states(node))

    def application_states(self, node: SimNode) -> dict[str, tuple[str, int]]:
        """``node``'s application states, {state: (value, version)}, built again only when
        its generation, the schema or its load changed."""
        rt = self._runtime[node.name]
        schema = str(self.schema_version)
        if rt.schema != schema:
            rt.schema = schema
            rt.versions["schema"] = self.gossip.next_version(node.index)
        load = float(rt.store.partition_count() * 1024 + 102400)
        key = (node.generation, schema, load)
        if rt.states is not None and rt.states[0] == key:
            return rt.states[1]
        first_token = str(node.tokens[0]) if node.tokens else ""
        values = {
            "status": f"NORMAL,{first_token}",
            "load": f"{load}",
            "schema": schema,
            "dc": node.dc,
            "rack": node.rack,
            "release_version": node.release_version,
            "internal_ip": node.address,
            "rpc_address": node.address,
            "severity": "0.0",
            "net_version": "12",
            "host_id": str(node.host_id),
            "rpc_ready": "true",
            "internal_address_and_port": self.endpoint(node),
            "native_address_and_port": f"{node.address}:{self.cql_port}",
            "status_with_port": f"NORMAL,{first_token}",
            "sstable_versions": "big-nb",
        }
        states = {k: (v, rt.versions.get(k, 1)) for k, v in values.items()}
        rt.states = (key, states)
        return states

    def _boot(self, node: SimNode, alone: bool = True) -> None:
        """A (re)start: new generation, fresh versions; the node knows only itself."""
        node.generation = max(int(time.time()), node.generation + 1 if node.started else 0)
        node.started = True
        rt = self._runtime[node.name]
        rt.versions = {k: i + 1 for i, k in enumerate(BOOT_STATES)}
        rt.schema = ""
        rt.stats.started = time.time()
        self.gossip.start(node.index, node.generation, len(BOOT_STATES), alone)

    def catch_up(self) -> None:
        """Run the gossip slots due by now (each at its own simulated time) and deliver the
        verdicts they produced."""
        gossip = self.gossip
        now = self._now()
        if now >= gossip.next_time:
            self._deliver(gossip.advance(now))

    def _deliver(self, changes: list[StatusChange]) -> None:
        nodes = self.nodes
        for change in changes:
            observer, node = nodes[change.observer], nodes[change.endpoint]
            self._notify("on_status_change", observer, node, change.up)

    def interpret(self) -> None:
        """Run every powered observer's failure detector once, now."""
        self._deliver(self.gossip.interpret(self._now()))

    def convict_delay(self) -> float:
        """Seconds of silence after which a peer convicts a node (steady-state estimate:
        phi_convict_threshold x ln 10 mean intervals of one gossip interval each)."""
        return self.phi_convict_threshold / PHI_FACTOR * self.gossip_interval

    # ---- hints -------------------------------------------------------------------------------

    def _hint(self, holder: SimNode, target: SimNode, mutations: Iterable[Mutation]) -> bool:
        now = time.time()
        down_since = self.gossip.down_since.get((holder.index, target.index))
        if down_since is not None and now - down_since > self.max_hint_window:
            return False
        bucket = self._runtime[holder.name].hints.setdefault(target.name, [])
        before = len(bucket)
        bucket.extend(Hint(m, now) for m in mutations)
        self._runtime[holder.name].stats.hints_created[target.name] += len(bucket) - before
        self._hint_holders.add(holder.name)
        return True

    def pending_hints(self, holder: SimNode) -> dict[str, list[Hint]]:
        return {t: h for t, h in self._runtime[holder.name].hints.items() if h}

    def dispatch_hints(self, immediate: bool = False) -> int:
        """Replay hints to targets their holder sees alive and can reach; count replayed.
        ``immediate`` skips the dispatch delay (reset)."""
        replayed = 0
        for holder_name in list(self._hint_holders):
            holder = self._by_name[holder_name]
            if not holder.powered:
                continue
            rt = self._runtime[holder_name]
            for target_name, hints in list(rt.hints.items()):
                target = self._by_name[target_name]
                pair = (holder.name, target_name)
                if not hints:
                    del rt.hints[target_name]
                    self._dispatch_at.pop(pair, None)
                    continue
                if not self.is_alive(holder, target):
                    self._dispatch_at.pop(pair, None)
                    continue
                if not self.reachable(holder, target):
                    continue
                due = self._dispatch_at.setdefault(
                    pair, time.monotonic() + self.hint_dispatch_delay
                )
                if time.monotonic() < due and not immediate:
                    continue
                del self._dispatch_at[pair]
                store = self._runtime[target_name].store
                for hint in hints:
                    store.apply(hint.mutation)
                replayed += len(hints)
                rt.stats.completed["HintsDispatcher"] += len(hints)
                del rt.hints[target_name]
            if not rt.hints:
                self._hint_holders.discard(holder_name)
        return replayed

    # ---- power -------------------------------------------------------------------------------

    def resolve_target(self, target: str) -> PowerTarget:
        """``DC1``, ``DC1/RAC2``, a node name or ``link:DC1-DC2``; UnknownTarget otherwise."""
        try:
            chosen = select(target, self.nodes, what="power target")
        except TargetError as exc:
            raise UnknownTarget(str(exc)) from None
        return PowerTarget(nodes=chosen.members, link=chosen.link)

    def power_off(self, target: str, crash: bool = False) -> list[str]:
        """Cut the power of a DC, rack or node (``crash``: a process death instead), or cut
        the link between two DCs. Returns the affected node names (or the link)."""
        resolved = self.resolve_target(target)
        self.catch_up()
        if resolved.link is not None:
            self._set_link(resolved.link, up=False)
            return [f"link:{resolved.link[0]}-{resolved.link[1]}"]
        for node in resolved.nodes:
            if node.powered or (crash and not node.crashed):
                node.powered = False
                self.gossip.powered[node.index] = False
                self._unpowered.add(node.index)
                node.crashed = crash
                self._notify("on_power_change", node, False, crash)
        return [n.name for n in resolved.nodes]

    def power_on(self, target: str) -> list[str]:
        resolved = self.resolve_target(target)
        self.catch_up()
        if resolved.link is not None:
            self._set_link(resolved.link, up=True)
            return [f"link:{resolved.link[0]}-{resolved.link[1]}"]
        booted = [n for n in resolved.nodes if not n.powered]
        for node in booted:
            self._power_up(node)
        now = self._now()
        for node in booted:  # each gossips with a seed at once; the rest learn it by gossip
            self.gossip.shadow_round(node.index, now)
        self._deliver(self.gossip.advance(now))
        if booted:
            self.dispatch_hints()
        return [n.name for n in resolved.nodes]

    def _power_up(self, node: SimNode) -> None:
        node.powered = True
        node.crashed = False
        self.gossip.powered[node.index] = True
        self._unpowered.discard(node.index)
        self._boot(node)
        self._notify("on_power_change", node, True, False)

    def _set_link(self, link: tuple[str, str], up: bool) -> None:
        pair = frozenset(link)
        if up:
            self.cut_links.discard(pair)
        else:
            self.cut_links.add(pair)
        self.gossip.set_link(self._dc_index[link[0]], self._dc_index[link[1]], up)
        self._notify("on_link_change", link[0], link[1], up)

    def reset(self) -> int:
        """All nodes on, all links up, every view UP at once (for tests and the demo).

        Pending hints are replayed to their targets, as the nodes' return would do, never
        dropped; returns how many were replayed."""
        self.catch_up()
        for a, b in [tuple(pair) for pair in self.cut_links]:
            self._set_link((a, b), up=True)
        for node in self.nodes:
            if not node.powered:
                self._power_up(node)
        self._deliver(self.gossip.all_up(self._now()))
        return self.dispatch_hints(immediate=True)

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self.gossip.resume(self._now())
            self._task = asyncio.get_running_loop().create_task(self._run(), name="sim-gossip")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                self.catch_up()
                self.dispatch_hints()
            except Exception:
                log.exception("gossip tick failed")
            await asyncio.sleep(max(0.0, self.gossip.next_time - self._now()))

    # ---- schema changes ----------------------------------------------------------------------

    def drop_keyspace(self, name: str) -> None:
        for rt in self._runtime.values():
            rt.store.drop_keyspace(name)
            for target, hints in rt.hints.items():
                rt.hints[target] = [h for h in hints if h.mutation.keyspace != name]

    def drop_table(self, keyspace: str, table: str) -> None:
        for rt in self._runtime.values():
            rt.store.drop_table(keyspace, table)
            for target, hints in rt.hints.items():
                rt.hints[target] = [
                    h for h in hints if (h.mutation.keyspace, h.mutation.table) != (keyspace, table)
                ]

    # ---- state for the admin API -------------------------------------------------------------

    def state(self, views: str = "auto") -> dict[str, Any]:
        """Every node's power and how the other nodes see it; links; hints pending.

        ``views`` "full": each node carries ``views`` (every other observer's UP/DOWN);
        "summary": ``views_summary`` ({"UP": n, "DOWN": m}, counts of the other observers)
        instead; "auto" (default): full up to FULL_VIEWS_UP_TO nodes, summary above, so the
        answer stays linear in the cluster size.
        """
        if views not in ("auto", "full", "summary"):
            raise ValueError(f'views must be "auto", "full" or "summary", not {views!r}')
        self.catch_up()
        full = views == "full" or (views == "auto" and len(self.nodes) <= FULL_VIEWS_UP_TO)
        up_counts = self.gossip.up_counts()
        others = len(self.nodes) - 1
        mean = self.gossip.typical_mean_interval()
        nodes = []
        for node in self.nodes:
            entry: dict[str, Any] = {
                "name": node.name,
                "dc": node.dc,
                "rack": node.rack,
                "address": node.address,
                "host_id": str(node.host_id),
                "powered": node.powered,
                "crashed": node.crashed,
                "generation": node.generation,
                "heartbeat": self.heartbeat(node),
            }
            if full:
                entry["views"] = {
                    observer.name: "UP" if self.is_alive(observer, node) else "DOWN"
                    for observer in self.nodes
                    if observer is not node
                }
            else:
                up = int(up_counts[node.index])
                entry["views_summary"] = {"UP": up, "DOWN": others - up}
            nodes.append(entry)
        dcs = self.datacenters
        links = [
            {"link": f"link:{a}-{b}", "up": self.link_up(a, b)}
            for i, a in enumerate(dcs)
            for b in dcs[i + 1 :]
        ]
        hints = [
            {"holder": holder.name, "target": target, "count": len(pending)}
            for holder in self.nodes
            for target, pending in self.pending_hints(holder).items()
        ]
        return {
            "cluster": self.name,
            "failure_detector": self.failure_detector,
            "phi_convict_threshold": self.phi_convict_threshold,
            "gossip_interval_seconds": self.gossip_interval,
            "mean_arrival_interval_seconds": round(mean, 4),
            "convict_after_silence_seconds": round(
                mean * self.phi_convict_threshold / PHI_FACTOR, 3
            ),
            "views": "full" if full else "summary",
            "nodes": nodes,
            "links": links,
            "hints": hints,
        }

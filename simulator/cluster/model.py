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

from rackpanel.simulator.cluster import consistency as rules
from rackpanel.simulator.cluster.coordinator import Coordinator
from rackpanel.simulator.cluster.gossip import PHI_FACTOR, EndpointView, GossipState
from rackpanel.simulator.cluster.node import SimNode, tokens_for
from rackpanel.simulator.cluster.ring import Replication, Ring, parse_replication
from rackpanel.simulator.cluster.ring import token as murmur3_token
from rackpanel.simulator.cluster.stats import NodeStats
from rackpanel.simulator.cluster.storage import ReplicaStore
from rackpanel.simulator.core import Mutation
from rackpanel.topology.targets import TargetError, select

if TYPE_CHECKING:
    from rackpanel.topology import Inventory

log = logging.getLogger(__name__)

PARTITIONER = "org.apache.cassandra.dht.Murmur3Partitioner"
STORAGE_PORT = 7000
FAST_PHI_CONVICT_THRESHOLD = 2.0
DEFAULT_SCHEMA_VERSION = uuid.UUID("59adb24e-f3cd-3e02-97f0-5b395827453f")  # empty schema


def _size_bytes(size: str) -> int:
    """``512M`` / ``2G`` (the inventory's heap sizes) in bytes."""
    return int(size[:-1]) * 1024 ** (2 if size[-1] == "M" else 3)


class UnknownTarget(TargetError):
    """A power target that names no DC, rack, node or DC link of the cluster."""


class ClusterListener(Protocol):
    def on_status_change(self, observer: SimNode, node: SimNode, up: bool) -> None: ...

    def on_power_change(self, node: SimNode, powered: bool, crash: bool) -> None: ...


@dataclass
class Hint:
    mutation: Mutation
    created: float  # wall clock


@dataclass
class NodeRuntime:
    """What the cluster keeps for each node besides its identity."""

    store: ReplicaStore = field(default_factory=ReplicaStore)
    stats: NodeStats = field(default_factory=NodeStats)
    views: dict[str, EndpointView] = field(default_factory=dict)  # this node as observer
    hints: dict[str, list[Hint]] = field(default_factory=dict)  # target name → hints
    versions: dict[str, int] = field(default_factory=dict)  # gossip state → version
    schema: str = ""


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
        self._runtime: dict[str, NodeRuntime] = {n.name: NodeRuntime() for n in self.nodes}
        self._replications: dict[tuple[tuple[str, str], ...], Replication] = {}
        self._plans: dict[tuple, tuple[list[SimNode], list[rules.Requirement]]] = {}
        self._listeners: list[Any] = []
        self._task: asyncio.Task[None] | None = None
        self._now = time.monotonic
        for node in self.nodes:
            self._boot(node)
        self._all_views_up()

    # ---- construction ------------------------------------------------------------------------

    @classmethod
    def from_inventory(cls, inv: Inventory, *, failure_detector: str | None = None) -> SimCluster:
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
        return self._runtime[node.name].stats

    def endpoint(self, node: SimNode) -> str:
        """``address:storage_port`` as Cassandra names endpoints in *WithPort attributes."""
        return f"{node.address}:{self.storage_port}"

    # ---- ring --------------------------------------------------------------------------------

    @staticmethod
    def token(routing_key: bytes) -> int:
        return murmur3_token(routing_key)

    def replication(self, replication: Mapping[str, str]) -> Replication:
        """Parse (and cache) a CQL replication map; ConfigurationException when invalid."""
        key = tuple(sorted((str(k), str(v)) for k, v in replication.items()))
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
        self._listeners.append(listener)

    def _notify(self, method: str, *args: Any) -> None:
        for listener in list(self._listeners):
            callback = getattr(listener, method, None)
            if callback is None:
                continue
            try:
                callback(*args)
            except Exception:  # a listener's bug must not stop the cluster
                log.exception("cluster listener %r failed in %s", listener, method)

    # ---- reachability and liveness -----------------------------------------------------------

    def link_up(self, dc_a: str, dc_b: str) -> bool:
        return dc_a == dc_b or frozenset((dc_a, dc_b)) not in self.cut_links

    def reachable(self, a: SimNode, b: SimNode) -> bool:
        """Whether a message from ``a`` gets to ``b`` and back (both powered, no cut link)."""
        return a.powered and b.powered and self.link_up(a.dc, b.dc)

    def client_can_reach(self, client_address: str, node: SimNode) -> bool:
        """A writer sits in its local DC: a cut DC link separates it from the other DC.
        Addresses that are no writer of the inventory (tests, tools) reach everything."""
        dc = self.writer_dcs.get(str(client_address))
        return dc is None or self.link_up(dc, node.dc)

    def view(self, observer: SimNode, node: SimNode) -> EndpointView:
        return self._runtime[observer.name].views[node.name]

    def is_alive(self, observer: SimNode, node: SimNode) -> bool:
        if observer is node:
            return True
        return self._runtime[observer.name].views[node.name].alive

    def phi(self, observer: SimNode, node: SimNode) -> float:
        if observer is node:
            return 0.0
        return self.view(observer, node).phi(self._now(), self.gossip_interval)

    # ---- gossip ------------------------------------------------------------------------------

    def gossip_state(self, node: SimNode) -> GossipState:
        """What ``node`` gossips about itself right now."""
        rt = self._runtime[node.name]
        schema = str(self.schema_version)
        if rt.schema != schema:
            rt.schema = schema
            rt.versions["schema"] = node.next_version()
        first_token = str(node.tokens[0]) if node.tokens else ""
        load = float(sum(len(p) for p in rt.store.tables.values()) * 1024 + 102400)
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
        return GossipState(node.generation, node.heartbeat, states)

    def _boot(self, node: SimNode) -> None:
        """A (re)start: new generation, fresh versions, own state known to itself."""
        node.generation = max(int(time.time()), node.generation + 1 if node.heartbeat else 0)
        node.version_counter = 0
        rt = self._runtime[node.name]
        rt.versions = {
            k: node.next_version()
            for k in (
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
        }
        rt.schema = ""
        node.heartbeat = node.next_version()
        rt.stats.started = time.time()
        now = self._now()
        for other in self.nodes:
            rt.views.setdefault(other.name, EndpointView()).reset(now, alive=other is node)
        rt.views[node.name].state = self.gossip_state(node)

    def _all_views_up(self) -> None:
        now = self._now()
        states = {n.name: self.gossip_state(n) for n in self.nodes}
        for observer in self.nodes:
            for node in self.nodes:
                view = self.view(observer, node)
                was = view.alive
                view.reset(now, alive=True)
                view.state = states[node.name]
                if not was and observer is not node:
                    self._notify("on_status_change", observer, node, True)

    def gossip_round(self) -> None:
        """One gossip interval: heartbeats advance, reachable peers learn them."""
        now = self._now()
        live = [n for n in self.nodes if n.powered]
        states: dict[str, GossipState] = {}
        for node in live:
            node.heartbeat = node.next_version()
            states[node.name] = self.gossip_state(node)
            self._runtime[node.name].stats.completed["GossipStage"] += len(live) - 1
        for observer in live:
            views = self._runtime[observer.name].views
            for node in live:
                if node is observer:
                    views[node.name].state = states[node.name]
                    continue
                if not self.link_up(observer.dc, node.dc):
                    continue
                view = views[node.name]
                if view.receive(states[node.name], now, self.gossip_interval) and not view.alive:
                    view.reset(now, alive=True)
                    self._notify("on_status_change", observer, node, True)

    def interpret(self) -> None:
        """Run every powered observer's failure detector once."""
        now = self._now()
        for observer in self.nodes:
            if not observer.powered:
                continue
            for node in self.nodes:
                if node is observer:
                    continue
                view = self.view(observer, node)
                if view.alive and view.phi(now, self.gossip_interval) > self.phi_convict_threshold:
                    view.alive = False
                    view.down_since = time.time()
                    self._notify("on_status_change", observer, node, False)

    def convict_delay(self) -> float:
        """Seconds of silence after which a peer convicts a node (steady-state estimate)."""
        return self.phi_convict_threshold / PHI_FACTOR * self.gossip_interval

    # ---- hints -------------------------------------------------------------------------------

    def _hint(self, holder: SimNode, target: SimNode, mutations: Iterable[Mutation]) -> bool:
        view = self.view(holder, target) if holder is not target else None
        now = time.time()
        down_since = view.down_since if view is not None else None
        if down_since is not None and now - down_since > self.max_hint_window:
            return False
        bucket = self._runtime[holder.name].hints.setdefault(target.name, [])
        before = len(bucket)
        bucket.extend(Hint(m, now) for m in mutations)
        self._runtime[holder.name].stats.hints_created[target.name] += len(bucket) - before
        return True

    def pending_hints(self, holder: SimNode) -> dict[str, list[Hint]]:
        return {t: h for t, h in self._runtime[holder.name].hints.items() if h}

    def dispatch_hints(self, immediate: bool = False) -> int:
        """Replay hints to targets their holder sees alive and can reach; count replayed.
        ``immediate`` skips the dispatch delay (reset)."""
        replayed = 0
        for holder in self.nodes:
            if not holder.powered:
                continue
            rt = self._runtime[holder.name]
            for target_name, hints in list(rt.hints.items()):
                target = self._by_name[target_name]
                pair = (holder.name, target_name)
                if not hints or not self.is_alive(holder, target):
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
        if resolved.link is not None:
            self.cut_links.add(frozenset(resolved.link))
            return [f"link:{resolved.link[0]}-{resolved.link[1]}"]
        for node in resolved.nodes:
            if node.powered or (crash and not node.crashed):
                node.powered = False
                node.crashed = crash
                self._notify("on_power_change", node, False, crash)
        return [n.name for n in resolved.nodes]

    def power_on(self, target: str) -> list[str]:
        resolved = self.resolve_target(target)
        if resolved.link is not None:
            self.cut_links.discard(frozenset(resolved.link))
            return [f"link:{resolved.link[0]}-{resolved.link[1]}"]
        booted = [n for n in resolved.nodes if not n.powered]
        for node in booted:
            node.powered = True
            node.crashed = False
            self._boot(node)
            self._notify("on_power_change", node, True, False)
        if booted:
            self._exchange_with(booted)
            self.dispatch_hints()
        return [n.name for n in resolved.nodes]

    def _exchange_with(self, booted: Sequence[SimNode]) -> None:
        """A starting node gossips with its seeds at once: both sides learn each other."""
        now = self._now()
        for node in booted:
            state = self.gossip_state(node)
            for other in self.nodes:
                if other is node or not self.reachable(node, other):
                    continue
                mine = self.view(node, other)
                mine.receive(self.gossip_state(other), now, self.gossip_interval)
                if not mine.alive:
                    mine.reset(now, alive=True)
                    self._notify("on_status_change", node, other, True)
                theirs = self.view(other, node)
                theirs.receive(state, now, self.gossip_interval)
                if not theirs.alive:
                    theirs.reset(now, alive=True)
                    self._notify("on_status_change", other, node, True)

    def reset(self) -> int:
        """All nodes on, all links up, every view UP at once (for tests and the demo).

        Pending hints are replayed to their targets, as the nodes' return would do, never
        dropped; returns how many were replayed."""
        self.cut_links.clear()
        for node in self.nodes:
            if not node.powered:
                node.powered = True
                node.crashed = False
                self._boot(node)
                self._notify("on_power_change", node, True, False)
        self._all_views_up()
        return self.dispatch_hints(immediate=True)

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="sim-gossip")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        step = min(0.25, self.gossip_interval / 4)
        next_round = loop.time() + self.gossip_interval
        while True:
            try:
                if loop.time() >= next_round:
                    self.gossip_round()
                    next_round += self.gossip_interval
                    if next_round < loop.time():
                        next_round = loop.time() + self.gossip_interval
                self.interpret()
                self.dispatch_hints()
            except Exception:
                log.exception("gossip tick failed")
            await asyncio.sleep(step)

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

    def state(self) -> dict[str, Any]:
        """Every node's power and every observer's view of it; links; hints pending."""
        nodes = []
        for node in self.nodes:
            views = {}
            for observer in self.nodes:
                if observer is node:
                    continue
                views[observer.name] = "UP" if self.is_alive(observer, node) else "DOWN"
            nodes.append(
                {
                    "name": node.name,
                    "dc": node.dc,
                    "rack": node.rack,
                    "address": node.address,
                    "host_id": str(node.host_id),
                    "powered": node.powered,
                    "crashed": node.crashed,
                    "generation": node.generation,
                    "heartbeat": node.heartbeat,
                    "views": views,
                }
            )
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
            "nodes": nodes,
            "links": links,
            "hints": hints,
        }

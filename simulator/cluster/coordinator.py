"""The coordinator: how a node runs a request at a consistency level.

A request succeeds at once when enough replicas answer; otherwise it waits the server-side
request timeout and fails (WriteTimeout / ReadTimeout), as a coordinator whose replicas went
silent does. Unavailable is decided before anything is sent, from the coordinator's own
failure-detector view: nothing is written, nothing is hinted. Replicas that look alive but
stay silent get a hint (Cassandra writes one when the write callback expires); replicas the
coordinator has convicted get a hint within ``max_hint_window``, and count for ANY.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rackpanel.simulator.cluster import consistency as rules
from rackpanel.simulator.cluster.ring import Replication, Ring
from rackpanel.simulator.cluster.ring import token as murmur3_token
from rackpanel.simulator.cluster.storage import (
    Partition,
    PartitionData,
    ReplicaStore,
    Storage,
    marker_expiry,
    merge,
    resolve,
    same_data,
)
from rackpanel.simulator.core import ConsistencyLevel as CL
from rackpanel.simulator.core import Mutation, ReadTimeout, Unavailable, WriteTimeout

if TYPE_CHECKING:
    from rackpanel.simulator.cluster.gossip import Gossip
    from rackpanel.simulator.cluster.model import NodeRuntime
    from rackpanel.simulator.cluster.node import SimNode


@dataclass(frozen=True)
class ReadRepair:
    """A read whose replicas answered different data (Cassandra's digest mismatch): the
    replicas the coordinator read from, and those it wrote the merged partition back to."""

    key: bytes
    read_from: tuple[SimNode, ...]
    repaired: tuple[SimNode, ...]


RepairObserver = Callable[[ReadRepair], None]
_ANY = CL.ANY  # a module constant: an enum class attribute costs a lookup per write
# A cached plan, plain tuples of ints so that the GC stops tracking them: the replicas'
# positions in the ring's nodes, (group positions, required) per requirement, whether every
# group has enough replicas at all, and the replicas' bits in the storage holders masks.
Plan = tuple[tuple[int, ...], tuple[tuple[tuple[int, ...], int], ...], bool, int]


class Coordinator:
    """Request logic of :class:`~simulator.cluster.model.SimCluster` (mixed into it).

    The mixin relies on SimCluster for ``ring``, ``replication()``, ``is_alive()``,
    ``sees_alive()``, ``all_powered()``, ``reachable()``, ``cut_links``, ``stats()``,
    ``_hint()``, ``_runtime``, ``_runtime_at``, ``_plans``, ``_unsettled_mutations`` and the
    request timeouts; :meth:`insert_new` reads what ``sees_alive()`` and ``all_powered()`` read
    (``gossip.down``, ``_unpowered``) itself.
    """

    ring: Ring
    storage: Storage
    write_request_timeout: float
    read_request_timeout: float
    _plans: dict[int, tuple[Replication, dict[tuple[int, int, str], Plan]]]
    _unsettled_mutations: dict[tuple[int, ...], int]
    _runtime: dict[str, NodeRuntime]
    _runtime_at: list[NodeRuntime]  # in the ring's node order
    gossip: Gossip
    _unpowered: set[int]  # indexes (ring positions) of the nodes without power

    # ---- coordinator: writes -----------------------------------------------------------------

    def _unavailable(
        self, coordinator: SimNode, cl: CL, reqs: Sequence[rules.Requirement], operation: str
    ) -> None:
        for req in reqs:
            alive = sum(1 for r in req.group if self.is_alive(coordinator, r))
            if alive < req.required:
                self.stats(coordinator).error(operation, cl.name, "Unavailables")
                dc = req.group[0].dc if cl == CL.EACH_QUORUM and req.group else ""
                raise Unavailable(cl, req.required, alive, dc)

    def _cached_plan(self, repl: Replication, key: bytes, cl: CL, dc: str) -> Plan:
        """The :data:`Plan` of a partition key, cached per vnode range, CL and coordinator DC."""
        ring = self.ring
        index = ring.index_of_key(key)
        known = self._plans.get(id(repl))
        if known is None or known[0] is not repl:
            known = self._plans[id(repl)] = (repl, {})
        plans = known[1]
        cache_key = (index, int(cl), dc)
        plan = plans.get(cache_key)
        if plan is None:
            replicas = ring.replicas_at(repl, index)
            reqs = rules.requirements(cl, repl, replicas, dc)
            positions = ring.positions_at(repl, index)
            plan = plans[cache_key] = (
                positions,
                tuple((tuple(map(ring.position, r.group)), r.required) for r in reqs),
                all(len(r.group) >= r.required for r in reqs),
                self.storage.mask_of([self._runtime_at[i].store for i in positions]),
            )
        return plan

    def _plan(
        self, repl: Replication, key: bytes, cl: CL, dc: str
    ) -> tuple[list[SimNode], list[rules.Requirement]]:
        """The replicas of a partition key and what ``cl`` requires of them."""
        return self._materialise(self._cached_plan(repl, key, cl, dc))

    def _materialise(self, plan: Plan) -> tuple[list[SimNode], list[rules.Requirement]]:
        nodes = self.ring.nodes
        return [nodes[i] for i in plan[0]], [
            rules.Requirement(tuple([nodes[i] for i in group]), required)
            for group, required in plan[1]
        ]

    async def _wait_for_replicas(self, coordinator: SimNode, timeout: float) -> None:
        """A request blocked on silent replicas: it holds a native-transport thread."""
        stats = self.stats(coordinator)
        stats.waiting += 1
        try:
            await asyncio.sleep(timeout)
        finally:
            stats.waiting -= 1

    def _store(self, node: SimNode) -> ReplicaStore:
        return self._runtime[node.name].store

    def _held(
        self, replicas: Sequence[SimNode], keyspace: str, table: str, key: bytes
    ) -> list[Partition | None]:
        """What each of ``replicas`` holds of one partition."""
        return self.storage.read((keyspace, table), key, [self._store(r) for r in replicas])

    async def write(
        self,
        coordinator: SimNode,
        replication: Mapping[str, str],
        mutations: list[Mutation],
        cl: CL,
        *,
        write_type: str = "SIMPLE",
    ) -> None:
        """Write ``mutations`` at ``cl``; raises Unavailable / WriteTimeout / InvalidRequest."""
        repl = self.replication(replication)
        waiting = self.write_now(coordinator, repl, mutations, cl, write_type=write_type)
        if waiting is not None:
            await waiting

    def write_now(
        self,
        coordinator: SimNode,
        repl: Replication,
        mutations: list[Mutation],
        cl: CL,
        *,
        write_type: str = "SIMPLE",
    ) -> Coroutine[Any, Any, None] | None:
        """:meth:`write`, decided in this call: Unavailable / InvalidRequest are raised here and
        None means the CL is satisfied; otherwise the wait for the silent replicas is returned,
        which ends in WriteTimeout (the caller awaits it). ``repl``: :meth:`replication`'s."""
        rules.validate_for_write(cl)
        # the coordinator's own counters, not stats(): that settles pending counts, for readers
        completed = self._runtime_at[coordinator.index].stats.completed
        completed["Native-Transport-Requests"] += 1
        # The usual case: the coordinator sees every replica alive and no DC link is cut, so
        # a satisfiable CL is available and every powered replica answers (the general path
        # below reaches the same verdicts replica by replica).
        hinted_only = cl is _ANY
        linked = not hinted_only and not self.cut_links
        if linked and len(mutations) == 1:  # most writes: one partition, every replica up
            plan = self._cached_plan(repl, mutations[0].partition_key, cl, coordinator.dc)
            if self._clear(coordinator, plan) and self.all_powered(plan[0]):
                self._apply_everywhere(plan, mutations)
                completed["RequestResponseStage"] += 1
                return None
        by_partition: dict[bytes, list[Mutation]] = {}
        for m in mutations:
            by_partition.setdefault(m.partition_key, []).append(m)
        plans: list[tuple[list[Mutation], Plan, bool]] = []
        for key, muts in by_partition.items():
            plan = self._cached_plan(repl, key, cl, coordinator.dc)
            clear = linked and self._clear(coordinator, plan)
            if not hinted_only and not clear:
                self._unavailable(coordinator, cl, self._materialise(plan)[1], "Write")
            plans.append((muts, plan, clear))
        shortfall: tuple[int, int] | None = None
        for muts, plan, clear in plans:
            if clear and self.all_powered(plan[0]):
                self._apply_everywhere(plan, muts)
                continue  # every replica answered: a satisfiable CL is satisfied
            replicas, reqs = self._materialise(plan)
            answered: set[SimNode] = set()
            hinted_dead = 0
            for replica in replicas:
                looks_alive = self.is_alive(coordinator, replica)
                if looks_alive and (replica is coordinator or self.reachable(coordinator, replica)):
                    self.stats(replica).completed["MutationStage"] += len(muts)
                    answered.add(replica)
                elif self._hint(coordinator, replica, muts) and not looks_alive:
                    hinted_dead += 1
            if answered:  # the replicas that hold equal data keep sharing it
                stores = [self._store(r) for r in replicas if r in answered]
                for m in muts:
                    self.storage.apply(stores, m, marker_expiry(m))
            if hinted_only:
                if not (answered or hinted_dead or not replicas) and shortfall is None:
                    shortfall = (0, 1)
            elif not rules.satisfied(reqs, answered) and shortfall is None:
                shortfall = (rules.acknowledged(reqs, answered), rules.block_for(reqs))
        completed["RequestResponseStage"] += 1
        if shortfall is None:
            return None
        return self._write_timeout(coordinator, cl, shortfall, write_type)

    def insert_new(
        self,
        coordinator: SimNode,
        repl: Replication,
        table_key: tuple[str, str],
        key: bytes,
        clustering: tuple[bytes, ...],
        row: tuple,
        cl: CL,
    ) -> bool:
        """The usual write of :meth:`write_now`, of one row (:func:`partition.inserted_row`) to
        a partition no replica holds yet, with every replica up: written and True. False, with
        nothing done or counted, for any other (``write_now`` decides those). ``cl``: a CL a
        write may use, not ANY."""
        if self.cut_links:
            return False
        plan = self._cached_plan(repl, key, cl, coordinator.dc)
        replicas = plan[0]
        # _clear() and all_powered(), without the calls: this runs for most writes
        doubted, unpowered = self.gossip.down[coordinator.index], self._unpowered
        if not plan[2] or (doubted and not doubted.isdisjoint(replicas)):
            return False
        if unpowered and not unpowered.isdisjoint(replicas):
            return False
        if not self.storage.insert_new(plan[3], table_key, key, clustering, row):
            return False
        completed = self._runtime_at[coordinator.index].stats.completed
        completed["Native-Transport-Requests"] += 1
        completed["RequestResponseStage"] += 1
        applied = self._unsettled_mutations
        applied[plan[0]] = applied.get(plan[0], 0) + 1
        return True

    def _clear(self, coordinator: SimNode, plan: Plan) -> bool:
        """Whether ``plan``'s CL is satisfiable and ``coordinator`` sees every one of its
        replicas alive (however many other nodes it doubts)."""
        return plan[2] and self.sees_alive(coordinator, plan[0])

    def _apply_everywhere(self, plan: Plan, mutations: list[Mutation]) -> None:
        """Apply one partition's ``mutations`` on every replica of ``plan`` (all answered)."""
        applied = self._unsettled_mutations
        applied[plan[0]] = applied.get(plan[0], 0) + len(mutations)
        for m in mutations:
            self.storage.write(plan[3], m, marker_expiry(m))

    async def _write_timeout(
        self, coordinator: SimNode, cl: CL, shortfall: tuple[int, int], write_type: str
    ) -> None:
        await self._wait_for_replicas(coordinator, self.write_request_timeout)
        self.stats(coordinator).error("Write", cl.name, "Timeouts")
        raise WriteTimeout(cl, shortfall[0], shortfall[1], write_type)

    # ---- coordinator: reads ------------------------------------------------------------------

    def _proximity(self, coordinator: SimNode, replicas: Sequence[SimNode]) -> list[SimNode]:
        """Replicas as the snitch orders them for the coordinator: itself, its rack, its DC."""

        def distance(item: tuple[int, SimNode]) -> tuple[int, int]:
            i, r = item
            if r is coordinator:
                return (0, i)
            if r.dc == coordinator.dc:
                return (1 if r.rack == coordinator.rack else 2, i)
            return (3, i)

        return [r for _, r in sorted(enumerate(replicas), key=distance)]

    def _read_plan(
        self, coordinator: SimNode, replicas: Sequence[SimNode], reqs: Sequence[rules.Requirement]
    ) -> tuple[list[SimNode], list[SimNode]]:
        """(contacted, answered): the closest live-looking replicas each group needs, plus one
        speculative retry to the next closest when one of them stays silent."""
        ordered = [
            r for r in self._proximity(coordinator, replicas) if self.is_alive(coordinator, r)
        ]
        contacted: list[SimNode] = []
        for req in reqs:
            have = sum(1 for r in contacted if r in req.group)
            for r in ordered:
                if have >= req.required:
                    break
                if r in req.group and r not in contacted:
                    contacted.append(r)
                    have += 1
        answered = [r for r in contacted if r is coordinator or self.reachable(coordinator, r)]
        if not rules.satisfied(reqs, answered):
            spare = [r for r in ordered if r not in contacted]
            if spare:
                contacted.append(spare[0])
                if spare[0] is coordinator or self.reachable(coordinator, spare[0]):
                    answered.append(spare[0])
        return contacted, answered

    async def _read_timeout(self, coordinator: SimNode, cl: CL, reqs, answered) -> None:
        await self._wait_for_replicas(coordinator, self.read_request_timeout)
        self.stats(coordinator).error("Read", cl.name, "Timeouts")
        raise ReadTimeout(
            cl, rules.acknowledged(reqs, answered), rules.block_for(reqs), bool(answered)
        )

    async def read(
        self,
        coordinator: SimNode,
        replication: Mapping[str, str],
        keyspace: str,
        table: str,
        partition_key: bytes,
        cl: CL,
        on_repair: RepairObserver | None = None,
    ) -> PartitionData:
        """Read one partition at ``cl`` (merged last-write-wins, with blocking read repair;
        ``on_repair`` is told of a repair, for the request's trace)."""
        rules.validate_for_read(cl)
        self.stats(coordinator).completed["Native-Transport-Requests"] += 1
        repl = self.replication(replication)
        replicas, reqs = self._plan(repl, partition_key, cl, coordinator.dc)
        self._unavailable(coordinator, cl, reqs, "Read")
        _, answered = self._read_plan(coordinator, replicas, reqs)
        if not rules.satisfied(reqs, answered):
            await self._read_timeout(coordinator, cl, reqs, answered)
        for r in answered:
            self.stats(r).completed["ReadStage"] += 1
        raw = self._held(answered, keyspace, table, partition_key)
        merged = merge(raw)
        if merged is not None and len(answered) > 1:
            stale = [
                r for r, mine in zip(answered, raw, strict=True) if not same_data(mine, merged)
            ]
            for replica in stale:
                self._store(replica).apply_partition(keyspace, table, partition_key, merged)
            if stale and on_repair is not None:
                on_repair(ReadRepair(partition_key, tuple(answered), tuple(stale)))
        return resolve(merged)

    async def scan(
        self,
        coordinator: SimNode,
        replication: Mapping[str, str],
        keyspace: str,
        table: str,
        cl: CL,
    ) -> list[tuple[bytes, PartitionData]]:
        """Every live partition of a table in token order, each token range read at ``cl``."""
        rules.validate_for_read(cl)
        self.stats(coordinator).completed["Native-Transport-Requests"] += 1
        repl = self.replication(replication)
        ranges = len(self.ring.tokens)
        plans: dict[tuple[int, ...], list[SimNode]] = {}
        range_answers: list[list[SimNode]] = []
        for index in range(ranges):
            signature = self.ring.positions_at(repl, index)
            answered = plans.get(signature)
            if answered is None:
                replicas = self.ring.replicas_at(repl, index)
                reqs = rules.requirements(cl, repl, replicas, coordinator.dc)
                self._unavailable(coordinator, cl, reqs, "Read")
                _, answered = self._read_plan(coordinator, replicas, reqs)
                if not rules.satisfied(reqs, answered):
                    await self._read_timeout(coordinator, cl, reqs, answered)
                plans[signature] = answered
            range_answers.append(answered)
        nodes = {id(r): r for answered in plans.values() for r in answered}.values()
        for node in nodes:
            self.stats(node).completed["ReadStage"] += 1
        keys = self.storage.keys((keyspace, table), [self._store(node) for node in nodes])
        found: list[tuple[int, bytes, PartitionData]] = []
        for key in keys:
            tok = murmur3_token(key)
            answered = range_answers[self.ring.index_of(tok)] if ranges else []
            data = resolve(merge(self._held(answered, keyspace, table, key)))
            if data:
                found.append((tok, key, data))
        found.sort(key=lambda item: (item[0], item[1]))
        return [(key, data) for _, key, data in found]

    # ---- coordinator: lightweight transactions -----------------------------------------------

    async def cas(
        self,
        coordinator: SimNode,
        replication: Mapping[str, str],
        keyspace: str,
        table: str,
        partition_key: bytes,
        build: Callable[[PartitionData], list[Mutation] | None],
        serial_cl: CL,
        commit_cl: CL,
    ) -> tuple[bool, PartitionData]:
        """Paxos, reduced to its quorum arithmetic: prepare/promise needs a quorum of the
        participants (all replicas for SERIAL, the coordinator's DC for LOCAL_SERIAL); the
        condition is evaluated on what that quorum holds; the commit is a write at
        ``commit_cl``. Returns (applied, the partition as it was before)."""
        rules.validate_for_cas(serial_cl, commit_cl)
        self.stats(coordinator).completed["Native-Transport-Requests"] += 1
        repl = self.replication(replication)
        replicas, reqs = self._plan(repl, partition_key, serial_cl, coordinator.dc)
        self._unavailable(coordinator, serial_cl, reqs, "Write")
        participants = [r for r in replicas if r in reqs[0].group and self.is_alive(coordinator, r)]
        answered = [r for r in participants if r is coordinator or self.reachable(coordinator, r)]
        if not rules.satisfied(reqs, answered):
            await self._wait_for_replicas(coordinator, self.write_request_timeout)
            self.stats(coordinator).error("Write", serial_cl.name, "Timeouts")
            raise WriteTimeout(
                serial_cl, rules.acknowledged(reqs, answered), rules.block_for(reqs), "CAS"
            )
        current = resolve(merge(self._held(answered, keyspace, table, partition_key)))
        mutations = build(current)
        if mutations is None:
            return False, current
        await self.write(coordinator, replication, mutations, commit_cl)
        return True, current

"""Gossip and the phi-accrual failure detector of every node, as Cassandra 5.0 runs them.

Followed from apache/cassandra (cassandra-5.0), ``src/java/org/apache/cassandra/gms/``:

- ``Gossiper.GossipTask.run``: once per gossip interval each node bumps its heartbeat, sends a
  SYN to ONE random live member (``doGossipToLiveMember``), to a random unreachable member with
  probability unreachable / (live + 1) (``maybeGossipToUnreachableMember``), and, if the live
  target was no seed or it sees fewer live members than there are seeds, to a random seed with
  probability seeds / (live + unreachable) (``maybeGossipToSeed``); then ``doStatusCheck``
  interprets the failure detector for every endpoint. SYN → ACK → ACK2 leaves both sides with
  the newer state of every endpoint (push-pull), so state spreads epidemically.
- ``Gossiper.notifyFailureDetector``: an endpoint's arrival is reported to the observer's
  failure detector when a gossip message brings a newer heartbeat (or a newer generation; the
  arrival window is cleared first when the endpoint was down). A newer state for an endpoint
  seen down marks it alive after an echo round trip (``markAlive`` → ``realMarkAlive``).
- ``FailureDetector.ArrivalWindow``: the first report adds ``INITIAL_VALUE`` (2 x interval);
  later intervals longer than ``MAX_INTERVAL`` (the same 2 x interval) are ignored; the window
  keeps ``SAMPLE_SIZE`` = 1000 intervals (``ArrayBackedBoundedStats``); phi = (now - last
  arrival) / mean, and ``interpret`` convicts when phi x PHI_FACTOR (1/ln 10) exceeds
  ``phi_convict_threshold``.

Every observer x endpoint pair lives in NxN numpy arrays (about 35 bytes a pair, allocated
once: no growth at idle). The 1000-sample window is kept compactly as a block-sliding mean:
the running sum and count of the current block of 1000 plus the mean of the previous full
block, whose weight shrinks as the current block fills (exact until the first block is full,
then the sliding mean of a stationary stream).

Time is simulated: each node gossips at its own phase of the interval; a round is split into
``SLOTS`` slots processed with their scheduled times, whenever the event loop gets to them.
So a busy process delays only when the verdicts are *delivered* (events), never what a real
node would have observed. A gap longer than ``MAX_CATCH_UP`` is treated as the whole cluster
having been paused (as ``FailureDetector.interpret`` refuses to convict after a local pause).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

PHI_FACTOR = 1.0 / math.log(10.0)
SAMPLE_SIZE = 1000  # FailureDetector.SAMPLE_SIZE
SLOTS = 50  # slots per gossip interval: the resolution of arrival times, and the unit of
# work one event-loop turn does (at 1,000 nodes 20 initiators, ~2 ms; 10 slots of 100 made
# requests wait 10-15 ms behind each slot)
MAX_CATCH_UP = 30.0  # seconds; a longer gap is a pause of the whole simulated cluster
REBASE = 4096.0  # seconds between moves of the float32 time base
GEN_SHIFT = 32
VERSION_MASK = (1 << GEN_SHIFT) - 1

# Application states in gossip_info column order (lower-case names as in system_views).
STATES = (
    "status",
    "load",
    "schema",
    "dc",
    "rack",
    "release_version",
    "internal_ip",
    "rpc_address",
    "severity",
    "net_version",
    "host_id",
    "rpc_ready",
    "internal_address_and_port",
    "native_address_and_port",
    "status_with_port",
    "sstable_versions",
    "disk_usage",
)


@dataclass(frozen=True)
class GossipState:
    """What a node gossips about itself: generation, heartbeat, {state: (value, version)}."""

    generation: int
    heartbeat: int
    states: dict[str, tuple[str, int]]


@dataclass(frozen=True)
class EndpointView:
    """One observer's knowledge of one endpoint, at the moment it was asked."""

    state: GossipState | None
    alive: bool
    down_since: float | None  # wall clock of the conviction


@dataclass(frozen=True)
class StatusChange:
    observer: int
    endpoint: int
    up: bool


class Gossip:
    """The gossip state and failure detector of ``size`` nodes (indexes 0..size-1)."""

    def __init__(
        self,
        size: int,
        *,
        interval: float,
        phi_convict_threshold: float,
        dcs: Sequence[int],
        seeds: Sequence[int],
        now: float,
        rng_seed: int | None = None,
    ) -> None:
        n = size
        self.size = n
        self.interval = interval
        self.threshold = phi_convict_threshold
        self.initial = 2.0 * interval  # FD_INITIAL_VALUE_MS default: 2 x Gossiper.intervalInMillis
        self.max_interval = self.initial  # FD_MAX_INTERVAL_MS default: the initial value
        self.rng = np.random.default_rng(rng_seed)
        self.powered = np.ones(n, bool)
        self.dc = np.asarray(dcs, np.intp)
        ndc = int(self.dc.max()) + 1 if n else 1
        self.cut = np.zeros((ndc, ndc), bool)
        self.seeds = np.asarray(sorted(set(seeds)), np.intp)
        self.is_seed = np.zeros(n, bool)
        self.is_seed[self.seeds] = True
        self.generation = np.zeros(n, np.int64)
        self.version = np.zeros(n, np.int64)  # each node's version counter (states + heartbeat)
        self.heartbeat = np.zeros(n, np.int64)
        # observer row x endpoint column
        self.known = np.zeros((n, n), np.int64)  # generation << 32 | heartbeat version
        self.alive = np.ones((n, n), bool)
        # simulated time of the last report, seconds after ``epoch`` (float32: rebased every
        # REBASE seconds), 0 = none yet
        self.epoch = now
        self.last = np.zeros((n, n), np.float32)
        self.fresh = np.zeros(n, bool)  # rows that still hold never-reported endpoints
        self.win_sum = np.zeros((n, n), np.float32)
        self.win_count = np.zeros((n, n), np.int16)
        self.win_prev = np.zeros((n, n), np.float32)  # mean of the previous full block
        self.down: list[set[int]] = [set() for _ in range(n)]  # mirror of ~alive, per observer
        self.down_since: dict[tuple[int, int], float] = {}
        self.reborn: set[int] = set()  # endpoints whose generation changed lately
        slot_of = self.rng.integers(0, SLOTS, n)
        self.members = [np.flatnonzero(slot_of == s) for s in range(SLOTS)]
        self.slot_len = interval / SLOTS
        self.slot = 0
        self.next_time = now + self.slot_len
        self.events: list[StatusChange] = []

    # ---- a node's own state --------------------------------------------------------------------

    def next_version(self, i: int) -> int:
        self.version[i] += 1
        return int(self.version[i])

    def _key(self, i: np.ndarray | int) -> np.ndarray:
        return (self.generation[i] << GEN_SHIFT) | self.heartbeat[i]

    def start(self, i: int, generation: int, states: int, alone: bool = True) -> None:
        """A (re)start of node ``i``: new generation, ``states`` versions for its application
        states, then its heartbeat. ``alone``: it knows nobody else yet (the arrival windows
        it keeps as an observer are new); otherwise :meth:`all_up` follows at once."""
        self.generation[i] = generation
        self.version[i] = states
        self.heartbeat[i] = self.next_version(i)
        self.reborn.add(i)
        self.known[i] = 0
        self.known[i, i] = self._key(i)
        self.last[i] = 0.0
        self.fresh[i] = True
        self.win_sum[i] = 0.0
        self.win_count[i] = 0
        self.win_prev[i] = 0.0
        if alone:
            self.alive[i] = False
            self.alive[i, i] = True
            self.down[i] = set(range(self.size)) - {i}

    def all_up(self, now: float) -> list[StatusChange]:
        """Every node knows every other's current state and sees it alive (a fresh window)."""
        self.known[:] = self._key(np.arange(self.size))[None, :]
        self.last[:] = self._rel(now)
        self.fresh[:] = False
        self.win_sum[:] = self.initial
        self.win_count[:] = 1
        self.win_prev[:] = 0.0
        self.alive[:] = True
        changes = [StatusChange(o, x, True) for o, downs in enumerate(self.down) for x in downs]
        for downs in self.down:
            downs.clear()
        self.down_since.clear()
        self.reborn.clear()
        return changes

    # ---- queries -------------------------------------------------------------------------------

    def reachable(self, a: int, b: int) -> bool:
        return bool(self.powered[a] and self.powered[b] and not self.cut[self.dc[a], self.dc[b]])

    def is_alive(self, observer: int, endpoint: int) -> bool:
        return endpoint not in self.down[observer]

    def known_state(self, observer: int, endpoint: int) -> tuple[int, int] | None:
        """(generation, heartbeat) of ``endpoint`` as ``observer`` knows it."""
        key = int(self.known[observer, endpoint])
        return None if key == 0 else (key >> GEN_SHIFT, key & VERSION_MASK)

    def phi(self, observer: int, endpoint: int, now: float) -> float:
        last = float(self.last[observer, endpoint])
        if observer == endpoint or not last:
            return 0.0
        return (self._rel(now) - last) / self.mean_interval(observer, endpoint) * PHI_FACTOR

    def phis(self, observer: int, now: float) -> np.ndarray:
        """:meth:`phi` of every endpoint as ``observer`` judges it, computed for the whole row
        at once (float64; 0 for itself and for endpoints it never heard from): a FailureDetector
        bean of a 1,000-node cluster needs them all, and pair by pair they cost ~20 µs each."""
        last = self.last[observer].astype(np.float64)
        row = np.s_[observer]
        mean = _window_mean(self.win_sum[row], self.win_count[row], self.win_prev[row])
        mean = np.where(mean != 0, mean, self.initial).astype(np.float64)
        phis = (self._rel(now) - last) / mean * PHI_FACTOR
        phis[last == 0] = 0.0
        phis[observer] = 0.0
        return phis

    def mean_interval(self, observer: int, endpoint: int) -> float:
        o, x = [observer], [endpoint]
        mean = _window_mean(self.win_sum[o, x], self.win_count[o, x], self.win_prev[o, x])
        return float(mean[0]) or self.initial

    def typical_mean_interval(self, sample: int = 64) -> float:
        """The median arrival-window mean over the pairs of up to ``sample`` observers."""
        rows = np.linspace(0, self.size - 1, min(sample, self.size)).astype(np.intp)
        mean = _window_mean(self.win_sum[rows], self.win_count[rows], self.win_prev[rows])
        seen = (self.last[rows] > 0) & (mean > 0)
        seen[np.arange(rows.size), rows] = False
        return float(np.median(mean[seen])) if seen.any() else self.initial

    def up_counts(self) -> np.ndarray:
        """For each endpoint, how many other observers see it alive."""
        return self.alive.sum(axis=0) - 1

    # ---- power and links -----------------------------------------------------------------------

    def resume(self, now: float) -> None:
        """Gossip starts (again) now: the time since the last slot stood still for every node."""
        gap = now - self.next_time
        if gap > 0:
            self.last[self.last > 0] += np.float32(gap)
            self.next_time = now

    def set_link(self, dc_a: int, dc_b: int, up: bool) -> None:
        self.cut[dc_a, dc_b] = self.cut[dc_b, dc_a] = not up

    def shadow_round(self, i: int, now: float) -> None:
        """A starting node gossips with a reachable seed at once (Gossiper.doShadowRound and
        the first SYN): both sides learn each other's state."""
        seeds = [s for s in self.seeds.tolist() if s != i and self.reachable(i, s)]
        if seeds:
            partner = seeds[int(self.rng.integers(len(seeds)))]
            self._exchange(np.array([i]), np.array([partner]), self._rel(now))

    # ---- time ----------------------------------------------------------------------------------

    def advance(self, now: float) -> list[StatusChange]:
        """Run every gossip slot due by ``now`` at its scheduled time; the status changes."""
        gap = now - self.next_time
        if gap > MAX_CATCH_UP:  # the whole cluster was paused: time stood still for every node
            skipped = math.floor(gap / self.slot_len) * self.slot_len
            self.last[self.last > 0] += skipped
            self.next_time += skipped
        if self.next_time - self.epoch > REBASE:
            self._rebase()
        while self.next_time <= now:
            self._run_slot(self.slot, self._rel(self.next_time))
            self.slot = (self.slot + 1) % SLOTS
            if self.slot == 0:
                self._roll_windows()
            self.next_time += self.slot_len
        events, self.events = self.events, []
        return events

    def interpret(self, now: float) -> list[StatusChange]:
        """Every powered node's status check, now."""
        self._status_check(np.flatnonzero(self.powered), self._rel(now))
        events, self.events = self.events, []
        return events

    # ---- one slot ------------------------------------------------------------------------------

    def _run_slot(self, slot: int, t: float) -> None:
        act = self.members[slot]
        act = act[self.powered[act]]
        if act.size == 0:
            return
        self.version[act] += 1
        self.heartbeat[act] = self.version[act]
        self.known[act, act] = self._key(act)
        pairs_a, pairs_b = self._targets(act)
        if pairs_a.size:
            ok = self.powered[pairs_b] & ~self.cut[self.dc[pairs_a], self.dc[pairs_b]]
            pairs_a, pairs_b = pairs_a[ok], pairs_b[ok]
            # simultaneous exchanges touching the same node run one after the other
            while pairs_a.size:
                wave = _first_use(pairs_a, pairs_b)
                self._exchange(pairs_a[wave], pairs_b[wave], t)
                pairs_a, pairs_b = pairs_a[~wave], pairs_b[~wave]
        self._status_check(act, t)

    def _targets(self, act: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """GossipTask's SYN targets of the initiators ``act``: (initiators, targets)."""
        n = self.size
        alive = self.alive[act]
        live_count = alive.sum(axis=1) - 1
        # unreachable members: known endpoints seen down (only rows whose down set is not empty)
        doubting = np.fromiter((bool(self.down[i]) for i in act.tolist()), bool, act.size)
        unreachable = np.zeros(alive.shape, bool)
        if doubting.any():
            rows = act[doubting]
            unreachable[doubting] = ~alive[doubting] & (self.known[rows] > 0)
        unreachable_count = unreachable.sum(axis=1)
        live = np.full(act.size, -1, np.intp)
        todo = np.arange(act.size)
        for _ in range(8):  # a random live member, by rejection (most members are live)
            if todo.size == 0:
                break
            cand = self.rng.integers(0, n - 1, todo.size)
            cand += cand >= act[todo]
            ok = alive[todo, cand]
            live[todo[ok]] = cand[ok]
            todo = todo[~ok]
        for t in todo.tolist():
            row = alive[t].copy()
            row[act[t]] = False
            members = np.flatnonzero(row)
            if members.size:
                live[t] = members[self.rng.integers(members.size)]
        a = [act[live >= 0]]
        b = [live[live >= 0]]
        draw = self.rng.random(act.size)
        for t in np.flatnonzero(draw < unreachable_count / (live_count + 1.0)).tolist():
            members = np.flatnonzero(unreachable[t])
            a.append(act[t : t + 1])
            b.append(members[[int(self.rng.integers(members.size))]])
        if self.seeds.size:
            to_seed = (
                (live < 0) | ~self.is_seed[np.maximum(live, 0)] | (live_count < self.seeds.size)
            )
            chance = np.where(
                live_count <= 0,
                1.0,
                self.seeds.size / np.maximum(live_count + unreachable_count, 1),
            )
            draw = self.rng.random(act.size)
            for t in np.flatnonzero(to_seed & (draw <= chance)).tolist():
                others = self.seeds[self.seeds != act[t]]
                if others.size:
                    a.append(act[t : t + 1])
                    b.append(others[[int(self.rng.integers(others.size))]])
        return np.concatenate(a), np.concatenate(b)

    def _exchange(self, a: np.ndarray, b: np.ndarray, t: float) -> None:
        """SYN/ACK/ACK2 between distinct pairs: both sides keep the newer state of every
        endpoint; each newer heartbeat is an arrival for the receiving side's detector."""
        rows = np.concatenate([a, b])
        old = self.known[rows]
        merged = np.maximum(old[: a.size], old[a.size :])
        self.known[a] = merged
        self.known[b] = merged
        changed = np.empty(old.shape, bool)
        np.not_equal(merged, old[: a.size], out=changed[: a.size])
        np.not_equal(merged, old[a.size :], out=changed[a.size :])
        last = self.last[rows]
        if self.reborn:
            new = np.concatenate([merged, merged])
            self._clear_reborn(rows, old, new, changed, self.alive[rows], last)
        fresh = self.fresh[rows]
        dt = t - last
        add = changed & (dt <= self.max_interval)
        step = dt * add  # (boolean masks with where= are several times slower than arithmetic)
        if fresh.any():  # the first report of an endpoint adds the initial interval
            first = changed & (last == 0)
            add |= first
            step[first] = self.initial
        total = self.win_sum[rows]
        count = self.win_count[rows]
        total += step
        count += add
        self.win_sum[rows] = total
        self.win_count[rows] = count
        last += dt * changed  # = t where an arrival was reported
        self.last[rows] = last
        if fresh.any():
            self.fresh[rows[fresh]] = (last[fresh] == 0).any(axis=1)
        doubters = [r for r, o in enumerate(rows.tolist()) if self.down[o]]
        if doubters:  # markAlive (after an echo round trip) of endpoints seen down
            sub = rows[doubters]
            wake = changed[doubters] & ~self.alive[sub]
            wake &= self.powered[sub][:, None] & self.powered[None, :]
            wake &= ~self.cut[self.dc[sub]][:, self.dc]
            for r, x in zip(*np.nonzero(wake), strict=True):
                self._mark(int(sub[r]), int(x), True)

    def _clear_reborn(self, rows, old, new, changed, alive, last) -> None:
        """A newer generation of an endpoint seen down clears its arrival window."""
        cols = np.fromiter(self.reborn, np.intp)
        newer = (new[:, cols] >> GEN_SHIFT) > (old[:, cols] >> GEN_SHIFT)
        hit = changed[:, cols] & newer & ~alive[:, cols]
        for r, c in zip(*np.nonzero(hit), strict=True):
            o, x = int(rows[r]), int(cols[c])
            last[r, x] = 0.0
            self.fresh[o] = True
            self.win_sum[o, x] = 0.0
            self.win_count[o, x] = 0
            self.win_prev[o, x] = 0.0
        observers = self.known[self.powered][:, cols]
        spread = (observers >> GEN_SHIFT) == self.generation[cols]
        for c in np.flatnonzero(spread.all(axis=0)).tolist():
            self.reborn.discard(int(cols[c]))

    def _status_check(self, act: np.ndarray, t: float) -> None:
        """doStatusCheck of the nodes ``act`` at simulated time ``t``."""
        last = self.last[act]
        mean = _window_mean(self.win_sum[act], self.win_count[act], self.win_prev[act])
        convict = self.alive[act] & (last > 0)
        convict &= (t - last) * PHI_FACTOR > self.threshold * mean
        convict[np.arange(act.size), act] = False
        if not convict.any():  # the usual slot: nonzero() would cost more than the check
            return
        for r, x in zip(*np.nonzero(convict), strict=True):
            self._mark(int(act[r]), int(x), False, t)

    def _roll_windows(self) -> None:
        """Once a round: a block of SAMPLE_SIZE samples becomes the previous block."""
        full = self.win_count >= SAMPLE_SIZE
        if full.any():
            self.win_prev[full] = self.win_sum[full] / self.win_count[full]
            self.win_sum[full] = 0.0
            self.win_count[full] = 0

    def _rel(self, now: float) -> float:
        return now - self.epoch

    def _rebase(self) -> None:
        """Keep float32 times precise: move the epoch forward (old arrivals stay > 0)."""
        shift = np.float32(math.floor(self.next_time - self.epoch - self.interval * 8))
        seen = self.last > 0
        self.last[seen] = np.maximum(self.last[seen] - shift, np.float32(1e-3))
        self.epoch += float(shift)

    def _mark(self, observer: int, endpoint: int, up: bool, t: float | None = None) -> None:
        self.alive[observer, endpoint] = up
        if up:
            self.down[observer].discard(endpoint)
            self.down_since.pop((observer, endpoint), None)
        else:
            self.down[observer].add(endpoint)
            late = 0.0 if t is None else max(0.0, time.monotonic() - self.epoch - t)
            self.down_since[(observer, endpoint)] = time.time() - late
        self.events.append(StatusChange(observer, endpoint, up))


def _window_mean(total: np.ndarray, count: np.ndarray, prev: np.ndarray) -> np.ndarray:
    """The mean of the last SAMPLE_SIZE intervals: the current block's samples plus the
    previous full block's mean for the rest of the window (0 where nothing was reported)."""
    current = total / np.maximum(count, 1)
    if not prev.any():
        return current
    weighted = (prev * (SAMPLE_SIZE - count) + total) / SAMPLE_SIZE
    return np.where(prev > 0, weighted, current)


def _first_use(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairs whose two nodes appear in no earlier pair (a wave of independent exchanges)."""
    order = np.empty(a.size * 2, np.intp)
    order[0::2] = a
    order[1::2] = b
    _, first = np.unique(order, return_index=True)
    firsts = np.zeros(order.size, bool)
    firsts[first] = True
    wave = firsts[0::2] & firsts[1::2] & (a != b)
    if not wave.any():
        wave[0] = True
    return wave

"""The panel's state as one JSON document (what every browser receives), kept fresh.

:class:`Poller` reads the services at the pace each needs (LCDs 4 times a second, power state
and exporters twice a second, alerts every second, writer statistics every 5 s), rebuilds the
snapshot and wakes the event streams only when something changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from rackpanel.panel.sources import Sources, WriterStats
from rackpanel.panel.states import link_up, node_states, power_of, rack_on
from rackpanel.topology import Inventory
from rackpanel.topology.targets import link_targets

DARK = [0, 0, 0]
CPU_SHARE_WAIT = 4.0  # a polling round waits at least 4x the CPU it took (<= 20 % each)
log = logging.getLogger(__name__)


@dataclass
class Readings:
    power: dict[str, Any] = field(default_factory=dict)
    views: dict[str, dict[str, int]] = field(default_factory=dict)
    lcds: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    alerts_source: str | None = None
    alerts: list[dict[str, str]] = field(default_factory=list)
    stats: WriterStats = field(default_factory=WriterStats)


@dataclass(frozen=True)
class PanelInfo:
    """What does not change while the panel runs."""

    inv: Inventory
    mode: str  # sim, compose, pi
    address_of: dict[str, str]  # node name -> the address exporters report it by
    stops_enabled: bool
    links: list[dict[str, str]]  # header links: {"label", "url"}
    hold_seconds: float = 2.0


def dc_link_targets(inv: Inventory) -> list[str]:
    return link_targets([dc.name for dc in inv.datacenters])


def _writer(name: str, local_dc: str, lcd: dict[str, Any] | None, stats: WriterStats) -> dict:
    lines = [*list((lcd or {}).get("lines", ["(writer not", " answering)"])), "", ""]
    return {
        "name": name,
        "local_dc": local_dc,
        "reachable": lcd is not None,
        "lines": [str(lines[0])[:16], str(lines[1])[:16]],
        "color": [int(bool(c)) for c in ((lcd or {}).get("color") or DARK)[:3]],
        "write_cl": (lcd or {}).get("write_cl", ""),
        "read_cl": (lcd or {}).get("read_cl", ""),
        "menu": (lcd or {}).get("menu"),
        "keypad": lcd is not None,
        "success_ratio": stats.ratio.get(name),
        "latency_ms": stats.latency_ms.get(name),
        "history": {
            "ratio": stats.ratio_history.get(name, []),
            "latency_ms": stats.latency_history.get(name, []),
        },
    }


def build(info: PanelInfo, r: Readings) -> dict[str, Any]:
    inv = info.inv
    powered = power_of(r.power)
    states = {s.name: s for s in node_states(inv, r.views, powered, info.address_of)}
    datacenters = []
    for dc in inv.datacenters:
        racks = []
        for rack in dc.racks:
            names = [n.name for n in rack.nodes]
            nodes = [
                {
                    "name": n,
                    "address": states[n].address,
                    "state": states[n].state,
                    "detail": states[n].detail,
                    "views": states[n].by_dc,
                }
                for n in names
            ]
            target = f"{dc.name}/{rack.name}"
            racks.append(
                {
                    "name": rack.name,
                    "target": target,
                    "on": rack_on(powered, names, states),
                    "nodes": nodes,
                }
            )
        datacenters.append({"name": dc.name, "color": list(inv.dc_color(dc.name)), "racks": racks})
    links = [
        {
            "target": t,
            "label": t.removeprefix("link:").replace("-", " ⇄ ", 1),
            "up": link_up(r.power, t),
        }
        for t in dc_link_targets(inv)
    ]
    writers = [_writer(w.name, w.local_dc, r.lcds.get(w.name), r.stats) for w in inv.writers]
    return {
        "cluster": inv.cluster.name,
        "mode": info.mode,
        "stops_enabled": info.stops_enabled,
        "hold_seconds": info.hold_seconds,
        "links": info.links,
        "datacenters": datacenters,
        "dc_links": links,
        "writers": writers,
        "alerts_source": r.alerts_source,
        "alerts": r.alerts,
        "exporters": {"answering": len(r.views), "total": len(info.address_of)},
    }


class Poller:
    """Keeps :attr:`snapshot` fresh; ``await changed(version)`` waits for a newer one."""

    def __init__(self, info: PanelInfo, sources: Sources) -> None:
        self.info = info
        self.sources = sources
        self.readings = Readings()
        self.version = 0
        self.snapshot: dict[str, Any] = {}
        self._text = ""
        self._changed = asyncio.Condition()
        self._tasks: list[asyncio.Task[None]] = []

    async def _rebuild(self) -> None:
        snapshot = build(self.info, self.readings)
        text = json.dumps(snapshot, sort_keys=True)
        if text == self._text:
            return
        self._text = text
        self.version += 1
        self.snapshot = {**snapshot, "version": self.version}
        async with self._changed:
            self._changed.notify_all()

    async def changed(self, seen: int, timeout: float) -> None:
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(lambda: self.version > seen), timeout)

    # ---- what each loop reads --------------------------------------------------------------------
    async def read_lcds(self) -> None:
        self.readings.lcds = await self.sources.lcds()

    async def read_power(self) -> None:
        self.readings.power = await self.sources.power_state()

    async def read_views(self) -> None:
        self.readings.views = await self.sources.views()

    async def read_alerts(self) -> None:
        self.readings.alerts_source, self.readings.alerts = await self.sources.alerts()

    async def read_stats(self) -> None:
        self.readings.stats = await self.sources.writer_stats()

    async def refresh(self) -> None:
        """The stops and the LCDs now (right after a stop or a key press): what was pressed
        shows at once, without waiting for an exporter frozen by a cut to time out."""
        await asyncio.gather(self.read_lcds(), self.read_power())
        await self._rebuild()

    async def _every(self, period: float, read: Callable[[], Awaitable[None]]) -> None:
        """Read and rebuild every ``period``; an unexpected answer costs one round, never the
        loop (a panel left running must not freeze on one bad reply). A round that took
        more than a fifth of ``period`` of CPU (a big cluster's exporter pages) waits four
        times that CPU instead, so no source takes the panel over; waiting on the network
        (an exporter frozen by a power cut) costs no CPU and slows nothing."""
        while True:
            cpu = time.thread_time()
            try:
                before = dataclasses.replace(self.readings)
                await read()
                if self.readings != before:  # an unchanged reading changes no snapshot
                    await self._rebuild()
            except Exception as exc:  # logged; the next round tries again
                log.warning("panel: reading %s failed: %r", read.__name__, exc)
            await asyncio.sleep(max(period, CPU_SHARE_WAIT * (time.thread_time() - cpu)))

    async def start(self) -> None:
        await asyncio.gather(
            self.read_lcds(), self.read_power(), self.read_views(), self.read_alerts()
        )
        await self._rebuild()
        for period, read in (
            (0.25, self.read_lcds),
            (0.5, self.read_power),
            (0.5, self.read_views),
            (1.0, self.read_alerts),
            (5.0, self.read_stats),
        ):
            self._tasks.append(asyncio.create_task(self._every(period, read)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

"""The physical panel on a screen: the writers' LCDs and keypads, the emergency stops, the
cluster map as the exporters see it, and the firing alerts.

Keys: digits toggle the emergency stop of a rack (and the DC links after them), Tab picks the
writer whose keypad the arrows drive, arrows = LEFT/RIGHT/UP/DOWN, Enter = SELECT, h = hold
SELECT (opens the CL menu during a run), q quits (and stops every service of the demo).
"""

from __future__ import annotations

import asyncio
import signal
import urllib.error
from dataclasses import dataclass
from itertools import combinations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Static

from rackpanel.demo.observe import (
    ClusterView,
    Lcd,
    endpoint_up_from_exporters,
    firing_alerts,
    post_json,
    read_lcd,
    routed_alerts,
)
from rackpanel.demo.power_follower import PowerFollower
from rackpanel.demo.supervisor import Service
from rackpanel.topology import Inventory

BACKLIGHT = {
    (0, 0, 0): ("grey50", "grey15"),
    (1, 0, 0): ("black", "red3"),
    (0, 1, 0): ("black", "green3"),
    (0, 0, 1): ("white", "blue3"),
    (1, 1, 0): ("black", "yellow3"),
    (0, 1, 1): ("black", "cyan3"),
    (1, 0, 1): ("black", "magenta3"),
    (1, 1, 1): ("black", "grey93"),
}
RACK_KEYS = "123456789"
LINK_KEYS = "0"


@dataclass(frozen=True)
class StopButton:
    key: str
    target: str  # "DC1/RAC2" or "link:DC1-DC2"
    label: str


def stop_buttons(inv: Inventory) -> list[StopButton]:
    buttons = []
    racks = [(dc.name, rack.name) for dc in inv.datacenters for rack in dc.racks]
    for key, (dc, rack) in zip(RACK_KEYS, racks, strict=False):
        buttons.append(StopButton(key, f"{dc}/{rack}", f"{dc}/{rack}"))
    links = list(combinations([dc.name for dc in inv.datacenters], 2))
    for key, (a, b) in zip(LINK_KEYS, links, strict=False):
        buttons.append(StopButton(key, f"link:{a}-{b}", f"link {a}-{b}"))
    return buttons


def render_lcd(name: str, local_dc: str, lcd: Lcd, active: bool) -> Panel:
    fg, bg = BACKLIGHT.get(lcd.color, BACKLIGHT[(1, 1, 1)])
    body = Text()
    for i, line in enumerate(lcd.lines):
        body.append(f" {line[:16]:<16} ", style=f"bold {fg} on {bg}")
        if i == 0:
            body.append("\n")
    title = f"{'▶ ' if active else ''}{name} ({local_dc})"
    cls = f"write {lcd.write_cl or '?'}  read {lcd.read_cl or '?'}"
    return Panel(body, title=title, subtitle=cls, border_style="bold" if active else "dim")


class PanelApp(App[None]):
    CSS = """
    Screen { layout: vertical; }
    #lcds { height: 6; }
    #lcds Static { width: 40; }
    #stops { height: auto; }
    #map { height: auto; }
    #alerts { height: auto; }
    """
    BINDINGS = [
        Binding("q", "quit", "quit"),
        Binding("ctrl+c", "quit", "quit", show=False, priority=True),
        Binding("tab", "next_writer", "next keypad"),
        Binding("left", "key('left')", "LEFT", show=False),
        Binding("right", "key('right')", "RIGHT", show=False),
        Binding("up", "key('up')", "UP", show=False),
        Binding("down", "key('down')", "DOWN", show=False),
        Binding("enter", "key('select')", "SELECT"),
        Binding("h", "hold_select", "hold SELECT"),
    ]

    def __init__(self, inv: Inventory, services: list[Service], power: PowerFollower) -> None:
        super().__init__()
        self.inv = inv
        self.power = power  # already polls the simulator's /state: the panel reuses its answer
        self.writers = [s for s in services if s.kind == "writer"]
        self.writer_places = list(inv.writer_places())
        self.exporter_urls = [s.url for s in services if s.kind == "exporter"]
        self.prometheus = next((s.url for s in services if s.kind == "prometheus"), None)
        self.alertmanager = next((s.url for s in services if s.kind == "alertmanager"), None)
        sim = next(s for s in services if s.kind == "simulator")
        self.admin_url = sim.url.rsplit("/", 1)[0]
        self.buttons = stop_buttons(inv)
        self.active = 0
        self.lcds: list[Lcd] = [Lcd() for _ in self.writers]
        self.state: dict = {}
        self.view = ClusterView()
        self.alerts: list[str] = []
        self.message = ""

    def compose(self) -> ComposeResult:
        with Horizontal(id="lcds"):
            for i in range(len(self.writers)):
                yield Static(id=f"lcd{i}")
        yield Static(id="stops")
        yield Static(id="map")
        yield Static(id="alerts")
        yield Footer()

    async def on_mount(self) -> None:
        self.title = f"rackpanel — {self.inv.cluster.name}"
        for button in self.buttons:
            self.bind(button.key, f"toggle('{button.target}')", description=button.label)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, self.exit)
        self.set_interval(0.25, self.refresh_lcds)
        self.set_interval(1.0, self.refresh_cluster)
        await self.refresh_lcds()
        await self.refresh_cluster()

    # ---- polling -------------------------------------------------------------------------
    async def refresh_lcds(self) -> None:
        self.lcds = list(
            await asyncio.gather(*(asyncio.to_thread(read_lcd, w.url) for w in self.writers))
        )
        for i, (lcd, place) in enumerate(zip(self.lcds, self.writer_places, strict=False)):
            widget = self.query_one(f"#lcd{i}", Static)
            widget.update(render_lcd(place.name, place.local_dc, lcd, i == self.active))

    async def refresh_cluster(self) -> None:
        self.view, self.alerts = await asyncio.gather(
            asyncio.to_thread(endpoint_up_from_exporters, self.exporter_urls),
            self.fetch_alerts(),
        )
        self.state = self.power.latest
        self.query_one("#stops", Static).update(self.render_stops())
        self.query_one("#map", Static).update(self.render_map())
        self.query_one("#alerts", Static).update(self.render_alerts())

    async def fetch_alerts(self) -> list[str]:
        if self.alertmanager:
            return await asyncio.to_thread(routed_alerts, self.alertmanager)
        if self.prometheus:
            return await asyncio.to_thread(firing_alerts, self.prometheus)
        return []

    # ---- rendering -----------------------------------------------------------------------
    def _powered(self) -> dict[str, bool]:
        return {n["name"]: bool(n.get("powered", True)) for n in self.state.get("nodes", [])}

    def _link_up(self, target: str) -> bool:
        a, b = target.removeprefix("link:").split("-", 1)
        for link in self.state.get("links", []):
            if {link.get("a"), link.get("b")} == {a, b}:
                return bool(link.get("up", True))
        return True

    def button_on(self, button: StopButton) -> bool:
        if button.target.startswith("link:"):
            return self._link_up(button.target)
        dc, rack = button.target.split("/")
        powered = self._powered()
        names = [p.name for p in self.inv.nodes() if p.dc == dc and p.rack == rack]
        return any(powered.get(n, True) for n in names)

    def render_stops(self) -> Panel:
        text = Text()
        for button in self.buttons:
            on = self.button_on(button)
            style = "bold black on green3" if on else "bold white on red3"
            text.append(f" [{button.key}] {button.label} {'ON' if on else 'OFF'} ", style=style)
            text.append("  ")
        if self.message:
            text.append(f"\n{self.message}", style="yellow")
        return Panel(text, title="emergency stops (press the key to cut / restore)")

    def render_map(self) -> Panel:
        powered = self._powered()
        table = Table.grid(padding=(0, 2))
        for dc in self.inv.datacenters:
            row: list[Text] = [Text(dc.name, style="bold")]
            for rack in dc.racks:
                cell = Text(f"{rack.name}: ")
                for node in rack.nodes:
                    address = str(self.inv.node(node.name).sim_address)
                    up = self.view.up.get(address)
                    style = {1: "bold green", 0: "bold red", None: "dim"}[up]
                    mark = {1: "●", 0: "✖", None: "?"}[up]
                    power = "" if powered.get(node.name, True) else " (off)"
                    cell.append(f"{mark} {node.name}{power}  ", style=style)
                row.append(cell)
            table.add_row(*row)
        caption = f"{self.view.exporters_answering}/{len(self.exporter_urls)} exporters answering"
        return Panel(Group(table, Text(caption, style="dim")), title="cluster (exporters' view)")

    def render_alerts(self) -> Panel:
        if self.prometheus is None:
            return Panel(Text("Prometheus not running", style="dim"), title="alerts")
        body = Text(
            "\n".join(self.alerts) or "none firing", style="bold red" if self.alerts else ""
        )
        source = "Alertmanager: inhibited ones hidden" if self.alertmanager else "Prometheus"
        return Panel(body, title=f"firing alerts ({source})")

    # ---- actions -------------------------------------------------------------------------
    async def action_toggle(self, target: str) -> None:
        button = next(b for b in self.buttons if b.target == target)
        action = "off" if self.button_on(button) else "on"
        try:
            await asyncio.to_thread(
                post_json, f"{self.admin_url}/power", {"action": action, "target": target}
            )
            self.message = f"power {action} {target}"
        except (urllib.error.URLError, OSError) as exc:
            self.message = f"power {action} {target} failed: {exc}"
        await asyncio.to_thread(self.power.refresh)  # show the new state now, not in 0.5 s
        await self.refresh_cluster()

    def action_next_writer(self) -> None:
        if self.writers:
            self.active = (self.active + 1) % len(self.writers)

    async def action_key(self, button: str, hold: float | None = None) -> None:
        if not self.writers:
            return
        base = self.writers[self.active].url.rsplit("/", 1)[0]
        query = f"?hold={hold}" if hold else ""
        try:
            await asyncio.to_thread(post_json, f"{base}/keypad/{button}{query}")
        except (urllib.error.URLError, OSError) as exc:
            self.message = f"keypad {button} failed: {exc}"
        await self.refresh_lcds()

    async def action_hold_select(self) -> None:
        await self.action_key("select", hold=2.5)


def run_panel(inv: Inventory, services: list[Service], power: PowerFollower) -> None:
    PanelApp(inv, services, power).run()

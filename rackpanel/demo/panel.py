"""The physical panel on a terminal (right at 80x24): both LCDs and keypads, the emergency stops,
the cluster as each DC sees it, and the alerts as Alertmanager routes them.

It shows the same snapshot as the web panel (:mod:`rackpanel.panel.snapshot`), read from the
running services over HTTP. Keys: digits toggle a rack's emergency stop, ``0`` the DC link;
Tab picks the writer whose keypad the keys drive; arrows = LEFT/RIGHT/UP/DOWN, Enter = SELECT,
``h`` = hold SELECT (opens the CL menu), Escape closes the menu unchanged; ``q`` quits (and
stops every service of the demo).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Static

from rackpanel.panel.snapshot import Poller, dc_link_targets
from rackpanel.panel.sources import ActionFailed, Sources
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
MARKS = {
    "up": ("●", "bold green"),
    "down": ("✖", "bold red"),
    "off": ("○", "grey50"),
    "crashed": ("⊘", "bold red"),
    "partitioned": ("◐", "bold yellow"),
    "unknown": ("?", "dim"),
}
LEGEND = "● up ✖ down ○ off ⊘ crashed ◐ partitioned"
LINK_WORDS = ("UP ", "CUT")
RACK_KEYS = "123456789"
LINK_KEYS = "0"
HOLD_SECONDS = 2.5  # a long press of SELECT: longer than the writer's 2 s


@dataclass(frozen=True)
class StopKey:
    key: str
    target: str  # "DC1/RAC2" or "link:DC1-DC2"


def stop_keys(inv: Inventory) -> list[StopKey]:
    racks = [f"{dc.name}/{rack.name}" for dc in inv.datacenters for rack in dc.racks]
    links = dc_link_targets(inv)
    return [StopKey(k, t) for k, t in zip(RACK_KEYS, racks, strict=False)] + [
        StopKey(k, t) for k, t in zip(LINK_KEYS, links, strict=False)
    ]


def _line(*parts: tuple[str, str]) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    for chunk, style in parts:
        text.append(chunk, style=style)
    return text


def render_lcd(writer: dict[str, Any], active: bool) -> Panel:
    fg, bg = BACKLIGHT.get(tuple(writer["color"]), BACKLIGHT[(1, 1, 1)])
    body = Text(no_wrap=True, overflow="crop")
    for i, line in enumerate(writer["lines"]):
        body.append(f" {line[:16]:<16} ", style=f"bold {fg} on {bg}")
        if i == 0:
            body.append("\n")
    title = f"{'▶ ' if active else ''}{writer['name']} ({writer['local_dc']})"
    if writer["reachable"]:
        cls = f"W {writer['write_cl'] or '?'} R {writer['read_cl'] or '?'}"
        if writer["menu"]:
            cls = f"{writer['menu']} menu · {cls}"
    else:
        cls = "not answering"
    return Panel(body, title=title, subtitle=cls, border_style="bold" if active else "dim")


def _switch(on: bool | None, words: tuple[str, str] = ("ON ", "OFF")) -> tuple[str, str]:
    if on is None:
        return (" ?  ", "dim")
    if on:
        return (f" {words[0]}", "bold black on green3")
    return (f" {words[1]}", "bold white on red3")


def dc_sees(snapshot: dict[str, Any], observer: str, other: str) -> bool | None:
    """Whether the observers of one DC see any node of another DC up (None: nothing known)."""
    seen = [
        n["views"].get(observer)
        for dc in snapshot["datacenters"]
        if dc["name"] == other
        for rack in dc["racks"]
        for n in rack["nodes"]
    ]
    known = [v for v in seen if v is not None]
    return any(known) if known else None


def render_board(snapshot: dict[str, Any], keys: list[StopKey]) -> Panel:
    key_of = {k.target: k.key for k in keys}
    lines: list[Text] = []
    for dc in snapshot["datacenters"]:
        for rack in dc["racks"]:
            key = key_of.get(rack["target"], " ")
            parts = [(f"[{key}]", "bold"), _switch(rack["on"]), (f" {rack['target']:<9}", "bold")]
            for node in rack["nodes"]:
                mark, style = MARKS.get(node["state"], MARKS["unknown"])
                parts.append((f" {mark} {node['name']}", style))
            lines.append(_line(*parts))
    for link in snapshot["dc_links"]:
        a, b = link["target"].removeprefix("link:").split("-", 1)
        parts = [(f"[{key_of.get(link['target'], ' ')}]", "bold"), _switch(link["up"], LINK_WORDS)]
        parts.append((f" link {a}-{b}", "bold"))
        for observer, other in ((a, b), (b, a)):
            sees = dc_sees(snapshot, observer, other)
            word = {True: "up", False: "DOWN", None: "?"}[sees]
            parts.append((f"  {observer} sees {other} {word}", "bold red" if sees is False else ""))
        lines.append(_line(*parts))
    exporters = snapshot["exporters"]
    lines.append(
        _line((f"{LEGEND} · {exporters['answering']}/{exporters['total']} exporters", "dim"))
    )
    return Panel(Group(*lines), title="emergency stops (key) · nodes as their peers see them")


def render_alerts(snapshot: dict[str, Any], room: int) -> Panel:
    source = snapshot["alerts_source"]
    if source is None:
        return Panel(_line(("Prometheus not running", "dim")), title="alerts")
    alerts = snapshot["alerts"]
    lines = [
        _line(
            (a["name"], "bold red" if a["severity"] == "critical" else "bold yellow"),
            (f" {a['where']}", ""),
        )
        for a in alerts
    ] or [_line(("none firing", "dim"))]
    if len(lines) > room:
        lines = [*lines[: room - 1], _line((f"… and {len(alerts) - room + 1} more", "dim"))]
    return Panel(Group(*lines), title=f"alerts ({source})")


class PanelApp(App[None]):
    CSS = """
    Screen { layout: vertical; overflow: hidden; }
    #lcds { height: 4; }
    #lcds Static { width: 1fr; max-width: 40; }
    #board { height: auto; }
    #alerts { height: 1fr; min-height: 3; overflow: hidden; }
    #status { height: 1; color: yellow; }
    """
    BINDINGS = [
        Binding("q", "quit", "quit"),
        Binding("ctrl+c", "quit", "quit", show=False, priority=True),
        # priority: the screen's own tab (focus next) would shadow it otherwise
        Binding("tab", "next_writer", "next keypad", priority=True),
        Binding("left", "key('left')", "LEFT", show=False),
        Binding("right", "key('right')", "RIGHT", show=False),
        Binding("up", "key('up')", "UP", show=False),
        Binding("down", "key('down')", "DOWN", show=False),
        Binding("enter", "key('select')", "SELECT"),
        Binding("h", "hold_select", "hold SELECT"),
        Binding("escape", "key('cancel')", "cancel menu"),
    ]

    def __init__(
        self, poller: Poller, sources: Sources, events: Callable[[], tuple[int, str]] | None = None
    ) -> None:
        super().__init__()
        self.poller = poller
        self.sources = sources
        # the demo's supervisor: (lines so far, the newest) about crashed and restarted services
        self.events = events or (lambda: (0, ""))
        self.events_seen = self.events()[0]
        self.active = 0
        self.keys: list[StopKey] = []
        self.expecting: tuple[str, bool] | None = None  # (target, on) the status line reports
        self.status = ""

    def compose(self) -> ComposeResult:
        with Horizontal(id="lcds"):
            yield Static(id="lcd0")
            yield Static(id="lcd1")
        yield Static(id="board")
        yield Static(id="alerts")
        yield Static(id="status")
        yield Footer()

    async def on_mount(self) -> None:
        self.title = f"rackpanel — {self.poller.info.inv.cluster.name}"
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, self.exit)
        self.keys = stop_keys(self.poller.info.inv)
        for key in self.keys:
            self.bind(key.key, f"toggle('{key.target}')", show=False)
        self.query_one("#status", Static).update("reading the services…")
        self.run_worker(self.follow(), exclusive=True)

    async def on_unmount(self) -> None:
        await self.poller.stop()
        await self.sources.close()

    async def follow(self) -> None:
        await self.poller.start()
        self.redraw()
        seen = self.poller.version
        while True:
            await self.poller.changed(seen, 1.0)
            seen = self.poller.version
            self.redraw()

    def on_resize(self) -> None:
        if self.poller.snapshot:
            self.redraw()

    # ---- drawing ---------------------------------------------------------------------------
    def _on(self, target: str) -> bool | None:
        s = self.poller.snapshot
        for item in [r for dc in s["datacenters"] for r in dc["racks"]] + s["dc_links"]:
            if item["target"] == target:
                return item["on"] if "on" in item else item["up"]
        return None

    def redraw(self) -> None:
        s = self.poller.snapshot
        if not s:
            return
        writers = s["writers"]
        for i, widget in enumerate(self.query("#lcds Static").results(Static)):
            if i < len(writers):
                widget.update(render_lcd(writers[i], i == self.active))
        self.query_one("#board", Static).update(render_board(s, self.keys))
        alerts = self.query_one("#alerts", Static)
        alerts.update(render_alerts(s, max(1, alerts.size.height - 2)))
        if self.expecting is not None and self._on(self.expecting[0]) != self.expecting[1]:
            self.expecting, self.status = None, ""  # changed since (e.g. from the CLI)
        total, newest = self.events()
        if total > self.events_seen:  # a service crashed or came back: say so
            self.events_seen, self.expecting, self.status = total, None, newest
        self.query_one("#status", Static).update(Text(self.status, no_wrap=True))

    def say(self, text: str) -> None:
        self.status = text
        self.redraw()

    # ---- actions ---------------------------------------------------------------------------
    async def action_toggle(self, target: str) -> None:
        on = self._on(target)
        action = "on" if on is False else "off"
        try:
            await self.sources.power(action, target)
        except ActionFailed as exc:
            self.expecting = None
            self.say(f"power {action} {target} failed: {exc}")
            return
        await self.poller.refresh()
        self.expecting = (target, action == "on")
        self.say(f"{'cut' if action == 'off' else 'restored'}: {target}")

    def action_next_writer(self) -> None:
        writers = self.poller.snapshot.get("writers", [])
        if writers:
            self.active = (self.active + 1) % len(writers)
            self.say(f"keypad: {writers[self.active]['name']}")

    async def action_key(self, button: str, hold: float | None = None) -> None:
        writers = self.poller.snapshot.get("writers", [])
        if not writers:
            return
        name = writers[self.active]["name"]
        try:
            await self.sources.press(name, button, hold)
        except ActionFailed as exc:
            self.say(f"{name} {button} failed: {exc}")
            return
        await self.poller.refresh()

    async def action_hold_select(self) -> None:
        await self.action_key("select", hold=HOLD_SECONDS)


def run_panel(
    poller: Poller, sources: Sources, events: Callable[[], tuple[int, str]] | None = None
) -> None:
    PanelApp(poller, sources, events).run()

"""The terminal panel (issue 15's defects), driven by Textual's pilot at 80x24 against a real
headless demo: real simulator, exporters and writers over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest
from rackpanel.simulator.cluster.admin_client import AdminClient
from rich.console import Console

from rackpanel.demo.panel import PanelApp, render_alerts
from rackpanel.panel.app import panel_parts
from rackpanel.panel.sources import describe_alert
from rackpanel.panel.stacks import Monitoring
from tests.support.demo import get_json, running_demo
from tests.support.lab import loopback_octet

pytestmark = pytest.mark.slow
SIZE = (80, 24)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    with running_demo(
        tmp_path_factory.mktemp("tui"), loopback_octet(), "--no-prometheus", "--no-web"
    ) as running:
        yield running


@pytest.fixture
def admin(demo):
    client = AdminClient(demo.inventory.simulator.admin_address)
    client.reset()
    return client


def lcd(demo, index: int) -> dict:  # type: ignore[type-arg]
    return get_json(demo.urls("writer")[index])  # type: ignore[return-value]


async def until(check: Callable[[], object], timeout: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def text_of(app: PanelApp, selector: str) -> str:
    """What a widget shows, as plain text at its own width."""
    widget = app.query_one(selector)
    console = Console(width=widget.size.width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(widget.content)
    return console.export_text()


def on_panel(demo, scenario: Callable[[PanelApp, object], Awaitable[None]], events=None) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        app = PanelApp(*panel_parts(demo.inventory, "sim", Monitoring("", "", "")), events)
        async with app.run_test(size=SIZE) as pilot:
            await until(lambda: app.poller.snapshot, what="the first snapshot")
            await pilot.pause()
            await scenario(app, pilot)

    asyncio.run(main())


def test_tab_picks_the_dc2_keypad_and_escape_cancels_its_menu(demo, admin):
    """Defect 1: the screen's own tab binding shadowed the panel's; defect 7: no Escape."""

    async def scenario(app, pilot):  # type: ignore[no-untyped-def]
        tab = app.active_bindings["tab"].binding  # what the footer lists and the key runs
        assert (tab.action, tab.show) == ("next_writer", True)
        await pilot.press("tab")
        assert app.active == 1
        await pilot.press("h")  # hold SELECT: the DC2 writer's menu opens, not DC1's
        await until(lambda: lcd(demo, 1)["menu"] == "write", 5, "the DC2 writer's menu")
        assert lcd(demo, 0)["menu"] is None
        await pilot.press("right")
        await pilot.press("escape")
        await until(lambda: lcd(demo, 1)["menu"] is None, 5, "Escape to close the menu")
        assert lcd(demo, 1)["write_cl"] == "LOCAL_ONE"  # nothing applied

    on_panel(demo, scenario)


def test_the_link_key_cuts_and_restores_the_dc_link(demo, admin):
    """Defect 2: the panel read the wrong keys of /state, so [0] always showed ON and cut."""

    def link_up() -> bool:
        return admin.state()["links"][0]["up"]

    async def scenario(app, pilot):  # type: ignore[no-untyped-def]
        assert "[0] UP" in text_of(app, "#board")
        await pilot.press("0")
        await until(lambda: not link_up(), 5, "key 0 to cut the link")
        await until(lambda: "[0] CUT" in text_of(app, "#board"), 5, "the board to show it cut")
        await pilot.press("0")
        await until(link_up, 5, "key 0 again to restore the link")
        await until(lambda: "[0] UP" in text_of(app, "#board"), 5, "the board to show it up")

    on_panel(demo, scenario)


def test_a_partition_shows_how_each_dc_sees_the_other(demo, admin):
    """Defect 3: a cut DC link left the map green."""

    async def scenario(app, pilot):  # type: ignore[no-untyped-def]
        admin.power("off", "link:DC1-DC2")
        await until(
            lambda: (
                "DC1 sees DC2 DOWN" in text_of(app, "#board")
                and "DC2 sees DC1 DOWN" in text_of(app, "#board")
            ),
            30,
            "the failure detectors to convict across the cut link",
        )
        board = text_of(app, "#board")
        assert board.count("◐ rpi") == len(list(demo.inventory.nodes())), board

    on_panel(demo, scenario)


def test_status_line_forgets_a_cut_undone_from_the_cli_and_a_crash_is_no_power_cut(demo, admin):
    """Defect 7: the status line kept 'power off DC1/RAC3' after power came back from the CLI,
    and a crashed node was labelled (off)."""

    async def scenario(app, pilot):  # type: ignore[no-untyped-def]
        await pilot.press("3")
        await until(lambda: "DC1/RAC3" in text_of(app, "#status"), 5, "the status line")
        admin.power("on", "DC1/RAC3")  # as `rackpanel power on DC1/RAC3` does
        await until(lambda: "DC1/RAC3" not in text_of(app, "#status"), 5, "the status to clear")
        admin.power("off", "rpidc2r1n3", crash=True)
        await until(lambda: "⊘ rpidc2r1n3" in text_of(app, "#board"), 5, "the crash mark")
        assert "○ rpidc2r1n3" not in text_of(app, "#board")

    on_panel(demo, scenario)


def test_at_80x24_nothing_wraps_or_pushes_the_footer_even_with_many_alerts(demo, admin):
    """Defect 6: the map wrapped (a mark beside the wrong node) and alerts clipped the DC2 LCD
    and the footer."""

    async def scenario(app, pilot):  # type: ignore[no-untyped-def]
        admin.power("off", "DC1/RAC1")
        await until(lambda: "○ rpidc1r1n1 ○ rpidc1r1n2" in text_of(app, "#board"), 5, "cut")
        board = text_of(app, "#board").splitlines()
        for place in demo.inventory.nodes():
            row = next(line for line in board if place.name in line)
            assert f"{place.dc}/{place.rack}" in row, (place.name, row)
        many = [
            {"name": f"CassandraNodeDown{i}", "severity": "warning", "where": "x", "summary": ""}
            for i in range(30)
        ]
        await app.poller.stop()  # hold this snapshot: thirty alerts firing
        app.poller.snapshot = {**app.poller.snapshot, "alerts": many, "alerts_source": "test"}
        app.redraw()
        await pilot.pause()
        regions = {w: app.query_one(w).region for w in ("#lcds", "#board", "#alerts", "Footer")}
        assert regions["#lcds"].y == 0 and regions["#lcds"].height == 4
        assert regions["Footer"].bottom == SIZE[1]
        assert regions["#alerts"].bottom <= regions["Footer"].y - 1  # the status line between
        assert "… and" in text_of(app, "#alerts")

    on_panel(demo, scenario)


def test_writer_alerts_name_the_writer_and_the_cl():
    """Defect 7: LcdWriterWritesFailing showed without its writer and CL."""
    labels = {
        "alertname": "LcdWriterWritesFailing",
        "job": "lcd_writer",
        "node": "rpidc1user",
        "dc": "DC1",
        "cl": "ALL",
        "operation": "write",
        "severity": "warning",
    }
    alert = describe_alert(labels, {})
    assert alert["where"] == "writer rpidc1user (DC1) at ALL"
    partition = describe_alert(
        {"alertname": "CassandraDatacenterPartitioned", "endpoint_dc": "DC2", "observer_dc": "DC1"},
        {},
    )
    assert partition["where"] == "DC2 as seen from DC1"
    panel = render_alerts({"alerts_source": "Alertmanager", "alerts": [alert]}, 5)
    console = Console(width=78, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(panel)
    assert "LcdWriterWritesFailing writer rpidc1user (DC1) at ALL" in console.export_text()


def test_a_crashed_service_of_the_demo_shows_on_the_status_line(demo, admin, tmp_path):
    """The supervisor restarts a crashed writer or exporter; the panel says so."""
    import sys

    from rackpanel.demo.supervisor import Service, Supervisor

    supervisor = Supervisor(tmp_path / "logs")
    crashing = Service(
        "writer-rpidc9user", "writer", [sys.executable, "-c", "raise SystemExit(3)"], ""
    )
    running = supervisor.start(crashing)
    running.process.wait(timeout=30)

    async def scenario(app, pilot):  # type: ignore[no-untyped-def]
        supervisor.check()  # what the demo's watch thread does every second
        await until(
            lambda: "writer-rpidc9user exited with status 3" in text_of(app, "#status"),
            5,
            "the crash on the status line",
        )

    try:
        on_panel(demo, scenario, supervisor.latest_event)
    finally:
        supervisor.stop()

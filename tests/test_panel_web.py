"""The web panel in a real headless Chromium, against a real `rackpanel demo` (issue 15).

Click a rack's emergency stop → the simulator cuts it and the page shows it off within 2 s;
long-press SELECT and pick ALL → the writer's own ``/lcd`` says ALL; the page fits a desktop
and a phone without overflow; the screenshots the README shows are written to docs/img.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.browser import DESKTOP, PHONE, chromium, full_page_screenshot, overflow, viewport
from tests.support.demo import get, get_json, running_demo
from tests.support.lab import loopback_octet
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent
SHOTS = REPO / "docs" / "img"
STOP_SHOWN_WITHIN = 2.0


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    with running_demo(tmp_path_factory.mktemp("web"), loopback_octet()) as running:
        yield running


@pytest.fixture(scope="module")
def page(demo):
    from selenium.webdriver.common.by import By

    with chromium() as driver:
        viewport(driver, DESKTOP)
        driver.get(demo.url("web-panel"))
        wait_for(
            lambda: driver.find_elements(By.CSS_SELECTOR, ".node[data-state='up']"),
            20,
            what="the page to show live nodes",
        )
        yield driver


def css(driver, selector: str):  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def lcd_text(driver, writer: str) -> str:  # type: ignore[no-untyped-def]
    return css(driver, f".client[data-writer='{writer}'] .lcd").text


def test_page_is_served_with_its_assets_and_no_cdn(demo):
    html = get(demo.url("web-panel")).decode()
    assert "static/panel.js" in html and "static/panel.css" in html
    assert "http" not in html.split("<body>")[0].replace("http-equiv", "")  # nothing remote
    for asset in ("static/panel.js", "static/panel.css"):
        assert get(demo.url("web-panel") + asset)


def test_clicking_a_rack_stop_cuts_it_and_the_page_shows_it_off_within_2_s(demo, page):
    stop = css(page, ".rack[data-rack='DC1/RAC2'] .stop")
    assert stop.get_attribute("data-on") == "true"
    clicked = time.monotonic()
    stop.click()

    def cut_in_simulator() -> bool:
        nodes = get_json(f"{demo.admin}/state")["nodes"]  # type: ignore[index]
        return all(not n["powered"] for n in nodes if (n["dc"], n["rack"]) == ("DC1", "RAC2"))

    def shown_off() -> bool:
        rack = css(page, ".rack[data-rack='DC1/RAC2']")
        states = {
            n.get_attribute("data-state") for n in rack.find_elements("css selector", ".node")
        }
        return rack.get_attribute("data-on") == "false" and states == {"off"}

    try:
        wait_for(shown_off, 10, interval=0.05, what="the page to show DC1/RAC2 off")
    except AssertionError as exc:  # say what the page said (e.g. the simulator refusing)
        message = css(page, "#message").text
        live = css(page, "#live").text
        raise AssertionError(f"{exc}; page message {message!r}, stream {live!r}") from None
    shown = time.monotonic() - clicked
    assert cut_in_simulator()
    print(f"stop clicked → page shows the rack off in {shown:.2f} s")
    assert shown <= STOP_SHOWN_WITHIN
    assert "OFF" in stop.text


def test_long_press_select_and_pick_all_sets_the_writers_cl(demo, page):
    from selenium.webdriver.common.action_chains import ActionChains

    writer = demo.inventory.writers[0].name
    card = f".client[data-writer='{writer}']"
    ActionChains(page).click_and_hold(css(page, f"{card} .key.select")).pause(
        2.4
    ).release().perform()
    wait_for(lambda: "CL WRITE" in lcd_text(page, writer), 5, what="the CL menu on the page's LCD")
    for _ in range(12):
        if "< ALL >" in lcd_text(page, writer):
            break
        before = lcd_text(page, writer)
        css(page, f"{card} .key.right").click()
        wait_for(
            lambda shown=before: lcd_text(page, writer) != shown, 3, interval=0.05, what="RIGHT"
        )
    assert "< ALL >" in lcd_text(page, writer)
    css(page, f"{card} .key.select").click()
    writer_lcd = dict(
        zip([w.name for w in demo.inventory.writer_places()], demo.urls("writer"), strict=True)
    )[writer]
    wait_for(lambda: get_json(writer_lcd)["write_cl"] == "ALL", 5, what="the writer at ALL")
    wait_for(lambda: "write ALL" in css(page, f"{card} .cls").text, 3, what="the page at ALL")


def test_the_keyboard_long_presses_select_too(demo, page):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    writer = demo.inventory.writers[1].name
    lcd_url = dict(
        zip([w.name for w in demo.inventory.writer_places()], demo.urls("writer"), strict=True)
    )[writer]
    select = css(page, f".client[data-writer='{writer}'] .key.select")
    select.send_keys("")  # focus it
    ActionChains(page).key_down(Keys.ENTER).pause(2.4).key_up(Keys.ENTER).perform()
    wait_for(lambda: get_json(lcd_url)["menu"] == "write", 5, what="the menu from the keyboard")
    ActionChains(page).key_down(Keys.ENTER).key_up(Keys.ENTER).perform()  # a tap applies
    wait_for(lambda: get_json(lcd_url)["menu"] is None, 5, what="a short Enter to close it")


@pytest.mark.parametrize(("size", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_the_page_fits_desktop_and_phone_and_is_screenshotted(demo, page, size, name):
    viewport(page, size)
    time.sleep(0.5)  # layout after the resize
    fit = overflow(page)
    assert fit["scroll"] == fit["client"] == size[0], fit
    assert fit["wide"] == [], fit
    # every LCD shows its 16 columns in full
    for lcd in page.find_elements("css selector", ".lcd"):
        assert lcd.size["width"] <= size[0]
    if demo.urls("prometheus"):
        wait_for(
            lambda: page.find_elements("css selector", "[data-alert='CassandraRackDown']"),
            30,
            what="CassandraRackDown on the page",
        )
    full_page_screenshot(page, SHOTS / f"web-panel-{name}.png", size)


def test_each_writer_shows_its_success_ratio_and_latency_from_prometheus(demo, page):
    if not demo.urls("prometheus"):
        pytest.skip("the demo runs without Prometheus here (dev.sh installs it)")
    viewport(page, DESKTOP)
    for writer in [w.name for w in demo.inventory.writer_places()]:
        card = f".client[data-writer='{writer}']"
        wait_for(
            lambda card=card: (
                css(page, f"{card} .ratio .v").text.endswith("%")
                and css(page, f"{card} .latency .v").text.endswith("ms")
            ),
            30,
            what=f"{writer}'s success ratio and latency",
        )
        ratio = float(css(page, f"{card} .ratio .v").text.removesuffix("%"))
        latency = float(css(page, f"{card} .latency .v").text.removesuffix("ms"))
        assert 0 <= ratio <= 100 and latency > 0, (writer, ratio, latency)


def _as_the_real_panel(demo, directory: Path) -> Path:  # type: ignore[no-untyped-def]
    """The demo's inventory with every host's real address set to its loopback one: the panel's
    `--stack pi` then reads the demo's services as it would read the Pis (never leaving 127/8)."""
    import yaml

    raw = yaml.safe_load(demo.inventory_path.read_text())
    sim = {p.name: str(p.sim_address) for p in demo.inventory.nodes()}
    sim |= {w.name: str(w.sim_address) for w in demo.inventory.writer_places()}
    for dc in raw["datacenters"]:
        for rack in dc["racks"]:
            for node in rack["nodes"]:
                node["address"] = sim[node["name"]]
    for writer in raw["writers"]:
        writer["address"] = sim[writer["name"]]
    raw["monitor"]["address"] = raw["monitor"]["sim_address"]
    path = directory / "inventory-as-pis.yml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def test_on_the_real_panel_the_stops_are_read_only(demo, tmp_path):
    import json
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    from rackpanel.simulator.cluster.admin_client import AdminClient

    from tests.support.lab import free_port
    from tests.support.processes import stop_process

    AdminClient(demo.inventory.simulator.admin_address).reset()  # every rack on again
    host = str(demo.inventory.monitor.sim_address)
    port = free_port(host)
    panel = subprocess.Popen(
        [sys.executable, "-m", "rackpanel", "panel", "--stack", "pi", "--listen", f"{host}:{port}",
         "--inventory", str(_as_the_real_panel(demo, tmp_path))],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://{host}:{port}"
    try:
        snapshot = wait_for(
            lambda: (
                (s := get_json(f"{base}/api/snapshot"))
                and s.get("exporters", {}).get("answering") == 9
                and s
            ),
            30,
            what="the panel reading the 'Pis'",
        )
        assert snapshot["mode"] == "pi" and snapshot["stops_enabled"] is False
        # the monitor Pi runs Grafana: its kiosk is linked (dashboards.provisioning's path)
        from rackpanel.dashboards.provisioning import KIOSK_PATH

        grafana = f"http://{host}:{demo.inventory.monitor_ports.grafana}{KIOSK_PATH}"
        assert {"label": "Grafana kiosk", "url": grafana} in snapshot["links"]
        request = urllib.request.Request(
            f"{base}/api/stop",
            data=json.dumps({"target": "DC1/RAC1", "action": "off"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 409
        assert "physical" in json.loads(refused.value.read())["error"]
        assert all(
            n["powered"]
            for n in get_json(f"{demo.admin}/state")["nodes"]
            if n["rack"] == "RAC1" and n["dc"] == "DC1"
        )  # type: ignore[index]
    finally:
        stop_process(panel)


def test_node_views_come_through_prometheus_when_exporters_are_out_of_reach(demo):
    """The compose stack publishes no exporter port: the panel reads the views from Prometheus."""
    import asyncio

    from rackpanel.panel.sources import Endpoints, Sources

    if not demo.urls("prometheus"):
        pytest.skip("Prometheus is not installed")

    async def both() -> tuple[dict, dict]:  # type: ignore[type-arg]
        exporters = {
            p.name: u for p, u in zip(demo.inventory.nodes(), demo.urls("exporter"), strict=True)
        }
        direct = Sources(Endpoints(None, {}, exporters))
        via = Sources(Endpoints(None, {}, {}, prometheus=demo.url("prometheus").rstrip("/")))
        try:
            return await direct.views(), await via.views()
        finally:
            await direct.close()
            await via.close()

    def agree() -> bool:
        direct, via = asyncio.run(both())
        return bool(via) and direct == via

    wait_for(agree, 30, interval=1, what="the views through Prometheus to match the exporters'")

"""The README's short tour, followed literally: the terminal panel under tmux at 80x24 and the
web panel in a real Chromium, on the demo with Prometheus and Alertmanager; a rack cut and its
alert, the CL menu, a DC-link partition and its alert. It measures the times the tour claims
(printed; the README quotes them) and writes the web panel screenshot of the partition."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from rackpanel.topology import load_inventory

from rackpanel.demo.ports import is_free
from tests.support.binaries import require_binary
from tests.support.browser import DESKTOP, chromium, full_page_screenshot, viewport
from tests.support.demo import demo_inventory, get_json
from tests.support.lab import loopback_octet
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()


class Tmux:
    def __init__(self, binary: str, session: str) -> None:
        self.binary, self.session = binary, session

    def start(self, command: str) -> None:
        subprocess.run(
            [self.binary, "new-session", "-d", "-s", self.session, "-x", "80", "-y", "24", command],
            check=True,
        )

    def screen(self) -> str:
        return subprocess.run(
            [self.binary, "capture-pane", "-p", "-t", self.session], capture_output=True, text=True
        ).stdout

    def keys(self, *keys: str) -> None:
        subprocess.run([self.binary, "send-keys", "-t", self.session, *keys], check=True)

    def kill(self) -> None:
        subprocess.run([self.binary, "kill-session", "-t", self.session], capture_output=True)


def since(start: float) -> float:
    return round(time.monotonic() - start, 1)


def test_the_readme_tour(tmp_path):
    tmux = Tmux(require_binary("tmux"), f"rackpanel-tour-{os.getpid()}")
    require_binary("prometheus")
    require_binary("prometheus-alertmanager")
    from selenium.webdriver.common.by import By

    inventory = demo_inventory(tmp_path, loopback_octet())
    inv = load_inventory(inventory)
    run_dir = tmp_path / "run"
    measured: dict[str, float] = {}
    # 1. `./dev.sh demo` sets up, then runs `rackpanel demo`: the same command, on a lab range
    assert "./dev.sh demo" in README and "http://127.0.0.1:8080/" in README
    tmux.start(
        f"cd {REPO} && {sys.executable} -m rackpanel demo --inventory {inventory} "
        f"--run-dir {run_dir}"
    )
    try:
        wait_for(
            lambda: "emergency stops" in tmux.screen() and "exporters" in tmux.screen(),
            120,
            what="the terminal panel",
        )
        services = json.loads((run_dir / "endpoints.json").read_text())["services"]
        url = {s["kind"]: s["url"] for s in services}
        # the tour's Prometheus alerts page is the one Debian's Prometheus serves
        assert "/classic/alerts" in README
        with urllib.request.urlopen(url["prometheus"] + "classic/alerts", timeout=5) as answer:
            assert answer.status == 200
        with chromium() as page:
            viewport(page, DESKTOP)
            page.get(url["web-panel"])
            wait_for(lambda: page.find_elements(By.CSS_SELECTOR, ".node"), 20, what="the page")
            wait_for(lambda: "9/9 exporters" in tmux.screen(), 30, what="every exporter answering")

            # 2. Cut a rack: press `1`
            assert "press `1`" in README
            cut = time.monotonic()
            tmux.keys("1")
            wait_for(lambda: "OFF DC1/RAC1" in tmux.screen(), 10, what="the stop OFF")
            measured["stop shown (terminal)"] = since(cut)
            rack = page.find_element(By.CSS_SELECTOR, ".rack[data-rack='DC1/RAC1']")
            wait_for(lambda: rack.get_attribute("data-on") == "false", 5, what="the page")
            measured["stop shown (web)"] = since(cut)
            survivor = next(s["url"] for s in services if s["name"] == "exporter-rpidc1r2n1")
            cut_address = str(inv.node("rpidc1r1n1").sim_address)

            def convicted() -> bool:
                from prometheus_client.parser import text_string_to_metric_families

                page_text = urllib.request.urlopen(survivor, timeout=2).read().decode()
                for family in text_string_to_metric_families(page_text):
                    for sample in family.samples:
                        if (
                            family.name == "cassandra_endpoint_up"
                            and sample.labels["endpoint"] == cut_address
                        ):
                            return sample.value == 0
                return False

            wait_for(convicted, 30, interval=0.1, what="the peers to convict the rack")
            measured["peers convict the rack"] = since(cut)
            wait_for(
                lambda: "CassandraRackDown DC1/RAC1" in tmux.screen(), 60, what="CassandraRackDown"
            )
            measured["CassandraRackDown on the panel"] = since(cut)
            # LOCAL_ONE keeps writing through a live DC1 coordinator (a write sent to a cut one
            # before the driver noticed may have shown CLIENT TIMEOUT once, as on a real cluster)
            wait_for(
                lambda: re.search(r"│\s+DC1 R[23] N\d+ \d+ms", tmux.screen().splitlines()[2]),
                15,
                what="the DC1 LCD succeeding through a live rack",
            )

            # 3. Change the CL: `h` holds SELECT, `→` browses, Enter applies: ALL fails
            tmux.keys("h")
            wait_for(lambda: "CL WRITE" in tmux.screen(), 10, what="the CL menu")

            # Step by the menu's own line, not the whole screen: the other LCD keeps changing,
            # and a press sent before the last one showed would step past ALL.
            def choice(text: str) -> str | None:
                found = re.search(r"<\s*([A-Z_]+)\s*>", text)
                return found.group(1) if found else None

            for _ in range(15):
                shown = choice(tmux.screen())
                if shown == "ALL":
                    break
                tmux.keys("Right")
                wait_for(lambda was=shown: choice(tmux.screen()) != was, 5, what="→")
            assert choice(tmux.screen()) == "ALL", tmux.screen()
            tmux.keys("Enter")
            chosen = time.monotonic()
            wait_for(lambda: "W ALL" in tmux.screen(), 10, what="ALL applied")
            wait_for(lambda: "UNAVAILABLE" in tmux.screen(), 30, what="ALL: Unavailable")
            measured["ALL shows Unavailable"] = since(chosen)
            # back to LOCAL_ONE for the rest of the tour (the browser's keypad this time)
            writer = inv.writers[0].name
            writer_lcd = next(s["url"] for s in services if s["name"] == f"writer-{writer}")
            card = f".client[data-writer='{writer}']"
            select = page.find_element(By.CSS_SELECTOR, f"{card} .key.select")
            from selenium.webdriver.common.action_chains import ActionChains

            # The writer's own state is the truth; a click that lands while the page has its
            # keys disabled for a moment (a snapshot that missed the writer) is clicked again.
            def lcd_shows(text: str) -> bool:
                return text in page.find_element(By.CSS_SELECTOR, f"{card} .lcd").text

            def writer_menu() -> tuple[str | None, str | None, str]:
                lcd = get_json(writer_lcd)
                return lcd["menu"], choice(" ".join(lcd["lines"])), lcd["write_cl"]

            def click(key) -> None:
                wait_for(key.is_enabled, 10, what="the page's keypad enabled")
                key.click()

            for _ in range(3):  # hold SELECT until the write-CL menu is open
                wait_for(select.is_enabled, 10, what="the page's keypad enabled")
                ActionChains(page).click_and_hold(select).pause(2.4).release().perform()
                with contextlib.suppress(AssertionError):
                    wait_for(lambda: writer_menu()[0] == "write", 3, what="the menu open")
                    break
            right = page.find_element(By.CSS_SELECTOR, f"{card} .key.right")
            for _ in range(30):
                shown = writer_menu()[1]
                if shown == "LOCAL_ONE":
                    break
                click(right)
                with contextlib.suppress(AssertionError):
                    wait_for(lambda was=shown: writer_menu()[1] != was, 3, what="→ on the page")
            assert writer_menu()[:2] == ("write", "LOCAL_ONE"), get_json(writer_lcd)
            wait_for(lambda: lcd_shows("< LOCAL_ONE >"), 10, what="the page's LCD")
            for _ in range(3):
                if writer_menu()[0] is None:
                    break
                click(select)
                with contextlib.suppress(AssertionError):
                    wait_for(lambda: writer_menu()[0] is None, 3, what="the menu closed")
            assert writer_menu() == (None, None, "LOCAL_ONE"), get_json(writer_lcd)

            # Press `1` again to bring it back
            tmux.keys("1")
            restored = time.monotonic()
            wait_for(lambda: "ON  DC1/RAC1" in tmux.screen(), 10, what="the stop ON")
            wait_for(
                lambda: "CassandraRackDown" not in tmux.screen(), 60, what="the alert resolved"
            )
            measured["CassandraRackDown resolved"] = since(restored)

            # A partition between the DCs: `0` cuts the DC link
            assert "`0`" in README and "CassandraDatacenterPartitioned" in README
            wait_for(lambda: "none firing" in tmux.screen(), 60, what="a quiet panel")
            parted = time.monotonic()
            tmux.keys("0")
            wait_for(
                lambda: (
                    "DC1 sees DC2 DOWN" in tmux.screen() and "DC2 sees DC1 DOWN" in tmux.screen()
                ),
                30,
                what="each DC to see the other down",
            )
            measured["each DC sees the other down"] = since(parted)
            wait_for(
                lambda: "CassandraDatacenterPartitioned" in tmux.screen(),
                60,
                what="CassandraDatacenterPartitioned on the terminal panel",
            )
            measured["CassandraDatacenterPartitioned on the panel"] = since(parted)
            assert "CassandraDatacenterUnavailable" not in tmux.screen()
            wait_for(
                lambda: (
                    page.find_elements(
                        By.CSS_SELECTOR, "[data-alert='CassandraDatacenterPartitioned']"
                    )
                    and len(page.find_elements(By.CSS_SELECTOR, ".node[data-state='partitioned']"))
                    == 9
                ),
                10,
                what="the web panel to show the partition",
            )
            full_page_screenshot(page, REPO / "docs" / "img" / "web-panel-partition.png", DESKTOP)
            (REPO / "docs" / "img" / "terminal-panel-partition.txt").write_text(tmux.screen())
            tmux.keys("0")
            wait_for(lambda: "[0] UP" in tmux.screen(), 10, what="the link restored")

        # `q` stops everything the demo started
        tmux.keys("q")
        wait_for(
            lambda: all(is_free(str(p.sim_address), inv.ports.cql) for p in inv.nodes()),
            60,
            what="q to stop every service",
        )
    finally:
        tmux.kill()
        print("tour timings (s):", json.dumps(measured))

"""LCD writer pieces that need no cluster: keypad, CL menu, LCD screens, options, HTTP, metrics."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
import yaml
from cassandra import OperationTimedOut, Unavailable, WriteTimeout
from cassandra.cluster import NoHostAvailable
from prometheus_client.parser import text_string_to_metric_families
from rackpanel.deploy.render.services import writer_config
from rackpanel.lcd_writer.cli import add_arguments as add_writer_arguments
from rackpanel.lcd_writer.consistency import OFFERED, SERIAL_LEVELS, check_level
from rackpanel.lcd_writer.http_api import WriterHttp
from rackpanel.lcd_writer.keypad import Button, ButtonPoller, Press
from rackpanel.lcd_writer.menu import CLMenu
from rackpanel.lcd_writer.metrics import WriterMetrics
from rackpanel.lcd_writer.options import WriterSettings, from_args
from rackpanel.lcd_writer.outcome import Coordinator, Outcome, classify
from rackpanel.lcd_writer.plates import PlateView
from rackpanel.lcd_writer.scheduler import run_paced
from rackpanel.lcd_writer.screen import RED, WHITE, dual_screen, lcd_text, screen
from rackpanel.settings import ConfigError, load, load_args

from tests.support.binaries import require_binary
from tests.support.lab import loopback_octet
from tests.support.memory_plate import MemoryPlate


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# ---- keypad and menu ------------------------------------------------------------------------
def test_poller_reports_arrows_on_press_and_select_as_long_or_short():
    clock = Clock()
    poller = ButtonPoller(2.0, clock)
    assert poller.sample([Button.RIGHT]) == [Press(Button.RIGHT)]
    assert poller.sample([Button.RIGHT]) == []  # still down: no repeat
    assert poller.sample([]) == []
    assert poller.sample([Button.SELECT]) == []
    clock.now += 2.5
    assert poller.sample([Button.SELECT]) == [Press(Button.SELECT, 2.5)]  # long, while held
    clock.now += 1
    assert poller.sample([]) == []  # its release reports nothing more
    poller.sample([Button.SELECT])
    clock.now += 0.3
    [short] = poller.sample([])
    assert short.button is Button.SELECT and short.held == pytest.approx(0.3)


def test_menu_opens_on_long_select_cycles_switches_and_applies():
    clock = Clock()
    menu = CLMenu("LOCAL_ONE", "ONE", hold_seconds=2, clock=clock)
    changes: list[tuple[str, str]] = []
    menu.add_listener(lambda op, cl: changes.append((op, cl)))
    assert changes == [("write", "LOCAL_ONE"), ("read", "ONE")]
    assert menu.press(Press(Button.SELECT, 0.5)).menu is None  # a short press does nothing
    assert menu.press(Press(Button.RIGHT)).menu is None  # nor do arrows outside the menu
    state = menu.press(Press(Button.SELECT, 2.0))
    assert (state.menu, state.candidate) == ("write", "LOCAL_ONE")
    assert menu.press(Press(Button.RIGHT)).candidate == "LOCAL_QUORUM"
    assert menu.press(Press(Button.LEFT)).candidate == "LOCAL_ONE"
    assert menu.press(Press(Button.LEFT)).candidate == "ALL"
    assert menu.selected("write") == "LOCAL_ONE"  # nothing applied before SELECT
    state = menu.press(Press(Button.SELECT))
    assert (state.menu, state.write_cl) == (None, "ALL")
    assert changes[-1] == ("write", "ALL")
    menu.press(Press(Button.SELECT, 3))
    state = menu.press(Press(Button.DOWN))
    assert (state.menu, state.candidate) == ("read", "ONE")
    state = menu.press(Press(Button.LEFT))
    assert state.candidate == "EACH_QUORUM"  # wraps around
    assert menu.press(Press(Button.SELECT)).read_cl == "EACH_QUORUM"
    assert changes[-1] == ("read", "EACH_QUORUM")


def test_up_then_down_keeps_where_each_menu_was_browsed_to():
    """Issue 15: switching to the read menu and back reset the write menu's position."""
    menu = CLMenu("LOCAL_ONE", "ONE", hold_seconds=2)
    menu.press(Press(Button.SELECT, 2))
    menu.press(Press(Button.RIGHT))
    assert menu.press(Press(Button.RIGHT)).candidate == "EACH_QUORUM"
    assert menu.press(Press(Button.UP)).menu == "read"
    menu.press(Press(Button.RIGHT))
    state = menu.press(Press(Button.DOWN))
    assert (state.menu, state.candidate) == ("write", "EACH_QUORUM")
    assert menu.press(Press(Button.UP)).candidate == "TWO"  # the read menu kept its place too
    menu.press(Press(Button.SELECT))
    # once closed, a new menu starts again from the levels in use
    assert menu.press(Press(Button.SELECT, 2)).candidate == "LOCAL_ONE"


def test_cancel_closes_the_menu_unchanged():
    menu = CLMenu("LOCAL_ONE", "ONE", hold_seconds=2)
    menu.press(Press(Button.SELECT, 2))
    menu.press(Press(Button.LEFT))
    state = menu.cancel()
    assert (state.menu, state.write_cl) == (None, "LOCAL_ONE")
    assert menu.press(Press(Button.SELECT, 2)).candidate == "LOCAL_ONE"


def test_idle_menu_closes_without_changing_anything():
    clock = Clock()
    menu = CLMenu("ONE", "ONE", hold_seconds=2, idle_close_seconds=10, clock=clock)
    menu.press(Press(Button.SELECT, 2))
    menu.press(Press(Button.RIGHT))
    clock.now += 11
    state = menu.state()
    assert (state.menu, state.write_cl) == (None, "ONE")


def test_conditional_writes_offer_only_serial_levels():
    menu = CLMenu("LOCAL_SERIAL", "ONE", conditional=True)
    menu.press(Press(Button.SELECT, 2))
    assert menu.press(Press(Button.RIGHT)).candidate == "SERIAL"
    assert menu.press(Press(Button.RIGHT)).candidate == "LOCAL_SERIAL"
    with pytest.raises(ValueError, match="--conditional"):
        check_level("write", "LOCAL_ONE", conditional=True)
    assert options("--conditional").write_cl == "LOCAL_SERIAL"


def test_only_sensible_levels_are_offered():
    assert "ANY" in OFFERED["write"] and "ANY" not in OFFERED["read"]
    for level in SERIAL_LEVELS:
        assert level not in OFFERED["write"] and level not in OFFERED["read"]
    with pytest.raises(ValueError, match="conditional"):
        check_level("write", "serial")
    with pytest.raises(ValueError, match="write-only"):
        check_level("read", "ANY")
    assert check_level("write", "local_quorum") == "LOCAL_QUORUM"


# ---- what the LCD shows ---------------------------------------------------------------------
COLORS = {"DC1": (0, 1, 0), "DC2": (0, 0, 1)}
DC2_NODE = Coordinator("127.0.21.3", "DC2", "RAC1")


def test_screens_for_success_errors_and_menu():
    menu = CLMenu("LOCAL_QUORUM", "ONE")
    ok = Outcome("write", "LOCAL_QUORUM", "success", 0.0123, DC2_NODE)
    shown = screen(menu.state(), ok, COLORS)
    assert shown.lines == ("W LOCAL_QUORUM  ", "DC2 R1 N3 12ms  ")
    assert shown.color == (0, 0, 1)
    unavailable = Outcome("write", "LOCAL_QUORUM", "unavailable", 0.002, DC2_NODE, "2/1")
    shown = screen(menu.state(), unavailable, COLORS)
    assert shown.lines[1] == "UNAVAILABLE 2/1 " and shown.color == RED
    timeout = Outcome("read", "QUORUM", "client_timeout", 0.5)
    assert screen(menu.state(), timeout, COLORS).lines == ("R QUORUM        ", "CLIENT TIMEOUT  ")
    stale = Outcome("read", "ONE", "success", 0.001, DC2_NODE, stale=True)
    assert screen(menu.state(), stale, COLORS).lines[1].startswith("STALE DC2 R1 N3")
    menu.press(Press(Button.SELECT, 5))
    shown = screen(menu.state(), ok, COLORS)
    assert shown.lines == ("  - CL WRITE -  ", "< LOCAL_QUORUM >") and shown.color == WHITE


def test_lcd_text_is_16_plain_ascii_characters():
    assert lcd_text("a\\b~cé" + "x" * 20) == "a?b?c?" + "x" * 10
    assert len(lcd_text("")) == 16


def test_plate_view_rewrites_only_what_changed():
    plate = MemoryPlate()
    view = PlateView(plate)
    menu = CLMenu("ONE", "ONE")
    first = Outcome("write", "ONE", "success", 0.001, DC2_NODE)
    view.show(screen(menu.state(), first, COLORS))
    view.show(screen(menu.state(), first, COLORS))
    assert (plate.line_writes, plate.color_writes) == (2, 1)
    view.show(screen(menu.state(), Outcome("write", "ONE", "success", 0.002, DC2_NODE), COLORS))
    assert (plate.line_writes, plate.color_writes) == (3, 1)
    assert plate.lines[1].startswith("DC2 R1 N3 2ms")


def test_driver_errors_map_to_the_metric_outcomes():
    assert classify(Unavailable("x", consistency=6, required_replicas=2, alive_replicas=1)) == (
        "unavailable",
        "2/1",
    )
    assert classify(
        WriteTimeout("x", consistency=1, received_responses=1, required_responses=2, write_type=0)
    )[0] == ("write_timeout")
    assert classify(OperationTimedOut())[0] == "client_timeout"
    assert classify(NoHostAvailable("none", {}))[0] == "no_host"
    assert classify(RuntimeError("boom")) == ("error", "RuntimeError")


# ---- options --------------------------------------------------------------------------------
def writer_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rackpanel writer")
    add_writer_arguments(parser)
    return parser


def options(*argv: str):
    base = ["--local-dc", "DC1", "--contact-points", "127.0.11.1,127.0.11.2:9043"]
    return from_args(load_args(WriterSettings, writer_parser().parse_args([*base, *argv])))


def test_options_parse_lists_ports_and_colors():
    opts = options("--replication", "DC1:3,DC2:2", "--colors", "DC2=1,0,1", "--rate", "200")
    assert opts.contact_points == (("127.0.11.1", 9042), ("127.0.11.2", 9043))
    assert opts.replication == {"DC1": 3, "DC2": 2}
    assert opts.colors == {"DC1": (0, 1, 0), "DC2": (1, 0, 1)}
    assert opts.is_rate_mode and opts.request_timeout == 0.5 and opts.listen == ("0.0.0.0", 9501)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--write-cl", "SERIAL"], "--write-cl: 'SERIAL' is not a write consistency level"),
        (["--read-cl", "ANY"], "--read-cl"),
        (["--replication", "DC1=3"], "--replication: 'DC1=3' is not DC:RF"),
        (["--colors", "DC1=2,0,0"], "--colors"),
        (["--listen", "localhost:x"], "--listen"),
        (["--interval", "0"], "--interval: must be > 0"),
        (["--keyspace", "Bad-Name"], "--keyspace"),
        (["--username", "cassandra"], "RACKPANEL_CQL_PASSWORD"),
    ],
)
def test_bad_options_name_the_option(argv, message, monkeypatch):
    monkeypatch.delenv("RACKPANEL_CQL_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match=message):
        options(*argv)


def test_password_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("RACKPANEL_CQL_PASSWORD", "s3cret")
    opts = options("--username", "cassandra")
    assert (opts.username, opts.password) == ("cassandra", "s3cret")


def test_bad_config_file_is_an_error_before_start(tmp_path):
    cfg = tmp_path / "writer.yml"
    cfg.write_text("local_dc: DC1\ncontact_points: [127.0.11.1]\nwrite_cl: SERIAL\n")
    run = subprocess.run(
        [sys.executable, "-m", "rackpanel", "writer", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "--write-cl: 'SERIAL'" in run.stderr
    cfg.write_text("local_dc: DC1\ncontact_point: [127.0.11.1]\n")
    run = subprocess.run(
        [sys.executable, "-m", "rackpanel", "writer", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and f"{cfg}: unknown key 'contact_point'" in run.stderr


# ---- HTTP and metrics -----------------------------------------------------------------------
@pytest.fixture
def http_menu():
    menu = CLMenu("LOCAL_ONE", "ONE")
    metrics = WriterMetrics("rpidc1user", "DC1")
    menu.add_listener(metrics.selected)

    def lcd():
        state = menu.state()
        return {"write_cl": state.write_cl, "read_cl": state.read_cl, "menu": state.menu}

    def press(p):
        menu.press(p)
        return lcd()

    def cancel():
        menu.cancel()
        return lcd()

    servers = []

    def start(keypad: bool) -> str:
        server = WriterHttp(
            f"127.{loopback_octet()}.0.9", 0, lcd=lcd, press=press, cancel=cancel,
            metrics=metrics.exposition,
            keypad_enabled=keypad,
        )  # fmt: skip
        server.start()
        servers.append(server)
        host, port = server.address
        return f"http://{host}:{port}"

    yield start, metrics
    for server in servers:
        server.stop()


def post(url: str) -> tuple[int, dict]:
    try:
        request = urllib.request.Request(
            url, data=b"{}", method="POST", headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_http_keypad_changes_the_cl_gauge(http_menu):
    start, _ = http_menu
    base = start(keypad=True)
    assert post(f"{base}/keypad/select?hold=2")[1]["menu"] == "write"
    post(f"{base}/keypad/right")
    status, body = post(f"{base}/keypad/select")
    assert (status, body["write_cl"], body["menu"]) == (200, "LOCAL_QUORUM", None)
    page = urllib.request.urlopen(f"{base}/metrics").read().decode()
    assert 'lcd_writer_consistency_level{cl="LOCAL_QUORUM",operation="write"} 1.0' in page
    assert 'lcd_writer_consistency_level{cl="LOCAL_ONE",operation="write"} 0.0' in page
    post(f"{base}/keypad/select?hold=2")
    post(f"{base}/keypad/right")
    status, body = post(f"{base}/keypad/cancel")  # the terminal panel's Escape
    assert (status, body["write_cl"], body["menu"]) == (200, "LOCAL_QUORUM", None)
    assert post(f"{base}/keypad/jump")[0] == 400
    assert post(f"{base}/keypad/select?hold=-1")[0] == 400


def test_http_keypad_is_off_unless_enabled(http_menu):
    start, _ = http_menu
    status, body = post(f"{start(keypad=False)}/keypad/select?hold=2")
    assert status == 403 and "--keypad-api" in body["error"]


def test_metrics_page_passes_promtool(http_menu):
    promtool = require_binary("promtool")
    _, metrics = http_menu
    metrics.record(Outcome("write", "LOCAL_ONE", "success", 0.003, DC2_NODE))
    metrics.record(Outcome("write", "LOCAL_ONE", "client_timeout", 0.5, DC2_NODE))
    metrics.hosts_up([("DC1", 0), ("DC2", 3)])
    page = metrics.exposition()
    check = subprocess.run([promtool, "check", "metrics"], input=page, capture_output=True)
    assert check.returncode == 0, check.stderr.decode() + check.stdout.decode()
    text = page.decode()
    assert 'lcd_writer_info{local_dc="DC1",writer="rpidc1user"} 1.0' in text
    assert (
        'lcd_writer_coordinator_requests_total{cl="LOCAL_ONE",coordinator="127.0.21.3",'
        'coordinator_dc="DC2",coordinator_rack="RAC1",operation="write"} 1.0'
    ) in text  # the timed-out request is not credited to a coordinator
    assert 'lcd_writer_cluster_hosts_up{host_dc="DC1"} 0.0' in text
    assert "_created" not in text


# ---- pacing ---------------------------------------------------------------------------------
def test_paced_sends_wait_for_a_free_slot_instead_of_dropping():
    stop = threading.Event()
    slots = threading.BoundedSemaphore(2)
    sent: list[float] = []
    worker = threading.Thread(
        target=run_paced,
        args=(0.001, stop, lambda t: slots.acquire(timeout=t), lambda: sent.append(1)),
    )
    worker.start()
    time.sleep(0.3)
    assert len(sent) == 2  # both slots taken, never released: no third send
    slots.release()
    time.sleep(0.1)
    assert len(sent) == 3
    stop.set()
    worker.join(timeout=2)
    assert not worker.is_alive()


def test_paced_sends_keep_the_rate():
    stop = threading.Event()
    sent: list[float] = []
    worker = threading.Thread(
        target=run_paced, args=(0.01, stop, lambda t: True, lambda: sent.append(time.monotonic()))
    )
    worker.start()
    time.sleep(0.5)
    stop.set()
    worker.join(timeout=2)
    assert 30 <= len(sent) <= 52  # 100/s for 0.5 s (a busy machine may lag a little)


def test_latency_histogram_buckets_are_cumulative_with_le_inclusive():
    metrics = WriterMetrics("w", "DC1")
    for seconds in (0.001, 0.003, 0.3, 7.0):
        metrics.record(Outcome("read", "ONE", "success", seconds, DC2_NODE))
    mine = {"operation": "read", "cl": "ONE", "outcome": "success"}
    samples = {
        (sample.name, sample.labels.get("le")): sample.value
        for family in text_string_to_metric_families(metrics.exposition().decode())
        for sample in family.samples
        if family.name == "lcd_writer_request_duration_seconds"
        and mine.items() <= sample.labels.items()
    }
    bucket = "lcd_writer_request_duration_seconds_bucket"
    expected = {"0.001": 1, "0.005": 2, "0.25": 2, "0.5": 3, "5.0": 3, "+Inf": 4}
    assert {le: samples[(bucket, le)] for le in expected} == expected
    assert samples[("lcd_writer_request_duration_seconds_count", None)] == 4
    assert samples[("lcd_writer_request_duration_seconds_sum", None)] == pytest.approx(7.304)


def test_the_config_deploy_renders_for_a_pi_is_accepted(tmp_path, demo_inventory):
    place = next(p for p in demo_inventory.writer_places() if p.local_dc == "DC2")
    path = tmp_path / "writer.yml"
    path.write_text(yaml.safe_dump(writer_config(demo_inventory, place)))
    opts = from_args(load(WriterSettings, config_file=str(path)))
    assert (opts.name, opts.local_dc, opts.display) == ("rpidc2user", "DC2", "adafruit")
    assert opts.contact_points[0] == ("192.168.11.41", 9042)
    assert opts.replication == {"DC1": 3, "DC2": 3}
    assert opts.colors["DC2"] == (0, 0, 1)


def test_with_read_back_both_operations_share_the_lcd():
    menu = CLMenu("LOCAL_QUORUM", "ONE")
    write = Outcome("write", "LOCAL_QUORUM", "success", 0.0031, DC2_NODE)
    assert dual_screen(menu.state(), write, None, COLORS).lines == (
        "W:LQ DC2R1N3 3ms",
        "R:1 ...         ",
    )
    stale = Outcome("read", "ONE", "success", 0.001, DC2_NODE, stale=True)
    shown = dual_screen(menu.state(), write, stale, COLORS)
    assert shown.lines[1] == "R:1 STALE READ  " and shown.color == (1, 1, 0)
    failed = Outcome("read", "QUORUM", "read_timeout", 0.3, DC2_NODE, "1/2")
    shown = dual_screen(menu.state(), write, failed, COLORS)
    assert shown.lines[1] == "R:Q RD TIMEOUT 1" and shown.color == RED
    ok = Outcome("read", "ONE", "success", 0.0012, DC2_NODE)
    assert dual_screen(menu.state(), write, ok, COLORS).color == (0, 0, 1)


def test_metrics_page_carries_exactly_the_contract_families():
    """Families, types and label names of /metrics equal the writer families of the contract."""
    from tests.support.binaries import require_binary
    from tests.support.contract import contract, families

    metrics = WriterMetrics("rpidc1user", "DC1")
    metrics.selected("write", "LOCAL_QUORUM")
    metrics.selected("read", "ONE")
    metrics.record(Outcome("write", "LOCAL_QUORUM", "success", 0.003, DC2_NODE))
    metrics.hosts_up([("DC1", 6), ("DC2", 3)])
    page = metrics.exposition().decode()
    check = subprocess.run(
        [require_binary("promtool"), "check", "metrics"], input=page, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert families(page) == contract("lcd_writer")

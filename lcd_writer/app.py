"""The running writer: connection loop, request schedule, LCD refresh, keypad, HTTP.

Threads: the UI loop (main thread) polls the keypad and redraws the LCD every
``UI_PERIOD`` s and never touches the cluster; the request thread connects (retrying while
no host answers) and paces the writes; the driver's own threads complete requests; the
HTTP thread serves /metrics, /lcd and /keypad.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from typing import Any

from rackpanel.lcd_writer.http_api import WriterHttp
from rackpanel.lcd_writer.keypad import Press
from rackpanel.lcd_writer.menu import CLMenu, MenuState
from rackpanel.lcd_writer.metrics import WriterMetrics
from rackpanel.lcd_writer.options import WriterOptions
from rackpanel.lcd_writer.outcome import Outcome, classify
from rackpanel.lcd_writer.plates import Plate, PlateError, PlateView, make_plate
from rackpanel.lcd_writer.scheduler import run_paced
from rackpanel.lcd_writer.screen import Screen, dual_screen, screen

log = logging.getLogger("lcd_writer")
UI_PERIOD = 0.02
HOSTS_PERIOD = 1.0


class Writer:
    def __init__(self, opts: WriterOptions, plate: Plate) -> None:
        self.opts = opts
        self.metrics = WriterMetrics(opts.name, opts.local_dc, conditional=opts.conditional)
        self.menu = CLMenu(
            opts.write_cl,
            opts.read_cl,
            hold_seconds=opts.hold_seconds,
            conditional=opts.conditional,
        )
        self.menu.add_listener(self.metrics.selected)
        self.view = PlateView(plate)
        self.stop = threading.Event()
        self._last: Outcome | None = None
        self._last_of: dict[str, Outcome | None] = {"write": None, "read": None}
        self._status = "CONNECTING"
        self._link: Any = None
        self.http = WriterHttp(
            *opts.listen,
            lcd=self.lcd_json,
            press=self.press,
            cancel=self.cancel_menu,
            metrics=self.metrics.exposition,
            keypad_enabled=opts.keypad_api,
            keypad_remote=opts.keypad_api_remote,
        )
        self._requests = threading.Thread(
            target=self._request_loop, name="writer-requests", daemon=True
        )

    # ---- what the LCD shows ----------------------------------------------------------------
    def screen(self, menu: MenuState | None = None) -> Screen:
        # Outcomes and the status are replaced whole (atomic reference assignments) by the
        # request and driver threads; reading them needs no lock.
        menu = menu or self.menu.state()
        last, status = self._last, self._status
        if self.opts.read:
            write, read = self._last_of["write"], self._last_of["read"]
            colors, name = self.opts.colors, self.opts.name
            return dual_screen(menu, write, read, colors, status=status, title=name)
        return screen(menu, last, self.opts.colors, status=status, title=self.opts.name)

    def lcd_json(self) -> dict[str, Any]:
        state = self.menu.state()
        shown = self.screen(state)  # lines and CLs from the same instant
        return {
            "lines": list(shown.lines),
            "color": list(shown.color),
            "write_cl": state.write_cl,
            "read_cl": state.read_cl,
            "menu": state.menu,
        }

    def press(self, press: Press) -> dict[str, Any]:
        self.menu.press(press)
        return self.lcd_json()

    def cancel_menu(self) -> dict[str, Any]:
        self.menu.cancel()
        return self.lcd_json()

    def record(self, outcome: Outcome) -> None:
        self.metrics.record(outcome)
        self._last = outcome
        self._last_of[outcome.operation] = outcome

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self.http.start()
        self._requests.start()

    def ui_loop(self) -> None:
        next_hosts = 0.0
        while not self.stop.is_set():
            try:
                for press in self.view.plate.poll():
                    self.menu.press(press)
                self.view.show(self.screen())
            except OSError as exc:  # an I2C hiccup must not stop the writer
                log.warning("LCD plate error: %s", exc)
            link = self._link
            if time.monotonic() >= next_hosts and link is not None:
                self.metrics.hosts_up(link.hosts_up())
                next_hosts = time.monotonic() + HOSTS_PERIOD
            self.stop.wait(UI_PERIOD)

    def close(self) -> None:
        self.stop.set()
        if self._requests.is_alive():
            self._requests.join(timeout=15)
        self.http.stop()
        self.view.plate.close()

    # ---- the request thread ----------------------------------------------------------------
    def _request_loop(self) -> None:
        from rackpanel.lcd_writer.requests import RequestIssuer

        link = self._connect()
        if link is None:
            return
        issuer = RequestIssuer(
            link.session,
            link.insert,
            link.select,
            self.menu,
            self.record,
            writer_name=self.opts.name,
            read_back=self.opts.read,
            max_in_flight=self.opts.max_in_flight,
        )
        period = 1.0 / self.opts.rate if self.opts.rate else self.opts.interval
        try:
            run_paced(period, self.stop, issuer.acquire, issuer.write)
        finally:
            issuer.drain(timeout=3 * self.opts.request_timeout + 1)
            self._link = None
            link.close()

    def _connect(self) -> Any:
        """Connect, create the schema, prepare; while that fails, count and show NO HOST."""
        from rackpanel.lcd_writer.cassandra_link import CassandraLink

        retry = min(self.opts.interval, 1.0) if self.opts.rate else self.opts.interval
        last_error = ""
        while not self.stop.is_set():
            start = time.perf_counter()
            try:
                link = CassandraLink(self.opts)
            except Exception as exc:
                outcome, detail = classify(exc)
                if str(exc) != last_error:  # once per distinct failure, not every retry
                    log.warning("cannot connect to %s: %s", self._contacts(), exc)
                    last_error = str(exc)
                cl = self.menu.selected("write")
                self.record(
                    Outcome("write", cl, outcome, time.perf_counter() - start, None, detail)
                )
                self._status = "NO HOST"
                self.stop.wait(retry)
                continue
            if self.stop.is_set():
                link.close()
                return None
            self._link = link
            log.info(
                "connected to %s, writing to %s.messages", self._contacts(), self.opts.keyspace
            )
            return link
        return None

    def _contacts(self) -> str:
        return ",".join(f"{h}:{p}" for h, p in self.opts.contact_points)


def _setup_logging(opts: WriterOptions, log_file: str | None) -> None:
    if log_file:
        logging.basicConfig(
            filename=log_file, level=logging.INFO, format="%(asctime)s %(name)s %(message)s"
        )
    elif opts.display == "terminal":  # the terminal is the LCD: keep it clean
        logging.disable(logging.CRITICAL)
    else:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
        # The driver logs a traceback per failed reconnection: the LCD and metrics tell it.
        logging.getLogger("cassandra").setLevel(logging.CRITICAL)


def run_writer(opts: WriterOptions, *, log_file: str | None = None) -> int:
    try:
        plate = make_plate(opts.display, opts.hold_seconds)
    except PlateError as exc:
        print(f"rackpanel writer: {exc}", file=sys.stderr)
        return 2
    try:
        writer = Writer(opts, plate)
    except OSError as exc:
        plate.close()
        host, port = opts.listen
        print(f"rackpanel writer: --listen {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 2
    _setup_logging(opts, log_file)
    signal.signal(signal.SIGTERM, lambda *_: writer.stop.set())
    host, port = writer.http.address
    log.warning(
        "writer %s (local DC %s) serving http://%s:%d/lcd", opts.name, opts.local_dc, host, port
    )
    writer.start()
    try:
        writer.ui_loop()
    except KeyboardInterrupt:
        pass
    finally:
        writer.close()
    return 0

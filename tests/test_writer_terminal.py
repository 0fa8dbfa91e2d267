"""The terminal LCD + keypad in a real terminal: tmux runs the writer, send-keys presses the
arrow keys and Enter, capture-pane reads what is drawn. No cluster is needed: the keypad and
the LCD must work while no host answers (the LCD shows NO HOST in red meanwhile)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.binaries import require_binary
from tests.support.lab import free_port, loopback_octet

REPO = Path(__file__).resolve().parent.parent
HOST = f"127.{loopback_octet()}.10.7"  # a loopback range of its own (tests/support/lab.py)


class Tmux:
    def __init__(self, binary: str, socket_name: str) -> None:
        self.base = [binary, "-L", socket_name]

    def __call__(self, *args: str) -> str:
        done = subprocess.run([*self.base, *args], capture_output=True, text=True, timeout=10)
        return done.stdout

    def screen(self, escapes: bool = False) -> str:
        return self("capture-pane", "-p", *(["-e"] if escapes else []), "-t", "writer")

    def wait_for(self, text: str, timeout: float = 15.0, escapes: bool = False) -> str:
        deadline = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < deadline:
            shown = self.screen(escapes)
            if text in shown:
                return shown
            time.sleep(0.05)
        raise AssertionError(f"{text!r} never appeared; the pane shows:\n{shown}")


@pytest.fixture
def terminal_writer() -> Iterator[tuple[Tmux, str]]:
    tmux = Tmux(require_binary("tmux"), f"rackpanel-writer-test-{os.getpid()}")
    port = free_port(HOST)
    command = " ".join(
        [
            sys.executable, "-m", "rackpanel", "writer", "--display", "terminal",
            "--local-dc", "DC1", "--contact-points", "127.51.99.1", "--interval", "1",
            "--connect-timeout", "0.5", "--listen", f"{HOST}:{port}",
        ]
    )  # fmt: skip
    tmux("new-session", "-d", "-s", "writer", "-x", "80", "-y", "10", "-c", str(REPO), command)
    try:
        yield tmux, f"http://{HOST}:{port}"
    finally:
        tmux("kill-server")


def lcd(base: str) -> dict:
    with urllib.request.urlopen(f"{base}/lcd", timeout=5) as answer:
        return json.load(answer)


def test_terminal_lcd_and_arrow_keys(terminal_writer):
    tmux, base = terminal_writer
    shown = tmux.wait_for("NO HOST", escapes=True)
    assert "|W LOCAL_ONE     |" in tmux.screen()
    assert "101m" in shown  # red backlight: bright red background behind the text
    tmux("send-keys", "-t", "writer", "Enter")  # Enter = SELECT held: opens the menu
    tmux.wait_for("|  - CL WRITE -  |")
    tmux("send-keys", "-t", "writer", "Right")
    tmux.wait_for("|< LOCAL_QUORUM >|")
    tmux("send-keys", "-t", "writer", "Down")
    tmux.wait_for("|  - CL READ -   |")
    tmux.wait_for("|    < ONE >     |")
    tmux("send-keys", "-t", "writer", "Left")
    tmux.wait_for("|< EACH_QUORUM > |")
    tmux("send-keys", "-t", "writer", "Enter")  # applies the read CL shown
    tmux.wait_for("NO HOST")
    assert (lcd(base)["read_cl"], lcd(base)["write_cl"]) == ("EACH_QUORUM", "LOCAL_ONE")
    tmux("send-keys", "-t", "writer", "C-c")
    deadline = time.monotonic() + 10
    while "writer" in tmux("list-sessions") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "writer" not in tmux("list-sessions"), "Ctrl-C did not stop the writer"

"""Run `rackpanel demo --no-ui` as a real process for end-to-end tests, and stop it cleanly."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rackpanel.topology import Inventory, load_inventory

from tests.support.inventories import shifted_inventory
from tests.support.waiting import wait_for

RACKPANEL = [sys.executable, "-m", "rackpanel"]


def get(url: str, timeout: float = 2.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def get_json(url: str, timeout: float = 2.0) -> object:
    return json.loads(get(url, timeout))


def wait_ready(demo: subprocess.Popen[str], endpoints_file: Path, timeout: float = 90) -> None:
    """Wait for endpoints.json; if the demo gives up first (60 s), fail with what it said."""

    def ready_or_exited() -> bool:
        if demo.poll() is not None:
            raise AssertionError(f"the demo exited ({demo.returncode}): {demo.stdout.read()}")
        return endpoints_file.exists()

    wait_for(ready_or_exited, timeout, what="endpoints.json")


def demo_inventory(tmp_path: Path, k: int) -> Path:
    return shifted_inventory(
        tmp_path, k, simulator={"admin_address": f"127.{k}.0.1:9499", "failure_detector": "fast"}
    )


def start_demo(inventory: Path, run_dir: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*RACKPANEL, "demo", "--no-ui", "--inventory", str(inventory), "--run-dir", str(run_dir),
         *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )  # fmt: skip


def stop_demo(demo: subprocess.Popen[str]) -> str:
    """SIGTERM, as a user's Ctrl-C would; SIGKILL the group if it does not stop. Its output."""
    demo.send_signal(signal.SIGTERM)
    try:
        output, _ = demo.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(demo.pid, signal.SIGKILL)
        output, _ = demo.communicate()
    return output


@dataclass
class RunningDemo:
    inventory: Inventory
    inventory_path: Path
    services: list[dict[str, str]]

    def url(self, kind: str) -> str:
        return next(s["url"] for s in self.services if s["kind"] == kind)

    def urls(self, kind: str) -> list[str]:
        return [s["url"] for s in self.services if s["kind"] == kind]

    @property
    def admin(self) -> str:
        return f"http://{self.inventory.simulator.admin_address}"


@contextlib.contextmanager
def running_demo(tmp_path: Path, k: int, *extra: str) -> Iterator[RunningDemo]:
    """A headless demo in loopback range ``k``, stopped (and checked to stop) on exit."""
    path = demo_inventory(tmp_path, k)
    run_dir = tmp_path / "run"
    demo = start_demo(path, run_dir, *extra)
    try:
        wait_ready(demo, run_dir / "endpoints.json")
        services = json.loads((run_dir / "endpoints.json").read_text())["services"]
        yield RunningDemo(load_inventory(path), path, services)
    finally:
        output = stop_demo(demo)
    assert demo.returncode == 0, output

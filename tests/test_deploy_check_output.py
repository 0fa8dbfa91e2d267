"""`rackpanel deploy check` against hosts that cannot be reached: one clean line per host.

Issue 15: against unreachable Pis it printed ~255 lines of paramiko tracebacks before its table
and garbled the reasons ("rpidc1r1n1: rpidc1r1n1: unreachable: ... banner[Errno 104]").
Here every host is a real socket on loopback that resets each connection before the SSH banner
(a Pi whose sshd is not up yet), except the monitor, where nothing listens at all.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import yaml

from tests.support.lab import loopback_octet

REPO = Path(__file__).resolve().parent.parent
PORT = 2222


@contextlib.contextmanager
def resetting_hosts(addresses: list[str]) -> Iterator[None]:
    """A listener per address that accepts and resets (RST) every connection at once."""
    selector = selectors.DefaultSelector()
    listeners = []
    for address in addresses:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((address, PORT))
        listener.listen(16)
        listener.setblocking(False)
        selector.register(listener, selectors.EVENT_READ)
        listeners.append(listener)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            for key, _ in selector.select(timeout=0.1):
                with contextlib.suppress(OSError):
                    connection, _ = key.fileobj.accept()  # type: ignore[union-attr]
                    connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
        for listener in listeners:
            listener.close()


def unreachable_inventory(directory: Path, k: int) -> tuple[Path, dict[str, str]]:
    raw = yaml.safe_load((REPO / "inventory.yml").read_text())
    hosts = [n for dc in raw["datacenters"] for rack in dc["racks"] for n in rack["nodes"]]
    hosts += raw["writers"]
    addresses = {}
    for i, host in enumerate(hosts, start=1):
        host["address"] = addresses[host["name"]] = f"127.{k}.0.{i}"
        host["ssh_port"] = PORT
    raw["monitor"]["address"] = f"127.{k}.0.250"  # nobody listens there
    known_hosts = directory / "known_hosts"
    known_hosts.touch()
    raw["deploy"] = {"connect_timeout_seconds": 3, "known_hosts": str(known_hosts)}
    path = directory / "inventory.yml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path, addresses


def check(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rackpanel", "deploy", "check", "-i", str(path), *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_unreachable_hosts_get_one_clean_line_each_and_no_traceback(tmp_path):
    path, addresses = unreachable_inventory(tmp_path, loopback_octet())
    with resetting_hosts(list(addresses.values())):
        run = check(path)
        debug = check(path, "--debug", "--limit", "rpidc1r1n1")
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "Traceback" not in out and "Exception" not in out, out
    lines = out.splitlines()
    for name in [*addresses, "rpimonitor"]:
        problems = [line for line in lines if line.startswith(f"{name}: ")]
        assert len(problems) == 1, (name, problems)
        assert problems[0].startswith(f"{name}: unreachable: pi@"), problems[0]
        assert f"{name}: {name}:" not in problems[0]
        assert "banner[" not in problems[0]
    assert "0 of 12 host(s) ready" in out
    assert len(lines) < 40, out  # the table and one line per host, nothing else
    # --debug brings the tracebacks back
    assert "Traceback" in debug.stdout + debug.stderr

"""The demo's supervisor keeps the stack up: a crashed exporter or writer comes back after a
backoff, with a line for the panel; a dead simulator stops the demo with the reason (before,
one red line and the demo ran on without the service)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from rackpanel.demo import supervisor as sup
from rackpanel.demo.supervisor import Service, Supervisor
from tests.support.waiting import wait_for


def service(name: str, kind: str, code: str) -> Service:
    return Service(name=name, kind=kind, argv=[sys.executable, "-c", code], url="-")


def test_a_crashing_exporter_is_restarted_with_a_growing_backoff(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(sup, "BACKOFF_FIRST", 0.2)
    supervisor = Supervisor(tmp_path)
    flaky = supervisor.start(service("exporter-n1", "exporter", "import sys; sys.exit(3)"))
    steady = supervisor.start(service("writer-a", "writer", "import time; time.sleep(60)"))
    first_pid = flaky.process.pid
    fatal: list[str] = []
    try:
        supervisor.watch(fatal.append, interval=0.05)
        wait_for(lambda: flaky.restarts >= 3, 20, what="three restarts")
        lines = list(supervisor.events)
        assert any("exporter-n1 exited with status 3; restarting in 0.2 s" in x for x in lines)
        waits = [float(x.split("restarting in ")[1].split(" s")[0]) for x in lines if " in 0" in x]
        assert waits[:3] == [0.2, 0.4, 0.8]
        assert any("exporter-n1 restarted (restart 3 in a row)" in x for x in lines)
        assert flaky.process.pid != first_pid and steady.restarts == 0 and fatal == []
    finally:
        supervisor.stop()
    assert all(r.process.poll() is not None for r in [flaky, steady])


def test_the_simulator_dying_stops_the_demo_with_its_last_words(tmp_path: Path):
    supervisor = Supervisor(tmp_path)
    code = (
        "import sys, time; time.sleep(1.0); "
        "print('bind failed: too many open files', flush=True); sys.exit(7)"
    )
    supervisor.start(service("simulator", "simulator", code))
    called = threading.Event()
    try:
        supervisor.watch(lambda _reason: called.set(), interval=0.05)
        assert not called.wait(0.5)  # running: nothing to say
        assert called.wait(10)
    finally:
        supervisor.stop()
    assert supervisor.fatal is not None
    assert "the simulator exited with status 7" in supervisor.fatal
    assert "bind failed: too many open files" in supervisor.fatal
    assert any("the simulator died" in line for line in supervisor.events)

"""On the panel, a node's exporter runs on the node's own Pi: cut the power and both go dark.

The simulator cuts a node's CQL and Jolokia but cannot reach the exporter processes, so the demo
follows the simulator's power state and freezes (SIGSTOP) the exporter of every powered-off node,
and thaws it (SIGCONT) on power-on. A frozen exporter keeps its listening socket, so a scrape is
accepted by the kernel and never answered — what Prometheus sees of a Pi that lost power, and
what the `up`-based half of CassandraDatacenterUnavailable needs to be exercised in the demo.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading

from rackpanel.demo.supervisor import Running
from rackpanel.simulator.cluster.admin_client import AdminClient, AdminError


class PowerFollower(threading.Thread):
    def __init__(self, admin_url: str, exporters: dict[str, Running], interval: float = 0.5):
        super().__init__(name="power-follower", daemon=True)
        self.admin_url = admin_url.rstrip("/")
        self.admin = AdminClient(self.admin_url, timeout=1.0)
        self.exporters = exporters  # node name → its exporter process
        self.interval = interval
        self.frozen: dict[str, int] = {}  # node → pid of the exporter process frozen
        self.stopping = threading.Event()
        self.latest: dict = {}  # the last /state answer
        self._lock = threading.Lock()

    def _signal(self, node: str, sig: signal.Signals) -> None:
        running = self.exporters[node]
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(running.process.pid, sig)

    def sync(self, state: dict) -> None:
        for entry in state.get("nodes", []):
            node = entry.get("name")
            if node not in self.exporters:
                continue
            off = not entry.get("powered", True)
            pid = self.exporters[node].process.pid  # a restarted exporter has a new one
            if off and self.frozen.get(node) != pid:
                self._signal(node, signal.SIGSTOP)
                self.frozen[node] = pid
            elif not off and node in self.frozen:
                self._signal(node, signal.SIGCONT)
                del self.frozen[node]

    def refresh(self) -> dict:
        """Read the simulator's power state now, act on it, and return it."""
        try:
            state = self.admin.state()
        except AdminError:
            return self.latest
        with self._lock:
            self.sync(state)
            self.latest = state
        return state

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            self.refresh()

    def stop(self) -> None:
        """Stop following and thaw every exporter, so that it can be stopped cleanly."""
        self.stopping.set()
        self.join(timeout=2)
        for node in list(self.frozen):
            self._signal(node, signal.SIGCONT)
        self.frozen.clear()

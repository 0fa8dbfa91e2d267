"""DC-aware routing that keeps trying the remote DC after it was lost once.

cassandra-driver 3.30's ``DCAwareRoundRobinPolicy(local_dc, used_hosts_per_remote_dc=N)``
calls a remote host REMOTE only while it is among the first N *live* hosts of its DC. Two
consequences the panel cannot live with:

- a remote host that goes down becomes IGNORED, and the driver starts reconnection only for
  hosts that are not ignored (``Cluster._start_reconnector``): once the other DC has been
  unreachable (a cut link, every node off), the writer never uses it again until restarted;
- a remote host discovered after connecting is judged before the policy has heard of it,
  so it starts IGNORED and its ``is_up`` stays unknown, with the same end.

This subclass (the driver's documented extension point, nothing patched) keeps the first N
hosts it sees in each remote DC at REMOTE distance whether they are up or not. Query plans
are unchanged: they still list live hosts only, local DC first.
"""

from __future__ import annotations

import threading
from typing import Any

from cassandra.policies import DCAwareRoundRobinPolicy, HostDistance


class SteadyDCAwarePolicy(DCAwareRoundRobinPolicy):
    def __init__(self, local_dc: str, used_hosts_per_remote_dc: int) -> None:
        super().__init__(local_dc=local_dc, used_hosts_per_remote_dc=used_hosts_per_remote_dc)
        self._kept: dict[str, list[Any]] = {}
        self._kept_lock = threading.Lock()

    def distance(self, host: Any) -> int:
        distance = super().distance(host)
        if distance == HostDistance.IGNORED and self._keeps(host):
            return HostDistance.REMOTE
        return distance

    def on_remove(self, host: Any) -> None:
        super().on_remove(host)
        with self._kept_lock:
            kept = self._kept.get(self._dc(host), [])
            if host in kept:
                kept.remove(host)

    def _keeps(self, host: Any) -> bool:
        dc = self._dc(host)
        if dc == self.local_dc or not self.used_hosts_per_remote_dc:
            return False
        with self._kept_lock:
            kept = self._kept.setdefault(dc, [])
            if host in kept:
                return True
            if len(kept) < self.used_hosts_per_remote_dc:
                kept.append(host)
                return True
        return False

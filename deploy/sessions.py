"""Open SSH sessions to the hosts of one run, made on first use and closed together."""

from __future__ import annotations

import threading

from rackpanel.deploy.hosts import DeployHost
from rackpanel.deploy.remote import Remote
from rackpanel.deploy.ssh import Credentials
from rackpanel.topology import Inventory


class Sessions:
    def __init__(self, inv: Inventory, creds: Credentials) -> None:
        self.inv = inv
        self.creds = creds
        self._open: dict[str, Remote] = {}
        self._lock = threading.Lock()

    def get(self, host: DeployHost) -> Remote:
        with self._lock:
            existing = self._open.get(host.name)
        if existing is not None:
            return existing
        remote = Remote(
            host,
            self.creds,
            self.inv.deploy.remote_root,
            command_timeout=max(60.0, self.inv.deploy.connect_timeout_seconds),
            command_wrapper=self.inv.deploy.command_wrapper,
        )
        with self._lock:
            self._open[host.name] = remote
        return remote

    def close(self) -> None:
        with self._lock:
            remotes, self._open = list(self._open.values()), {}
        for remote in remotes:
            remote.close()

    def __enter__(self) -> Sessions:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""Installing on blank hosts: the phases of one run, built once from the inventory and bundle.

Every problem the operator's side can have (no bundle, a key file without the pinned keys, a
Cassandra version the inventory's Java cannot run) becomes a :class:`DeployError` naming the host,
before anything is changed on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rackpanel.deploy.bundle import Bundle, BundleError
from rackpanel.deploy.hosts import DeployHost
from rackpanel.deploy.keys import PinError
from rackpanel.deploy.phase import Phase, PhaseState
from rackpanel.deploy.phases import phases_for
from rackpanel.deploy.provision import HostApt, probe, run_phase
from rackpanel.deploy.remote import Remote
from rackpanel.deploy.ssh import DeployError
from rackpanel.deploy.versions import VersionError
from rackpanel.topology import Inventory


@dataclass
class Installer:
    inv: Inventory
    bundle: Bundle

    @classmethod
    def for_inventory(cls, inv: Inventory, base: Path) -> Installer:
        def local(value: str) -> Path:
            path = Path(value).expanduser()
            return path if path.is_absolute() else base / path

        jar = local(inv.deploy.jolokia_jar) if inv.deploy.jolokia_jar else None
        return cls(inv, Bundle(local(inv.deploy.bundle_dir), jar))

    def phases(self, host: DeployHost) -> list[Phase]:
        try:
            return phases_for(self.inv, host, self.bundle)
        except (BundleError, PinError, VersionError) as exc:
            raise DeployError(f"{host.name}: {exc}") from None

    def guard(self, remote: Remote) -> None:
        if remote.root and not remote.wrapper:
            raise DeployError(
                f"{remote.host.name}: deploy.remote_root is set without deploy.command_wrapper: "
                "the install phases would change this machine, not the host's root"
            )

    def states(self, host: DeployHost, remote: Remote) -> list[PhaseState]:
        """Each phase with what it still has to do; nothing is written."""
        self.guard(remote)
        apt = HostApt(remote, cache=self.inv.deploy.apt_cache)
        return [probe(remote, apt, phase) for phase in self.phases(host)]

    def run(
        self,
        host: DeployHost,
        remote: Remote,
        report: Callable[[str], None],
        took: dict[str, float],
    ) -> None:
        """Bring the host through every phase; ``took`` gets the seconds of each phase that had
        work, the one that failed included."""
        self.guard(remote)
        apt = HostApt(remote, cache=self.inv.deploy.apt_cache)
        for phase in self.phases(host):
            start = time.monotonic()
            state = probe(remote, apt, phase)
            if state.done:
                continue
            report(f"phase {phase.name}: " + "; ".join(state.todo()))
            try:
                run_phase(remote, apt, state, lambda text, n=phase.name: report(f"{n}: {text}"))
            finally:
                took[phase.name] = time.monotonic() - start

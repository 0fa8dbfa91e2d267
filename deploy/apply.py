"""``rackpanel deploy apply``: change only what differs, restart only what changed.

Phase 1, in parallel (``deploy.parallel`` hosts at a time): connect, bring the host through the
install phases it still needs (``deploy/phases.py``), plan, install every changed file except
Cassandra's, run the actions they need (hostname, daemon-reload, restarts).
Phase 2, one node at a time: install a node's changed Cassandra files, restart Cassandra, wait
until the cluster sees it up; a node that does not come up stops the rolling restart.
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from rackpanel.deploy.files import HostPlan, format_actions, pending_path
from rackpanel.deploy.hosts import DeployHost
from rackpanel.deploy.install import Installer
from rackpanel.deploy.plan import plan_host
from rackpanel.deploy.progress import HostOutcome, Progress
from rackpanel.deploy.remote import Remote
from rackpanel.deploy.rolling import observer_for, rolling_order, wait_seen_up
from rackpanel.deploy.services import action_command
from rackpanel.deploy.sessions import Sessions
from rackpanel.deploy.ssh import DeployError
from rackpanel.topology import Inventory


def as_deploy_error(host: DeployHost, exc: Exception) -> DeployError:
    if isinstance(exc, DeployError):
        return exc
    return DeployError(f"{host.name}: unexpected {type(exc).__name__}: {exc}")


def install(
    inv: Inventory,
    host: DeployHost,
    remote: Remote,
    plan: HostPlan,
    rolling: bool,
    outcome: HostOutcome,
    progress: Progress,
) -> None:
    """Write one phase's changed files atomically, then run the actions they (and any actions
    an earlier apply left unfinished) need.

    The actions are recorded on the host in the same batch as the files, and the record is
    removed only once they all ran: an apply interrupted between the two is finished by the next.
    """
    changes = plan.part(rolling)
    actions = plan.actions(rolling)
    files = [(c.remote_path, c.new, c.spec.mode) for c in changes]
    record = remote.path(pending_path(rolling))
    if actions and changes:
        files.insert(0, (record, format_actions(actions), 0o644))
    groups = {c.remote_path: remote.path(c.spec.group_of) for c in changes if c.spec.group_of}
    remote.install_files(
        files,
        groups=groups,
        progress=lambda path, sent, total: progress.upload(host.name, path, sent, total),
    )
    for change in changes:
        outcome.changed.append(change.spec.path)
        progress.step(host.name, f"wrote {change.spec.path}")
    for action in actions:
        command = action_command(inv.deploy.service_manager, host.name, action)
        remote.check(command, privileged=True, what=str(action))
        outcome.actions.append(str(action))
        progress.step(host.name, f"ran {action}")
    if actions:
        remote.check(f"rm -f {shlex.quote(record)}", privileged=True, what=f"removing {record}")


def apply(
    inv: Inventory,
    hosts: Sequence[DeployHost],
    sessions: Sessions,
    progress: Progress,
    *,
    fail_fast: bool = False,
    installer: Installer | None = None,
) -> list[HostOutcome]:
    outcomes = {h.name: HostOutcome(h.name) for h in hosts}
    plans: dict[str, HostPlan] = {}
    stop = threading.Event()
    why_stopped = ["--fail-fast: another host failed"]

    def fail(host: DeployHost, exc: DeployError) -> None:
        outcome = outcomes[host.name]
        outcome.status, outcome.reason = "failed", str(exc)
        progress.step(host.name, f"[red]FAILED[/red]: {exc}")

    def first_phase(host: DeployHost) -> None:
        outcome = outcomes[host.name]
        if stop.is_set():
            outcome.status, outcome.reason = "skipped", why_stopped[0]
            return
        try:
            remote = sessions.get(host)
            if installer is not None:
                installer.run(
                    host, remote, lambda text: progress.step(host.name, text), outcome.phases
                )
            plan = plan_host(inv, host, remote)
            plans[host.name] = plan
            progress.step(host.name, f"{len(plan.changes)} file(s) to change")
            if plan.leftovers:
                stale = " ".join(shlex.quote(p) for p in plan.leftovers)
                remote.check(f"rm -f {stale}", privileged=True, what="removing partial uploads")
                progress.step(host.name, f"removed {len(plan.leftovers)} partial upload(s)")
            install(inv, host, remote, plan, False, outcome, progress)
            changed = plan.changes or plan.pending or outcome.phases
            outcome.status = "ok" if changed else "unchanged"
        except Exception as exc:  # one host's failure, whatever it is, must not hide the others
            fail(host, as_deploy_error(host, exc))
            if fail_fast:
                stop.set()

    pool = ThreadPoolExecutor(max_workers=inv.deploy.parallel)
    try:
        for future in [pool.submit(first_phase, h) for h in hosts]:
            future.result()
    except KeyboardInterrupt:  # hosts under way finish their step; the others are not started
        why_stopped[0] = "interrupted (Ctrl-C) before this host started"
        stop.set()
        progress.step(
            "deploy", "interrupted: letting the hosts under way finish, starting no other"
        )
    finally:
        pool.shutdown(wait=True)

    # a node whose first phase failed is not restarted: its failure is reported as it is
    ready = [h for h in rolling_order(inv, hosts) if outcomes[h.name].status != "failed"]
    rolling = [h for h in ready if h.name in plans and plans[h.name].has_work(rolling=True)]
    restarting = {h.name for h in rolling}
    confirmed: list[DeployHost] = []
    for index, host in enumerate(rolling):
        if stop.is_set():
            for rest in rolling[index:]:
                outcomes[rest.name].status = "skipped"
                outcomes[rest.name].reason = "rolling restart stopped before this node"
            break
        try:
            remote = sessions.get(host)
            install(inv, host, remote, plans[host.name], True, outcomes[host.name], progress)
            observer = observer_for(inv, host, confirmed, restarting)
            checks = [(host, remote)]
            if observer.name != host.name:
                checks.append((observer, sessions.get(observer)))
            progress.step(host.name, f"waiting until {observer.name} sees it up")
            waited = wait_seen_up(inv, host, checks)
            progress.step(host.name, f"seen up by {observer.name} after {waited:.1f} s")
            confirmed.append(host)
        except Exception as exc:
            fail(host, as_deploy_error(host, exc))
            stop.set()
        except KeyboardInterrupt:
            fail(host, DeployError(f"{host.name}: interrupted (Ctrl-C) during its restart"))
            stop.set()
    return [outcomes[h.name] for h in hosts]

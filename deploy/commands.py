"""The three deploy actions as the CLI runs them: sessions in, a report out, an exit code."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from rackpanel.deploy.apply import apply
from rackpanel.deploy.check import check, jolokia_hint
from rackpanel.deploy.files import HostPlan
from rackpanel.deploy.hosts import DeployHost
from rackpanel.deploy.install import Installer
from rackpanel.deploy.phase import PhaseState
from rackpanel.deploy.plan import plan_host, unified_diff
from rackpanel.deploy.progress import Progress
from rackpanel.deploy.rolling import rolling_order
from rackpanel.deploy.sessions import Sessions
from rackpanel.deploy.ssh import Credentials, DeployError
from rackpanel.topology import Inventory
from rich.console import Console
from rich.table import Table


def _console() -> Console:
    """The terminal's width on a terminal; 140 columns into a pipe or a log, not 80."""
    console = Console(highlight=False)
    return console if console.is_terminal else Console(highlight=False, width=140)


def run_check(
    inv: Inventory,
    hosts: Sequence[DeployHost],
    creds: Credentials,
    *,
    installer: Installer | None = None,
    **_: object,
) -> int:
    with Sessions(inv, creds) as sessions:
        rows = check(inv, hosts, sessions, installer)
    table = Table(title="rackpanel deploy check")
    columns = (
        "host",
        "role",
        "ssh",
        "host key",
        "sudo",
        "java",
        "cassandra",
        "phases",
        "disk free",
        "problems",
    )
    for column in columns:
        table.add_column(column, no_wrap=column == "host")
    for row in rows:
        table.add_row(
            row.host.name,
            row.host.role,
            row.ssh,
            row.host_key,
            row.sudo,
            row.java,
            row.cassandra,
            row.phases,
            row.disk_free,
            f"[red]{len(row.problems)}[/red]" if row.problems else "[green]ready[/green]",
        )
    console = _console()
    console.print(table)
    for row in rows:
        for problem in row.problems:
            # one line per problem, named once (the SSH errors already start with the host)
            text = problem.removeprefix(f"{row.host.name}: ")
            console.print(f"{row.host.name}: {text}", markup=False, soft_wrap=True)
    if hint := jolokia_hint(inv, hosts):
        console.print(hint, markup=False, soft_wrap=True)
    bad = [r.host.name for r in rows if not r.ok]
    console.print(f"{len(rows) - len(bad)} of {len(rows)} host(s) ready", markup=False)
    return 1 if bad else 0


def print_phases(console: Console, states: list[PhaseState]) -> int:
    """Each install phase: what it installs on a blank host, and what is left here."""
    todo = 0
    for state in states:
        left = state.todo()
        status = "done" if not left else "to do: " + "; ".join(left)
        console.print(
            f"phase {state.phase.name}: {state.phase.installs} — {status}",
            markup=False,
            soft_wrap=True,
        )
        for change in state.files:
            console.print(unified_diff(change), markup=False, end="", soft_wrap=True)
        todo += bool(left)
    return todo


def run_plan(
    inv: Inventory,
    hosts: Sequence[DeployHost],
    creds: Credentials,
    *,
    installer: Installer | None = None,
    **_: object,
) -> int:
    console = _console()

    def one(host: DeployHost) -> tuple[list[PhaseState], HostPlan] | DeployError:
        try:
            remote = sessions.get(host)
            states = installer.states(host, remote) if installer else []
            installing = any(not s.done for s in states)
            return states, plan_host(inv, host, remote, installing=installing)
        except DeployError as exc:
            return exc

    with Sessions(inv, creds) as sessions, ThreadPoolExecutor(inv.deploy.parallel) as pool:
        results = dict(zip([h.name for h in hosts], pool.map(one, hosts), strict=True))
    total = phases = 0
    for host in hosts:
        result = results[host.name]
        console.rule(f"{host.name} ({host.role})")
        if isinstance(result, DeployError):
            console.print(f"FAILED: {result}", markup=False, style="red", soft_wrap=True)
            continue
        states, result = result
        phases += print_phases(console, states)
        if result.deferred:
            console.print(
                "merged once the install phases put the packaged file there: "
                + ", ".join(result.deferred),
                markup=False,
            )
        for change in result.changes:
            console.print(unified_diff(change), markup=False, end="", soft_wrap=True)
        total += len(result.changes)
        actions = result.actions(rolling=False) + result.actions(rolling=True)
        if result.pending:
            left = [str(a) for part in result.pending.values() for a in part]
            console.print("left unfinished by an earlier apply: " + "; ".join(left), markup=False)
        if not result.changes and not actions and not any(s.todo() for s in states):
            console.print("no changes", markup=False)
        elif actions:
            console.print("would run: " + "; ".join(map(str, actions)), markup=False)
    rolling = [
        h.name
        for h in rolling_order(inv, hosts)
        if not isinstance(plan := results[h.name], DeployError) and plan[1].has_work(rolling=True)
    ]
    if rolling:
        console.print("Cassandra would restart one node at a time: " + ", ".join(rolling))
    console.print(
        f"plan: {total} file(s) would change, {phases} install phase(s) to run; "
        "nothing was written",
        markup=False,
    )
    return 1 if any(isinstance(r, DeployError) for r in results.values()) else 0


def run_apply(
    inv: Inventory,
    hosts: Sequence[DeployHost],
    creds: Credentials,
    *,
    fail_fast: bool = False,
    installer: Installer | None = None,
    **_: object,
) -> int:
    progress = Progress(_console())
    with Sessions(inv, creds) as sessions, progress.showing([h.name for h in hosts]):
        outcomes = apply(inv, hosts, sessions, progress, fail_fast=fail_fast, installer=installer)
    progress.summary(outcomes)
    return 1 if any(o.status in ("failed", "skipped") for o in outcomes) else 0

"""The three deploy actions as the CLI runs them: sessions in, a report out, an exit code."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from rackpanel.deploy.apply import apply
from rackpanel.deploy.check import check
from rackpanel.deploy.files import HostPlan
from rackpanel.deploy.hosts import DeployHost
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


def run_check(inv: Inventory, hosts: Sequence[DeployHost], creds: Credentials, **_: object) -> int:
    with Sessions(inv, creds) as sessions:
        rows = check(inv, hosts, sessions)
    table = Table(title="rackpanel deploy check")
    columns = (
        "host",
        "role",
        "ssh",
        "host key",
        "sudo",
        "java",
        "cassandra",
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
    bad = [r.host.name for r in rows if not r.ok]
    console.print(f"{len(rows) - len(bad)} of {len(rows)} host(s) ready", markup=False)
    return 1 if bad else 0


def run_plan(inv: Inventory, hosts: Sequence[DeployHost], creds: Credentials, **_: object) -> int:
    console = _console()

    def one(host: DeployHost) -> HostPlan | DeployError:
        try:
            return plan_host(inv, host, sessions.get(host))
        except DeployError as exc:
            return exc

    with Sessions(inv, creds) as sessions, ThreadPoolExecutor(inv.deploy.parallel) as pool:
        results = dict(zip([h.name for h in hosts], pool.map(one, hosts), strict=True))
    total = 0
    for host in hosts:
        result = results[host.name]
        console.rule(f"{host.name} ({host.role})")
        if isinstance(result, DeployError):
            console.print(f"FAILED: {result}", markup=False, style="red", soft_wrap=True)
            continue
        for change in result.changes:
            console.print(unified_diff(change), markup=False, end="", soft_wrap=True)
        total += len(result.changes)
        actions = result.actions(rolling=False) + result.actions(rolling=True)
        if result.pending:
            left = [str(a) for part in result.pending.values() for a in part]
            console.print("left unfinished by an earlier apply: " + "; ".join(left), markup=False)
        if not result.changes and not actions:
            console.print("no changes", markup=False)
        elif actions:
            console.print("would run: " + "; ".join(map(str, actions)), markup=False)
    rolling = [
        h.name
        for h in rolling_order(inv, hosts)
        if isinstance(plan := results[h.name], HostPlan) and plan.has_work(rolling=True)
    ]
    if rolling:
        console.print("Cassandra would restart one node at a time: " + ", ".join(rolling))
    console.print(f"plan: {total} file(s) would change; nothing was written", markup=False)
    return 1 if any(isinstance(r, DeployError) for r in results.values()) else 0


def run_apply(
    inv: Inventory,
    hosts: Sequence[DeployHost],
    creds: Credentials,
    *,
    fail_fast: bool = False,
) -> int:
    progress = Progress(_console())
    with Sessions(inv, creds) as sessions, progress.showing([h.name for h in hosts]):
        outcomes = apply(inv, hosts, sessions, progress, fail_fast=fail_fast)
    progress.summary(outcomes)
    return 1 if any(o.status in ("failed", "skipped") for o in outcomes) else 0

"""The three deploy actions as the CLI runs them: sessions in, a report out, an exit code."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from rich.console import Console
from rich.table import Table

from deploy.apply import apply
from deploy.check import check
from deploy.files import actions_for
from deploy.hosts import DeployHost
from deploy.plan import plan_host, unified_diff
from deploy.progress import Progress
from deploy.sessions import Sessions
from deploy.ssh import Credentials, DeployError
from topology import Inventory


def _console() -> Console:
    return Console(highlight=False)


def run_check(inv: Inventory, hosts: Sequence[DeployHost], creds: Credentials, **_: object) -> int:
    with Sessions(inv, creds) as sessions:
        rows = check(inv, hosts, sessions)
    table = Table(title="rackpanel deploy check")
    for column in ("host", "role", "ssh", "sudo", "java", "cassandra", "disk free", "problems"):
        table.add_column(column, no_wrap=column == "host")
    for row in rows:
        table.add_row(
            row.host.name,
            row.host.role,
            row.ssh,
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
            console.print(f"{row.host.name}: {problem}", markup=False, soft_wrap=True)
    bad = [r.host.name for r in rows if not r.ok]
    console.print(f"{len(rows) - len(bad)} of {len(rows)} host(s) ready", markup=False)
    return 1 if bad else 0


def run_plan(inv: Inventory, hosts: Sequence[DeployHost], creds: Credentials, **_: object) -> int:
    console = _console()

    def one(host: DeployHost) -> tuple[DeployHost, object]:
        try:
            return host, plan_host(inv, host, sessions.get(host))
        except DeployError as exc:
            return host, exc

    with Sessions(inv, creds) as sessions, ThreadPoolExecutor(inv.deploy.parallel) as pool:
        results = list(pool.map(one, hosts))
    failed = 0
    total = 0
    for host, result in results:
        console.rule(f"{host.name} ({host.role})")
        if isinstance(result, DeployError):
            failed += 1
            console.print(f"FAILED: {result}", markup=False, style="red")
            continue
        for change in result.changes:  # type: ignore[attr-defined]
            console.print(unified_diff(change), markup=False, end="", soft_wrap=True)
        actions = actions_for(result.changes)  # type: ignore[attr-defined]
        total += len(result.changes)  # type: ignore[attr-defined]
        if not result.changes:  # type: ignore[attr-defined]
            console.print("no changes", markup=False)
        elif actions:
            console.print("would run: " + "; ".join(map(str, actions)), markup=False)
    console.print(f"plan: {total} file(s) would change; nothing was written", markup=False)
    return 1 if failed else 0


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

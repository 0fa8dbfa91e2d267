"""What would change on a host: render every managed file against what is installed."""

from __future__ import annotations

import difflib
import shlex

from rackpanel.deploy.files import FileChange, HostPlan, parse_actions, pending_path, sha256
from rackpanel.deploy.hosts import DeployHost
from rackpanel.deploy.remote import Remote, temp_name
from rackpanel.deploy.render import files_for
from rackpanel.deploy.ssh import DeployError
from rackpanel.deploy.textmerge import MergeError
from rackpanel.topology import Inventory


def plan_host(
    inv: Inventory, host: DeployHost, remote: Remote, *, installing: bool = False
) -> HostPlan:
    """Read each managed file and compare checksums with its rendering; nothing is written.

    ``installing``: install phases are still to run, so a file merged into one a package
    installs (cassandra.yaml) may be missing yet: it is listed in ``deferred``.
    """
    result = HostPlan()
    specs = files_for(inv, host)
    for spec in specs:
        path = remote.path(spec.path)
        old = remote.read(path)
        try:
            new = spec.render(old)
        except MergeError as exc:
            if installing and old is None:
                result.deferred.append(spec.path)
                continue
            raise DeployError(f"{host.name}: {exc}") from None
        if old is not None and sha256(old) == sha256(new):
            result.unchanged += 1
        else:
            result.changes.append(FileChange(spec, path, old, new))
    for rolling in (False, True):
        left = remote.read(remote.path(pending_path(rolling)))
        if left:
            result.pending[rolling] = parse_actions(left)
    temps = " ".join(shlex.quote(temp_name(remote.path(s.path))) for s in specs)
    found = remote.run(f"ls -d {temps} 2>/dev/null").out.split("\n")
    result.leftovers = [line for line in found if line]
    return result


def unified_diff(change: FileChange) -> str:
    if change.spec.secret:
        what = "written once" if change.old is None else "replaced"
        return f"--- {change.spec.path}\n(secret: {what}, contents not shown)\n"
    old = (change.old or "").splitlines(keepends=True)
    new = change.new.splitlines(keepends=True)
    before = change.spec.path if change.old is not None else "/dev/null"
    lines = difflib.unified_diff(old, new, before, change.spec.path)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)

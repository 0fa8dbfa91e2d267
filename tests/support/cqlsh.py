"""Drive the real cqlsh (the PyPI package, a dev dependency) against a simulator over TCP,
as a person would: statements piped on stdin, or given with ``-e``, or in a file with ``-f``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

CQLSH = Path(sys.executable).with_name("cqlsh")
TIMEOUT = 120.0


def cqlsh(
    host: str,
    port: int,
    *args: str,
    stdin: str | None = None,
    home: Path | None = None,
    timeout: float = TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run ``cqlsh host port ARGS`` (``HOME`` kept apart so no cqlshrc or history leaks in)."""
    env = dict(os.environ)
    if home is not None:
        env["HOME"] = str(home)
    return subprocess.run(
        [str(CQLSH), host, str(port), "--request-timeout", "60", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def transcript(result: subprocess.CompletedProcess[str]) -> str:
    """What the person saw, without cqlsh's version-mismatch warning line."""
    lines = (result.stdout + result.stderr).splitlines()
    return "\n".join(line for line in lines if "cqlsh was built against" not in line)


def shell_for(handle, home: Path, node: int = 0) -> Callable[..., str]:
    """``run(*args, stdin=None) -> transcript`` for cqlsh against one node of a simulator."""
    host, port = handle.contact_points()[node], handle.inventory.ports.cql

    def run(*args: str, stdin: str | None = None) -> str:
        return transcript(cqlsh(host, port, *args, stdin=stdin, home=home))

    return run


def piped(handle, home: Path, statements: str, node: int = 0) -> str:
    """The transcript of ``statements`` piped into cqlsh, as typed at its prompt."""
    return shell_for(handle, home, node)(stdin=statements)

"""Warn when a file holding a secret can be read by other users of the machine.

Like ssh with a private key, but a warning rather than a refusal: on a Pi the file may be
group-readable on purpose (the service's group). The warning names the option, the file, its
mode and the fix, once per file, on stderr.
"""

from __future__ import annotations

import os
import stat
import sys
from typing import TextIO

_warned: set[str] = set()


def readable_by_others(path: str | os.PathLike[str]) -> int | None:
    """The file's permission bits when group or others may read it, else None."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    bits = stat.S_IMODE(mode)
    return bits if bits & (stat.S_IRGRP | stat.S_IROTH) else None


def warn_if_readable_by_others(
    path: str | os.PathLike[str], what: str, out: TextIO | None = None
) -> bool:
    """Print one warning for ``path`` (named by ``what``, e.g. ``--password-file``) when group
    or others can read it; True when it warned."""
    bits = readable_by_others(path)
    key = os.path.realpath(path)
    if bits is None or key in _warned:
        return False
    _warned.add(key)
    who = "everyone" if bits & stat.S_IROTH else "its group"
    print(
        f"rackpanel: warning: {what} {path} holds a secret but {who} can read it "
        f"(mode {bits:04o}); run: chmod 600 {path}",
        file=out or sys.stderr,
    )
    return True

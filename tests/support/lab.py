"""The test lab's loopback address space: every server a test starts lives in a range of its own.

A range is a second octet ``k`` (addresses 127.k.x.y). :func:`loopback_octet` hands out a fresh
one per call and holds it, with an exclusive ``flock`` on a file in the temp directory, until
this process ends: two test sessions on one machine (another checkout's suite, CI, a helper's
benchmark) never share a range, and none is ever 0, the range the demo's inventory uses, so the
suite runs while ``./dev.sh demo`` does. A range whose usual ports are already bound by some
other program is skipped too.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import tempfile
from pathlib import Path
from typing import IO

LOCK_DIR = Path(tempfile.gettempdir()) / "rackpanel-lab"
FIRST, LAST = 2, 254
# Where the simulator and the demo put their listeners in a shifted inventory.
PROBES = (("{net}.11.1", 9042), ("{net}.0.1", 9499), ("{net}.0.1", 9090))

_held: dict[int, IO[str]] = {}


def loopback_octet() -> int:
    """A second octet no other test, session or program on this machine is using."""
    LOCK_DIR.mkdir(mode=0o1777, parents=True, exist_ok=True)
    start = FIRST + os.getpid() % (LAST - FIRST + 1)  # spread concurrent sessions apart
    for step in range(LAST - FIRST + 1):
        k = FIRST + (start - FIRST + step) % (LAST - FIRST + 1)
        if k in _held:
            continue
        handle = _try_lock(k)
        if handle is None:
            continue
        if not _range_is_free(k):
            handle.close()
            continue
        _held[k] = handle
        return k
    raise RuntimeError(f"no free loopback range 127.k.0.0/16 left (locks in {LOCK_DIR})")


def _try_lock(k: int) -> IO[str] | None:
    path = LOCK_DIR / f"127.{k}.lock"
    handle = path.open("a+")
    with contextlib.suppress(OSError):
        os.chmod(path, 0o666)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def _range_is_free(k: int) -> bool:
    for host, port in PROBES:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host.format(net=f"127.{k}"), port))
            except OSError:
                return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on at ``host`` right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])

"""Is a TCP port free, and if not, which process holds it (from /proc, no extra tools)."""

from __future__ import annotations

import errno
import os
import socket
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PortOwner:
    pid: int
    command: str

    def __str__(self) -> str:
        return f"pid {self.pid} ({self.command})"


class PortInUse(RuntimeError):
    def __init__(self, service: str, host: str, port: int, owner: PortOwner | None) -> None:
        blame = f"by {owner}" if owner else "by a process this user cannot see"
        super().__init__(f"{service}: {host}:{port} is already in use {blame}")
        self.service = service
        self.host = host
        self.port = port
        self.owner = owner


def is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def _hex_endpoint(host: str, port: int) -> str:
    packed = socket.inet_aton(host)
    return f"{int.from_bytes(packed, 'little'):08X}:{port:04X}"


def _listening_inodes(host: str, port: int) -> set[str]:
    wanted = {_hex_endpoint(host, port), _hex_endpoint("0.0.0.0", port)}
    inodes: set[str] = set()
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return inodes
    for line in lines:
        fields = line.split()
        if len(fields) > 9 and fields[1] in wanted and fields[3] == "0A":  # 0A = LISTEN
            inodes.add(fields[9])
    return inodes


def owner_of(host: str, port: int) -> PortOwner | None:
    """The process listening on ``host:port`` (or on 0.0.0.0:port), if /proc lets us see it."""
    inodes = _listening_inodes(host, port)
    if not inodes:
        return None
    targets = {f"socket:[{inode}]" for inode in inodes}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in targets:
                    raw = (proc / "cmdline").read_bytes().replace(b"\0", b" ").strip()
                    return PortOwner(int(proc.name), raw.decode(errors="replace")[:120])
        except OSError:
            continue
    return None


def check_free(service: str, host: str, port: int) -> None:
    """Raise :class:`PortInUse` naming the process to blame when ``host:port`` is taken."""
    if not is_free(host, port):
        raise PortInUse(service, host, port, owner_of(host, port))

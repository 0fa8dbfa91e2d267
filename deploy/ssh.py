"""SSH sessions to the hosts: pinned host keys, key or agent authentication, nothing else.

Host keys are checked against the project's known_hosts file. An unknown key is refused
(:class:`paramiko.RejectPolicy`) unless the user chose ``--accept-new``, which is printed and
records the key; a changed key is always refused. Passwords are never used for SSH.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import paramiko
from rackpanel.deploy.hosts import DeployHost

log = logging.getLogger(__name__)


class DeployError(Exception):
    """A host could not be deployed; the message says why, naming the host.

    ``stage`` tells how far the connection got (``check`` shows it in its columns):
    ``unreachable``, ``host key unknown``, ``host key CHANGED``, ``auth failed``, or "" after.
    """

    def __init__(self, message: str, stage: str = "") -> None:
        super().__init__(message)
        self.stage = stage


def fingerprint(key: paramiko.PKey) -> str:
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def known_hosts_name(address: str, port: int) -> str:
    return address if port == 22 else f"[{address}]:{port}"


class UnknownHostKey(paramiko.SSHException):
    pass


class RefuseUnknown(paramiko.RejectPolicy):
    """RejectPolicy, with the offered key's fingerprint in the error so the user can verify it."""

    def __init__(self, known_hosts: Path) -> None:
        self.known_hosts = known_hosts

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey):
        raise UnknownHostKey(
            f"host key of {hostname} is not in {self.known_hosts} (offered {key.get_name()} "
            f"{fingerprint(key)}); verify it and add it, or run again with --accept-new"
        )


class AcceptNew(paramiko.MissingHostKeyPolicy):
    """``--accept-new``: trust a host seen for the first time, record its key, and say so.

    Only keys that are *missing* reach a policy; a key that differs from the recorded one raises
    :class:`paramiko.BadHostKeyException` before, so a changed key is still refused.
    """

    _lock = threading.Lock()

    def __init__(self, known_hosts: Path, announce: Callable[[str], None]) -> None:
        self.known_hosts = known_hosts
        self.announce = announce

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey):
        with self._lock:
            self.known_hosts.parent.mkdir(parents=True, exist_ok=True)
            with self.known_hosts.open("a", encoding="ascii") as handle:
                handle.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")
        client.get_host_keys().add(hostname, key.get_name(), key)
        self.announce(
            f"--accept-new: trusting the new host key of {hostname} ({key.get_name()} "
            f"{fingerprint(key)}), recorded in {self.known_hosts}"
        )


@dataclass(frozen=True)
class Credentials:
    """Who deploy logs in as. The sudo password is never printed (``repr=False``)."""

    user: str
    identity_file: Path | None
    known_hosts: Path
    accept_new: bool = False
    connect_timeout: float = 10.0
    sudo_password: str | None = field(default=None, repr=False)
    announce: Callable[[str], None] = print


def connect(host: DeployHost, creds: Credentials) -> paramiko.SSHClient:
    """An authenticated session to ``host``, or :class:`DeployError` saying what went wrong."""
    client = paramiko.SSHClient()
    if creds.known_hosts.exists():
        client.load_host_keys(str(creds.known_hosts))
    policy: paramiko.MissingHostKeyPolicy = (
        AcceptNew(creds.known_hosts, creds.announce)
        if creds.accept_new
        else RefuseUnknown(creds.known_hosts)
    )
    client.set_missing_host_key_policy(policy)
    where = f"{creds.user}@{host.address}:{host.port}"
    try:
        client.connect(
            host.address,
            port=host.port,
            username=creds.user,
            key_filename=str(creds.identity_file) if creds.identity_file else None,
            allow_agent=creds.identity_file is None,
            look_for_keys=creds.identity_file is None,
            timeout=creds.connect_timeout,
            banner_timeout=creds.connect_timeout,
            auth_timeout=creds.connect_timeout,
        )
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise DeployError(
            f"{host.name}: host key CHANGED for {known_hosts_name(host.address, host.port)}: "
            f"{creds.known_hosts} has {fingerprint(exc.expected_key)}, the host offers "
            f"{fingerprint(exc.key)}; refusing to connect (if the host was reinstalled, "
            "remove its old line from known_hosts)",
            stage="host key CHANGED",
        ) from None
    except UnknownHostKey as exc:
        client.close()
        raise DeployError(f"{host.name}: refused: {exc}", stage="host key unknown") from None
    except paramiko.AuthenticationException as exc:
        client.close()
        how = f"key {creds.identity_file}" if creds.identity_file else "the agent or ~/.ssh keys"
        raise DeployError(
            f"{host.name}: authentication failed for {where} with {how}: {exc}",
            stage="auth failed",
        ) from None
    except TimeoutError as exc:
        client.close()
        raise DeployError(
            f"{host.name}: unreachable: {where} timed out ({exc})", stage="unreachable"
        ) from None
    except (OSError, EOFError, paramiko.SSHException) as exc:
        client.close()
        log.debug("%s: cannot connect to %s", host.name, where, exc_info=exc)  # --debug
        raise DeployError(
            f"{host.name}: unreachable: {where}: {_reason(exc)}", stage="unreachable"
        ) from None
    return client


def _reason(exc: BaseException) -> str:
    """Why a connection failed, in one plain phrase (paramiko glues its own text to errno's)."""
    if isinstance(exc, EOFError):
        return "the connection was closed before the SSH handshake"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc)
    if text.startswith("Error reading SSH protocol banner"):
        cause = text.removeprefix("Error reading SSH protocol banner").strip()
        cause = cause.split("] ", 1)[-1] if cause.startswith("[Errno") else cause
        return f"no SSH banner ({cause or 'nothing received'})"
    return text

"""Commands and files on one host over an SSH session, with sudo when the user is not root.

Files are replaced atomically: the new content goes to a temporary name in the same directory,
its checksum is verified there, the old file is copied to ``<file>.rackpanel-bak``, and only then
``mv`` renames the new file over it. An interrupted upload leaves the old file as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import posixpath
import shlex
from collections.abc import Callable
from dataclasses import dataclass

import paramiko
from rackpanel.deploy.hosts import DeployHost
from rackpanel.deploy.ssh import Credentials, DeployError, connect

BACKUP_SUFFIX = ".rackpanel-bak"
UploadProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def temp_name(path: str) -> str:
    directory, name = posixpath.split(path)
    return f"{directory}/.{name}.rackpanel-new"


class Remote:
    """One host's session. ``path()`` maps a real absolute path under ``remote_root``."""

    def __init__(
        self,
        host: DeployHost,
        creds: Credentials,
        remote_root: str | None,
        command_timeout: float,
        command_wrapper: str | None = None,
    ) -> None:
        self.host = host
        self.creds = creds
        self.root = (remote_root or "").format(host=host.name).rstrip("/")
        self.wrapper = (command_wrapper or "").format(host=host.name)
        self.command_timeout = command_timeout
        self.client = connect(host, creds)
        self._sftp: paramiko.SFTPClient | None = None
        self.is_root = self.run("id -u").out.strip() == "0"

    # ---- commands ------------------------------------------------------------------------
    def run(
        self,
        command: str,
        *,
        privileged: bool = False,
        timeout: float | None = None,
        stdin: str | None = None,
    ) -> Result:
        """Run ``command`` (via sudo when ``privileged`` and not root); a failing exit is returned.

        With sudo the password goes to sudo's stdin only, never into the command line or a log;
        ``stdin`` (a secret for the command) follows it.
        """
        stdin_data = b""
        if privileged and not self.is_root:
            if self.creds.sudo_password is not None:
                command = f"sudo -S -p '' sh -c {shlex.quote(command)}"
                stdin_data = (self.creds.sudo_password + "\n").encode()
            else:
                command = f"sudo -n sh -c {shlex.quote(command)}"
        try:
            channel_in, stdout, stderr = self.client.exec_command(
                command, timeout=timeout or self.command_timeout
            )
            stdin_data += (stdin or "").encode()
            if stdin_data:
                channel_in.write(stdin_data)
                channel_in.flush()
            channel_in.channel.shutdown_write()
            out = stdout.read().decode("utf-8", "replace")
            err = stderr.read().decode("utf-8", "replace")
            code = stdout.channel.recv_exit_status()
        except (OSError, paramiko.SSHException) as exc:
            raise DeployError(
                f"{self.host.name}: command timed out or connection lost: "
                f"{str(exc) or type(exc).__name__}"
            ) from None
        return Result(code, out, err)

    def system(
        self, command: str, *, timeout: float | None = None, stdin: str | None = None
    ) -> Result:
        """Run an install command as root on the host's system (``deploy.command_wrapper``
        first when set: the tests' hosts are disposable Debian roots)."""
        if self.wrapper:
            command = f"{self.wrapper} sh -c {shlex.quote(command)}"
        return self.run(command, privileged=True, timeout=timeout, stdin=stdin)

    def check(self, command: str, *, privileged: bool = False, what: str = "") -> Result:
        """Run ``command``; a non-zero exit becomes :class:`DeployError` with its stderr."""
        result = self.run(command, privileged=privileged)
        if result.code != 0:
            detail = (result.err or result.out).strip().splitlines()
            reason = detail[-1] if detail else "no output"
            raise DeployError(
                f"{self.host.name}: {what or command} failed (exit {result.code}): {reason}"
            )
        return result

    # ---- files ---------------------------------------------------------------------------
    def path(self, absolute: str) -> str:
        return f"{self.root}{absolute}"

    @property
    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            self._sftp = self.client.open_sftp()
        return self._sftp

    def read(self, path: str) -> str | None:
        """The file's text, or None when it does not exist."""
        try:
            with self.sftp.open(path, "rb") as handle:
                return handle.read().decode("utf-8")
        except FileNotFoundError:
            return None
        except UnicodeDecodeError:
            raise DeployError(f"{self.host.name}: {path} is not UTF-8 text") from None
        except PermissionError:
            result = self.check(f"cat {shlex.quote(path)}", privileged=True, what=f"reading {path}")
            return result.out
        except (OSError, paramiko.SSHException) as exc:
            raise DeployError(f"{self.host.name}: cannot read {path}: {exc}") from None

    def install_files(
        self,
        files: list[tuple[str, str | bytes, int]],
        progress: UploadProgress | None = None,
        groups: dict[str, str] | None = None,
    ) -> None:
        """Replace each ``(path, content, mode)``: upload all, then one script swaps them in.

        ``groups`` maps a path to a file whose group a *new* file of that path takes (a secret
        readable by its service's group only); a replaced file keeps its owner and group.

        Per file the script copies the staged upload next to its target, checks its checksum,
        backs the old file up and renames the new one over it, so each file is either the old
        or the new one, never a mix; it stops at the first failure.
        """
        if not files:
            return
        q = shlex.quote
        directories = sorted({posixpath.dirname(path) for path, _, _ in files})
        if self.is_root:
            self.check("mkdir -p " + " ".join(map(q, directories)), what="creating directories")
        else:
            home = self.sftp.normalize(".")
        steps = ["set -e"]
        for index, (path, text, mode) in enumerate(files):
            data = text if isinstance(text, bytes) else text.encode("utf-8")
            digest = hashlib.sha256(data).hexdigest()
            tmp = temp_name(path)
            staged = tmp if self.is_root else f"{home}/.rackpanel-staging-{index}-{digest[:12]}"
            self._upload(path, data, staged, progress)
            if staged != tmp:
                # copied, not moved: the installed file must belong to root, not to the user
                steps += [
                    f"mkdir -p {q(posixpath.dirname(path))}",
                    f"cp {q(staged)} {q(tmp)}",
                    f"rm -f {q(staged)}",
                ]
            reference = (groups or {}).get(path)
            if reference is not None:
                steps.append(
                    f"if [ -e {q(reference)} ]; then chgrp --reference={q(reference)} {q(tmp)}; fi"
                )
            steps += [
                f"chmod {mode:o} {q(tmp)}",
                f"echo {q(digest + '  ' + tmp)} | sha256sum -c --status",
                f"if [ -e {q(path)} ]; then cp -p {q(path)} {q(path + BACKUP_SUFFIX)}; "
                f"chown --reference={q(path)} {q(tmp)}; fi",
                f"sync {q(tmp)}",
                f"mv -f {q(tmp)} {q(path)}",
            ]
        self.check("\n".join(steps), privileged=True, what="installing the uploaded files")

    def checksums(self, paths: list[str]) -> dict[str, str]:
        """sha256 of each of ``paths`` that exists (absent ones are left out)."""
        if not paths:
            return {}
        listed = " ".join(shlex.quote(p) for p in paths)
        out = self.run(f"sha256sum {listed} 2>/dev/null", privileged=True).out
        found = {}
        for line in out.splitlines():
            digest, _, name = line.partition("  ")
            found[name] = digest
        return found

    def _upload(self, path: str, data: bytes, staged: str, progress: UploadProgress | None) -> None:
        def report(sent: int, total: int) -> None:
            if progress is not None:
                progress(path, sent, total)

        try:
            self.sftp.putfo(io.BytesIO(data), staged, file_size=len(data), callback=report)
        except (OSError, paramiko.SSHException, EOFError) as exc:
            reason = str(exc) or type(exc).__name__
            raise DeployError(
                f"{self.host.name}: upload of {path} interrupted ({reason}); "
                "the installed file was not touched"
            ) from None

    def close(self) -> None:
        """Close the session; a connection that already died closes quietly."""
        with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
            if self._sftp is not None:
                self._sftp.close()
        self.client.close()

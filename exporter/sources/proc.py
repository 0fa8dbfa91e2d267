"""The ``proc`` source: the Cassandra process's resident memory, CPU time and threads.

The process is found by its pid file (``--pid-file``, as written by ``cassandra -p``) or, failing
that, by the first process whose command line contains ``--process-pattern`` (default
``org.apache.cassandra.service.CassandraDaemon``), never the exporter itself. Figures come from
``/proc/<pid>/stat`` (utime + stime, num_threads, rss); the pid is re-checked on every
collection through its start time, so a restarted Cassandra is picked up again.
"""

from __future__ import annotations

import os
from pathlib import Path

from rackpanel.exporter.readings import ProcReading
from rackpanel.exporter.sources import SourceError

DEFAULT_PATTERN = "org.apache.cassandra.service.CassandraDaemon"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def read_stat(pid: int, proc: Path = Path("/proc")) -> tuple[ProcReading, int]:
    """The figures of ``pid`` and its start time (clock ticks after boot)."""
    try:
        text = (proc / str(pid) / "stat").read_text()
    except OSError:
        raise SourceError(f"process {pid} is gone") from None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "; comm may hold spaces
    # fields[0] is stat field 3 (state): utime 14, stime 15, num_threads 20, starttime 22, rss 24
    utime, stime = int(fields[11]), int(fields[12])
    reading = ProcReading(
        pid=pid,
        resident_bytes=int(fields[21]) * _PAGE_SIZE,
        cpu_seconds=(utime + stime) / _CLOCK_TICKS,
        threads=int(fields[17]),
    )
    return reading, int(fields[19])


class ProcSource:
    name = "proc"

    def __init__(
        self,
        pid_file: str | None = None,
        pattern: str | None = DEFAULT_PATTERN,
        proc: Path = Path("/proc"),
    ) -> None:
        self.pid_file = pid_file
        self.pattern = pattern
        self.proc = proc
        self._known: tuple[int, int] | None = None  # (pid, start time) of the last match

    def collect(self) -> ProcReading:
        if self._known is not None:
            pid, started = self._known
            try:
                reading, start = read_stat(pid, self.proc)
                if start == started and self._still_ours(pid):
                    return reading
            except SourceError:
                pass
            self._known = None
        pid = self._find()
        reading, start = read_stat(pid, self.proc)
        self._known = (pid, start)
        return reading

    def _still_ours(self, pid: int) -> bool:
        return self.pid_file is None or self._pid_from_file() == pid

    def _find(self) -> int:
        if self.pid_file:
            pid = self._pid_from_file()
            if not (self.proc / str(pid)).exists():
                raise SourceError(f"{self.pid_file}: process {pid} is not running")
            return pid
        if not self.pattern:
            raise SourceError("neither a pid file nor a process pattern is configured")
        needle = self.pattern.encode()
        me = os.getpid()
        for entry in self.proc.iterdir():
            if not entry.name.isdigit() or int(entry.name) == me:
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if needle in cmdline:
                return int(entry.name)
        raise SourceError(f"no process matches {self.pattern!r}")

    def _pid_from_file(self) -> int:
        assert self.pid_file is not None
        try:
            text = Path(self.pid_file).read_text().strip()
        except OSError as exc:
            reason = exc.strerror
            raise SourceError(f"{self.pid_file}: cannot read the pid file: {reason}") from None
        if not text.isdigit():
            raise SourceError(f"{self.pid_file}: not a pid: {text[:40]!r}")
        return int(text)

    def close(self) -> None:
        pass

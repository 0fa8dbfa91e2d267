"""Resource limits of the simulator's CQL servers, after Cassandra 5.0's defaults.

- frames: ``native_transport_max_frame_size`` is 16 MiB in Cassandra 5.0 (``Config``); a
  bigger request is answered ``Request is too big: length N exceeds maximum allowed length
  16777216.`` (an InvalidRequest, as ``Envelope.Decoder`` sends it), its bytes are skipped and
  the connection stays open;
- connections: the open-files soft limit is raised to the hard limit at start, and each node
  accepts at most its share of it (one log line when a node refuses, as Cassandra's
  ``ConnectionLimitHandler`` logs through a ``NoSpamLogger``);
- read timeouts: a frame left incomplete, or a connection that never completes STARTUP, is
  closed after ``RACKPANEL_SIM_READ_TIMEOUT`` seconds (default 30);
- back-pressure: a client that does not read its answers stops being read from once the
  socket's write buffer passes the high-water mark (asyncio's pause_writing).
"""

from __future__ import annotations

import logging
import os
import resource
import time
from dataclasses import dataclass

MAX_FRAME_BYTES = 16 * 1024 * 1024
FD_RESERVE = 256  # files the process keeps for itself: listeners, admin API, logs, Jolokia
MIN_CONNECTIONS_PER_NODE = 16
MAX_CONNECTIONS_PER_NODE = 16384
WRITE_HIGH_WATER = 4 * 1024 * 1024  # bytes queued to a client before we stop reading it


def raise_open_files_limit() -> int:
    """Raise RLIMIT_NOFILE's soft limit to the hard limit; the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


@dataclass(frozen=True)
class ServerLimits:
    """The limits every node's CQL server applies (one object for the whole simulator)."""

    max_frame_bytes: int = MAX_FRAME_BYTES
    max_connections: int = 1024  # per node
    read_timeout: float = 30.0  # an incomplete frame, or no STARTUP yet, for this long: close

    @classmethod
    def for_cluster(cls, node_count: int, open_files: int) -> ServerLimits:
        """Each node's share of the open-files budget (env RACKPANEL_SIM_MAX_CONNECTIONS and
        RACKPANEL_SIM_READ_TIMEOUT override the defaults)."""
        share = (open_files - FD_RESERVE) // max(node_count, 1)
        per_node = max(MIN_CONNECTIONS_PER_NODE, min(MAX_CONNECTIONS_PER_NODE, share))
        per_node = int(os.environ.get("RACKPANEL_SIM_MAX_CONNECTIONS", per_node))
        timeout = float(os.environ.get("RACKPANEL_SIM_READ_TIMEOUT", cls.read_timeout))
        return cls(max_connections=per_node, read_timeout=timeout)


class RateLimitedLog:
    """One log line per key and interval; the lines held back are counted in the next one
    (what Cassandra's NoSpamLogger does for repeated errors)."""

    def __init__(self, logger: logging.Logger, interval: float = 60.0) -> None:
        self.logger = logger
        self.interval = interval
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def log(self, level: int, key: str, message: str, *args: object) -> bool:
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._held[key] = self._held.get(key, 0) + 1
            return False
        self._last[key] = now
        held = self._held.pop(key, 0)
        if held:
            message += f" ({held} similar messages held back)"
        self.logger.log(level, message, *args)
        return True

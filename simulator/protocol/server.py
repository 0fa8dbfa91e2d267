"""One CQL server per simulated node, on its own accept loop so power cuts look real.

- powered on: a listening socket and a task accepting connections from it;
- ``power_off(crash=False)`` — a power cut: the accept task stops but the listening socket
  stays open (the kernel still completes TCP handshakes, so new connections hang), and every
  established connection goes silent (no answer, no FIN, no RST);
- ``power_off(crash=True)`` — a process death: listener closed, every connection reset (RST);
- ``power_on()`` — the node boots again: stale connections and the queued handshakes of the
  silent period are reset (as a rebooted kernel does), then a fresh listener accepts;
- a cut DC link between a client (a writer, by its source address) and the node holds that
  client's connection: nothing passes either way until the link heals, then it flows again.

Limits (:mod:`~rackpanel.simulator.protocol.limits`): a node holds at most
``limits.max_connections`` client connections (one more is closed at once, and the node says
so in the log once a minute); once a second the server closes connections that sent part of a
frame, or no STARTUP, ``limits.read_timeout`` seconds ago.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable

from rackpanel.simulator.protocol.connection import Connection, RequestHandler
from rackpanel.simulator.protocol.limits import RateLimitedLog, ServerLimits

log = logging.getLogger(__name__)
_refusals = RateLimitedLog(log)  # one line a minute per node, however many are refused

BACKLOG = 4096


class NodeServer:
    """The CQL listener of one node; ``reachable(client_address)`` says if a link is cut."""

    def __init__(
        self,
        host: str,
        port: int,
        handler: RequestHandler,
        reachable: Callable[[str], bool] | None = None,
        limits: ServerLimits | None = None,
    ) -> None:
        self.limits = limits or ServerLimits()
        self.host = host
        self.port = port
        self.handler = handler
        self.reachable = reachable or (lambda client_address: True)
        self.connections: set[Connection] = set()
        self._listener: socket.socket | None = None
        self._accepting: asyncio.Task | None = None
        self.powered = False

    # ---- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        self._listen()
        self._start_accepting()
        self.powered = True

    async def stop(self) -> None:
        self._stop_accepting()
        self._close_listener()
        for conn in list(self.connections):
            conn.reset()
        self.connections.clear()
        self.powered = False

    def power_off(self, crash: bool = False) -> None:
        self.powered = False
        self._stop_accepting()
        if crash:
            self._close_listener()
            for conn in list(self.connections):
                conn.reset()
            self.connections.clear()
        else:
            for conn in list(self.connections):
                conn.silence()

    def power_on(self) -> None:
        if self.powered:
            return
        for conn in list(self.connections):
            conn.reset()
        self.connections.clear()
        self._close_listener()
        self._listen()
        self._start_accepting()
        self.powered = True

    # ---- events ---------------------------------------------------------------------------
    def push_event(self, event_type: str, body: bytes) -> None:
        if not self.powered:
            return
        for conn in list(self.connections):
            conn.push_event(event_type, body)

    # ---- partitions between clients and this node ----------------------------------------
    def apply_links(self) -> None:
        """Hold the connections of clients a cut DC link separates from this node (the
        cluster calls it when a link changes; new connections check at their start)."""
        for conn in list(self.connections):
            if conn.address:
                conn.hold(not self.reachable(conn.address))

    def close_stalled(self) -> None:
        """Close the connections stuck in a half-sent frame or without STARTUP for too long
        (the simulator sweeps every server once a second)."""
        now = time.monotonic()
        for conn in list(self.connections):
            conn.check_read_timeout(now, self.limits.read_timeout)

    # ---- sockets --------------------------------------------------------------------------
    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise OSError(
                exc.errno, f"cannot listen on {self.host}:{self.port}: {exc.strerror}"
            ) from exc
        sock.listen(BACKLOG)
        sock.setblocking(False)
        self._listener = sock

    def _close_listener(self) -> None:
        if self._listener is not None:
            # closing a listener resets the connections still queued in its backlog
            self._listener.close()
            self._listener = None

    def _start_accepting(self) -> None:
        assert self._listener is not None
        self._accepting = asyncio.get_running_loop().create_task(self._accept_loop(self._listener))

    def _stop_accepting(self) -> None:
        if self._accepting is not None:
            self._accepting.cancel()
            self._accepting = None

    async def _accept_loop(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                client, _ = await loop.sock_accept(listener)
            except asyncio.CancelledError:
                raise
            except OSError as exc:  # e.g. EMFILE: back off instead of spinning
                _refusals.log(
                    logging.WARNING, f"accept {self.host}", "accept on %s:%s failed: %s",
                    self.host, self.port, exc,
                )  # fmt: skip
                await asyncio.sleep(0.1)
                continue
            if len(self.connections) >= self.limits.max_connections:
                self._refuse(client)
                continue
            client.setblocking(False)
            with contextlib.suppress(OSError):
                await loop.connect_accepted_socket(self._new_connection, client)

    def _refuse(self, client: socket.socket) -> None:
        """Over the limit: close at once, as Cassandra's ConnectionLimitHandler does."""
        client.close()
        limit = self.limits.max_connections
        _refusals.log(
            logging.ERROR,
            self.host,
            "%s: exceeded maximum native connection limit of %d by using %d connections "
            "(RACKPANEL_SIM_MAX_CONNECTIONS; the open-files limit is shared by every node)",
            self.host,
            limit,
            len(self.connections) + 1,
        )

    def _new_connection(self) -> Connection:
        conn = Connection(self.handler, self._forget, self.reachable, self.limits)
        self.connections.add(conn)
        return conn

    def _forget(self, conn: Connection) -> None:
        self.connections.discard(conn)

"""One client connection to one simulated node: framing, handshake, dispatch, events.

The connection decodes frames and hands requests to the node's :class:`RequestHandler`
(the executor). Requests run concurrently (one task each, answered on their stream id), as
the driver multiplexes many streams over a connection. A malformed frame answers a
ProtocolError and closes this connection only; nothing a client sends can stop the server.

Power physics are applied by the owning :class:`~simulator.protocol.server.NodeServer`:
``silence()`` (power cut: stop reading, never answer, keep the socket open — no FIN/RST),
``reset()`` (process death or reboot: RST at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, cast

from rackpanel.simulator.core import CqlError, InvalidRequest, ProtocolError, ServerError
from rackpanel.simulator.protocol import messages, segments
from rackpanel.simulator.protocol.compression import CODECS, Codec, lz4_block, negotiate
from rackpanel.simulator.protocol.frames import (
    FLAG_COMPRESSED,
    FLAG_TRACING,
    FLAG_WARNING,
    HEADER,
    HEADER_SIZE,
    SUPPORTED_VERSIONS,
    Opcode,
    encode_frame,
    unsupported_version_message,
)
from rackpanel.simulator.protocol.limits import WRITE_HIGH_WATER, ServerLimits
from rackpanel.simulator.protocol.segments import SegmentDecoder
from rackpanel.simulator.protocol.wire import Reader, enc_string_list

log = logging.getLogger(__name__)

CQL_VERSION = "3.4.6"
SUPPORTED_OPTIONS: dict[str, list[str]] = {
    "CQL_VERSION": [CQL_VERSION],
    "COMPRESSION": sorted(CODECS),
    "PROTOCOL_VERSIONS": ["3/v3", "4/v4", "5/v5"],
}
EVENT_TYPES = {"TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE"}
_LINGER_ZERO = struct.pack("ii", 1, 0)
FRAMES_PER_TURN = 32  # frames of one connection handled per loop turn (fairness)
_RESULT = int(Opcode.RESULT)  # looked up once, not per answer
_EXECUTE = int(Opcode.EXECUTE)


# What a handler gives for a request: the RESULT body, or the coroutine that will produce it
# (an ``async def`` method's call is one).
Outcome = bytes | Coroutine[Any, Any, bytes]


class RequestHandler(Protocol):
    """What a node's executor offers its connections; each gives an :data:`Outcome`."""

    def query(self, conn: Connection, request: messages.Query) -> Outcome: ...

    def prepare(self, conn: Connection, request: messages.Prepare) -> Outcome: ...

    def execute(self, conn: Connection, request: messages.Execute) -> Outcome: ...

    def batch(self, conn: Connection, request: messages.Batch) -> Outcome: ...

    def plain_write(
        self, statement_id: bytes, consistency: int, values: list, timestamp: int | None
    ) -> bytes | None:
        """A :func:`messages.read_plain_execute` EXECUTE done at once: the RESULT body, or
        None (nothing done) for one ``execute`` must run."""
        ...


# opcode → (decode the body, the handler's method that runs it)
_REQUESTS: dict[int, tuple[Callable[..., Any], str]] = {
    Opcode.QUERY: (messages.read_query, "query"),
    Opcode.EXECUTE: (messages.read_execute, "execute"),
    Opcode.PREPARE: (messages.read_prepare, "prepare"),
    Opcode.BATCH: (messages.read_batch, "batch"),
}


class Connection(asyncio.Protocol):
    """A client connection; ``keyspace`` is its USE state, the rest feeds system_views.clients."""

    def __init__(
        self,
        handler: RequestHandler,
        on_lost: Callable[[Connection], None],
        reachable: Callable[[str], bool] | None = None,
        limits: ServerLimits | None = None,
    ) -> None:
        self.limits = limits or ServerLimits()
        self.handler = handler
        self._requests = {  # opcode → (decode the body, the bound handler method)
            opcode: (read, getattr(handler, method)) for opcode, (read, method) in _REQUESTS.items()
        }
        self._plain_write = handler.plain_write
        self._on_lost = on_lost
        self._reachable = reachable
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self.keyspace: str | None = None
        self.ready = False
        self.silent = False
        self.held = False  # a cut DC link stands between this client and the node
        self.closed = False
        self.events: set[str] = set()
        self.address = ""
        self.port = 0
        self.driver_name = ""
        self.driver_version = ""
        self.protocol_version = 4  # the version of its frames, fixed by STARTUP
        self._segments: SegmentDecoder | None = None  # v5 after READY: CRC-checked segments
        self.request_count = 0
        self.connected_at = time.time()
        self._tasks: set[asyncio.Task] = set()
        self._outbox: list[bytes] = []
        self._receiving = False  # in data_received: it writes the answers itself when done
        self._discard = 0  # bytes of a too-big frame still to skip
        self._incomplete_since: float | None = None  # when a half-received frame started
        self._opened = time.monotonic()
        self._write_paused = False  # the client does not read its answers: stop reading it
        self._backlog = False  # frames received but left for a later loop turn
        self._codec: Codec | None = None  # v3/v4 frame compression, from STARTUP
        self._segment_compress: Callable[[bytes], bytes] | None = None  # v5 lz4 segments

    # ---- asyncio.Protocol ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername") or ("", 0)
        self.address, self.port = peer[0], peer[1]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)
        if self._reachable is not None and not self._reachable(self.address):
            self.hold(True)  # accepted by the kernel, but the link to the client is cut

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        for task in list(self._tasks):
            task.cancel()
        self._on_lost(self)

    def pause_writing(self) -> None:
        """Back-pressure: the answers pile up unread, so read no more requests for now."""
        self._write_paused = True
        if self.transport is not None and not (self.silent or self.held):
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        if self.transport is not None and not (
            self.silent or self.held or self.closed or self._backlog
        ):
            self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        if self.silent or self.closed:
            return
        self._receiving = True
        try:
            self._receive(data)
        finally:
            self._receiving = False
        if self._outbox:  # the answers of this read leave now, in one write (no extra turn)
            self._flush()

    def _receive(self, data: bytes) -> None:
        if self._segments is not None:
            try:
                data = self._segments.feed(data)
            except ProtocolError as exc:
                self._fail(0, exc)
                return
            for stream, length in self._segments.take_oversized():
                self._too_big(stream, length)
        self._buffer += data
        if not self.held:
            self._process()
        self._note_incomplete()

    def _note_incomplete(self) -> None:
        pending = bool(self._buffer) or self._discard > 0
        if self._segments is not None:
            pending = pending or self._segments.pending()
        if not pending:
            self._incomplete_since = None
        elif self._incomplete_since is None:
            self._incomplete_since = time.monotonic()

    def check_read_timeout(self, now: float, timeout: float) -> None:
        """Close a connection that sent part of a frame, or no STARTUP, ``timeout`` ago."""
        if self.closed or self.silent or self.held or self.transport is None:
            return
        if self._incomplete_since is not None and now - self._incomplete_since > timeout:
            reason = f"incomplete frame for more than {timeout:g} s"
        elif not self.ready and now - self._opened > timeout:
            reason = f"no STARTUP within {timeout:g} s"
        else:
            return
        log.info("closing connection from %s:%s: %s", self.address, self.port, reason)
        self.closed = True
        self.transport.close()

    def _too_big(self, stream: int, total: int) -> None:
        """Cassandra's answer to a frame over native_transport_max_frame_size (Envelope.Decoder):
        an InvalidRequest on its stream; the frame is skipped and the connection stays open."""
        self._send_error(
            stream,
            InvalidRequest(
                f"Request is too big: length {total} exceeds maximum allowed length "
                f"{self.limits.max_frame_bytes}."
            ),
        )

    def _skip_discarded(self) -> None:
        skipped = min(self._discard, len(self._buffer))
        del self._buffer[:skipped]
        self._discard -= skipped

    def _process(self) -> None:
        buf = self._buffer
        if self._discard:
            self._skip_discarded()
        handled = 0
        while len(buf) >= HEADER_SIZE:
            if handled == FRAMES_PER_TURN:  # a pipelined backlog: let the others have a turn
                self._defer()
                return
            handled += 1
            version, flags, stream, opcode, length = HEADER.unpack_from(buf, 0)
            if version & 0x80 or version not in SUPPORTED_VERSIONS:
                self._reject_version(version & 0x7F, stream)
                return
            if self.ready and version != self.protocol_version:
                self._fail(
                    stream,
                    ProtocolError(
                        f"Invalid message version. Got {version} but previous "
                        f"messages on this connection had version {self.protocol_version}"
                    ),
                )
                return
            if length < 0:
                self._fail(stream, ProtocolError(f"Invalid frame body length {length}"))
                return
            if HEADER_SIZE + length > self.limits.max_frame_bytes:
                self._too_big(stream, HEADER_SIZE + length)
                self._discard = HEADER_SIZE + length
                self._skip_discarded()
                continue
            end = HEADER_SIZE + length
            if len(buf) < end:
                return
            body = bytes(buf[HEADER_SIZE:end])
            del buf[:end]
            if flags & FLAG_COMPRESSED:
                if self._codec is None or self._segments is not None:
                    self._fail(
                        stream, ProtocolError("Compressed frame but no compression negotiated")
                    )
                    return
                try:
                    body = self._codec.decompress(body, self.limits.max_frame_bytes)
                except ProtocolError as exc:
                    self._fail(stream, exc)
                    return
            self._dispatch(version, stream, opcode, body, flags)
            if self.closed or self.silent or self.held:
                return

    def _defer(self) -> None:
        """Stop reading; the frames already received are taken up again on a later turn."""
        if not self._backlog and self.transport is not None:
            self._backlog = True
            self.transport.pause_reading()
            asyncio.get_running_loop().call_soon(self._continue)

    def _continue(self) -> None:
        self._backlog = False
        if self.closed or self.silent or self.held or self.transport is None:
            return
        self._process()
        if not self._backlog and not self._write_paused:
            self.transport.resume_reading()

    # ---- power physics (driven by NodeServer) ---------------------------------------------
    def silence(self) -> None:
        """Power cut: never read or answer again; the socket stays open (no FIN, no RST)."""
        self.silent = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()
        for task in list(self._tasks):
            task.cancel()

    def reset(self) -> None:
        """Process death or reboot: abort with SO_LINGER 0 so the client gets an RST."""
        self.silent = True
        if self.transport is None:
            return
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
        self.transport.abort()

    def hold(self, cut: bool) -> None:
        """A network partition between client and node: nothing passes while ``cut``; what
        was sent meanwhile is delivered when the link heals, as TCP would retransmit it."""
        if cut == self.held or self.silent or self.closed or self.transport is None:
            return
        self.held = cut
        if cut:
            self.transport.pause_reading()
            return
        if not (self._write_paused or self._backlog):
            self.transport.resume_reading()
        self._process()
        self._flush()

    def push_event(self, event_type: str, body: bytes) -> None:
        if event_type in self.events:
            self._send(-1, Opcode.EVENT, body)

    # ---- requests -----------------------------------------------------------------------
    def _can_send(self) -> bool:
        return not (
            self.silent or self.closed or self.transport is None or self.transport.is_closing()
        )

    def _send(self, stream: int, opcode: int, body: bytes, flags: int = 0) -> None:
        if self._codec is not None and self._segments is None:  # v3/v4 compress frame bodies
            body, flags = self._codec.compress(body), flags | FLAG_COMPRESSED
        self._queue(encode_frame(stream, opcode, body, self.protocol_version, flags))

    def _queue(self, frame: bytes) -> None:
        """Queue a frame; the frames of one read (or else of one loop iteration) leave in one
        write (:meth:`_flush`, which drops them if the connection can no longer send)."""
        if self._segments is not None:
            frame = segments.encode(frame, self._segment_compress)
        if not self._outbox and not self.held and not self._receiving:
            asyncio.get_running_loop().call_soon(self._flush)
        self._outbox.append(frame)

    def _flush(self) -> None:
        if self.held:
            return  # kept until the link heals
        frames, self._outbox = self._outbox, []
        if frames and self._can_send():
            self.transport.write(b"".join(frames))  # type: ignore[union-attr]

    def _send_error(self, stream: int, exc: CqlError) -> None:
        self._send(stream, Opcode.ERROR, messages.error_body(exc))

    def _fail(self, stream: int, exc: ProtocolError) -> None:
        """A malformed frame: answer it, then close this connection (and only this one)."""
        log.info("closing connection from %s:%s: %s", self.address, self.port, exc.message)
        self._send_error(stream, exc)
        self.held = False
        self._flush()
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _reject_version(self, version: int, stream: int) -> None:
        self._fail(stream, ProtocolError(unsupported_version_message(version)))

    def _dispatch(self, version: int, stream: int, opcode: int, body: bytes, flags: int) -> None:
        self.request_count += 1
        if not self.ready:
            self.protocol_version = version  # answer in the version the client speaks
        kind = self._requests.get(opcode) if self.ready else None
        plain = opcode == _EXECUTE and kind is not None and not flags & FLAG_TRACING
        if plain and self._write_plainly(stream, body):
            return
        try:
            reader = Reader(body)
            if kind is not None:  # QUERY, PREPARE, EXECUTE, BATCH: most frames
                read, run = kind
                request = read(reader, self.protocol_version)
                request.tracing = bool(flags & FLAG_TRACING)
                self._start(stream, run, request)
            elif opcode == Opcode.OPTIONS:
                self._send(stream, Opcode.SUPPORTED, messages.supported_body(SUPPORTED_OPTIONS))
            elif opcode == Opcode.STARTUP:
                self._startup(stream, messages.read_startup(reader))
            elif not self.ready:
                name = Opcode(opcode).name if opcode in Opcode._value2member_map_ else opcode
                raise ProtocolError(f"Unexpected message {name}, expecting STARTUP or OPTIONS.")
            elif opcode == Opcode.REGISTER:
                self._register(stream, messages.read_register(reader))
            else:
                raise ProtocolError(f"Unknown or unexpected opcode {opcode:#04x} in a request")
        except ProtocolError as exc:
            self._fail(stream, exc)
        except CqlError as exc:
            self._send_error(stream, exc)

    def _write_plainly(self, stream: int, body: bytes) -> bool:
        """Most EXECUTEs (a prepared INSERT whose replicas all answer), done without request
        objects; False when this one is not, for the general path."""
        plain = messages.read_plain_execute(body, self.protocol_version)
        if plain is None:
            return False
        try:
            answer = self._plain_write(*plain)
        except BaseException as exc:  # answered (or re-raised if not an Exception)
            self._answer_failure(stream, exc)
            return True
        if answer is None:
            return False
        self._send(stream, _RESULT, answer)
        return True

    def _startup(self, stream: int, startup: messages.Startup) -> None:
        compression = startup.options.get("COMPRESSION")
        codec = negotiate(compression, self.protocol_version) if compression else None
        self.driver_name = startup.options.get("DRIVER_NAME", "")
        self.driver_version = startup.options.get("DRIVER_VERSION", "")
        self.ready = True
        self._send(stream, Opcode.READY, b"")
        if self.protocol_version < 5:
            self._codec = codec  # every later frame body may be compressed
        else:  # from here on, both sides speak in segments
            decompress = None
            if codec is not None:
                self._segment_compress, decompress = lz4_block()
            self._segments = SegmentDecoder(self.limits.max_frame_bytes, decompress)
            rest = bytes(self._buffer)
            self._buffer.clear()
            self._buffer += self._segments.feed(rest)

    def _register(self, stream: int, register: messages.Register) -> None:
        unknown = [e for e in register.events if e not in EVENT_TYPES]
        if unknown:
            raise ProtocolError(f"Invalid value '{unknown[0]}' for Type")
        self.events.update(register.events)
        self._send(stream, Opcode.READY, b"")

    def _answer(self, stream: int, body: bytes, request: messages.Request) -> None:
        """A RESULT, led by the request's trace id and warnings when it has them."""
        if request.trace_id is None and not request.warnings:  # most answers
            self._send(stream, _RESULT, body)
            return
        flags, prefix = 0, b""
        if request.trace_id is not None:
            flags |= FLAG_TRACING
            prefix += request.trace_id.bytes
        if request.warnings and self.protocol_version >= 4:
            flags |= FLAG_WARNING
            prefix += enc_string_list(request.warnings)
        self._send(stream, _RESULT, prefix + body, flags)

    def _start(self, stream: int, run: Callable[..., Outcome], request: messages.Request) -> None:
        """Run a request on the handler. Most (a write whose replicas all answer) are answered
        by that call itself; a coroutine is stepped at once (:meth:`_spawn`)."""
        try:
            outcome = run(self, request)
        except BaseException as exc:  # answered (or re-raised if not an Exception)
            self._answer_failure(stream, exc)
            return
        if type(outcome) is bytes:
            self._answer(stream, outcome, request)
        else:
            self._spawn(stream, cast(Coroutine[Any, Any, bytes], outcome), request)

    def _spawn(
        self, stream: int, work: Coroutine[Any, Any, bytes], request: messages.Request
    ) -> None:
        """Run a request eagerly; only one that really waits becomes a task.

        Many requests never suspend, so the coroutine is stepped here at once and answered
        in the same loop turn, saving a Task per request. A request that suspends (a
        timeout, a gather) continues in :meth:`_resume`.
        """
        try:
            awaited = work.send(None)
        except StopIteration as done:
            self._answer(stream, done.value, request)
        except BaseException as exc:  # answered (or re-raised if not an Exception)
            self._answer_failure(stream, exc)
        else:
            task = asyncio.ensure_future(self._resume(stream, work, awaited, request))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _resume(
        self,
        stream: int,
        work: Coroutine[Any, Any, bytes],
        awaited: Any,
        request: messages.Request,
    ) -> None:
        """Drive a suspended request as a Task would: wait for what it awaits, step it again."""
        try:
            while True:
                try:
                    if awaited is None:  # a bare yield (asyncio.sleep(0))
                        await asyncio.sleep(0)
                    else:
                        await asyncio.wait([awaited])
                except asyncio.CancelledError:
                    if awaited is not None:
                        awaited.cancel()
                    work.close()
                    raise
                awaited = work.send(None)
        except StopIteration as done:
            self._answer(stream, done.value, request)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # answered (or re-raised if not an Exception)
            self._answer_failure(stream, exc)

    def _answer_failure(self, stream: int, exc: BaseException) -> None:
        if isinstance(exc, CqlError):
            self._send_error(stream, exc)
        elif isinstance(exc, Exception):  # a bug must answer the request, never kill the server
            log.error("request failed on stream %s", stream, exc_info=exc)
            self._send_error(stream, ServerError(f"{type(exc).__name__}: {exc}"))
        else:
            raise exc

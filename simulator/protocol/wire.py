"""Protocol primitives (native_protocol_v4.spec §3): a bounds-checked reader and encoders.

Every read past the end of the body raises :class:`core.ProtocolError`, so a malformed frame
becomes an ERROR answer (or a closed connection), never an exception escaping the server.
"""

from __future__ import annotations

import ipaddress
import struct

from rackpanel.simulator.core import ProtocolError

# the fixed-size primitives ([int], [short], [long]), public for readers that unpack in place
INT = struct.Struct(">i")
SHORT = struct.Struct(">H")
LONG = struct.Struct(">q")
_BYTE = struct.Struct(">B")
_SHORT_BODY = "Invalid message: body shorter than its fields"

UNSET = object()  # a bound value the client marked "unset" ([value] length -2)


class Reader:
    """Reads protocol primitives from one message body."""

    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def _take(self, n: int) -> bytes:
        pos = self.pos
        end = pos + n
        if n < 0 or end > len(self.buf):
            raise ProtocolError(_SHORT_BODY)
        self.pos = end
        return self.buf[pos:end]

    def fields(self, fmt: struct.Struct) -> tuple:
        """Several fixed-size fields at once (``fmt``: their struct)."""
        pos = self.pos
        end = pos + fmt.size
        if end > len(self.buf):
            raise ProtocolError(_SHORT_BODY)
        self.pos = end
        return fmt.unpack_from(self.buf, pos)

    def remaining(self) -> int:
        return len(self.buf) - self.pos

    def byte(self) -> int:
        return self.fields(_BYTE)[0]

    def short(self) -> int:
        return self.fields(SHORT)[0]

    def int(self) -> int:
        return self.fields(INT)[0]

    def long(self) -> int:
        return self.fields(LONG)[0]

    def string(self) -> str:
        return self._utf8(self._take(self.short()))

    def long_string(self) -> str:
        length = self.int()
        if length < 0:
            raise ProtocolError("Invalid message: negative [long string] length")
        return self._utf8(self._take(length))

    def short_bytes(self) -> bytes:
        buf, pos = self.buf, self.pos
        if pos + 2 > len(buf):
            raise ProtocolError(_SHORT_BODY)
        start = pos + 2
        end = start + SHORT.unpack_from(buf, pos)[0]
        if end > len(buf):
            raise ProtocolError(_SHORT_BODY)
        self.pos = end
        return buf[start:end]

    def bytes(self) -> bytes | None:
        length = self.int()
        return None if length < 0 else self._take(length)

    def value(self) -> bytes | object | None:
        """A bound [value]: bytes, None (null, -1) or UNSET (-2)."""
        length = self.int()
        if length == -2:
            return UNSET
        if length < 0:
            return None
        return self._take(length)

    def values(self) -> list:
        """A [short] count then as many bound [value]s (see :meth:`value`), in one loop."""
        buf, pos = self.buf, self.pos
        found: list = []
        try:
            (count,) = SHORT.unpack_from(buf, pos)
            pos += 2
            for _ in range(count):
                (length,) = INT.unpack_from(buf, pos)
                pos += 4
                if length >= 0:
                    end = pos + length
                    if end > len(buf):
                        raise ProtocolError(_SHORT_BODY)
                    found.append(buf[pos:end])
                    pos = end
                else:
                    found.append(UNSET if length == -2 else None)
        except struct.error:  # the count or a length runs past the end of the body
            raise ProtocolError(_SHORT_BODY) from None
        self.pos = pos
        return found

    def string_list(self) -> list[str]:
        return [self.string() for _ in range(self.short())]

    def string_map(self) -> dict[str, str]:
        return {self.string(): self.string() for _ in range(self.short())}

    @staticmethod
    def _utf8(raw: bytes) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("Invalid message: string is not valid UTF-8") from exc


# ---- encoders -------------------------------------------------------------------------------


def enc_int(n: int) -> bytes:
    return INT.pack(n)


def enc_short(n: int) -> bytes:
    return SHORT.pack(n)


def enc_string(s: str) -> bytes:
    raw = s.encode("utf-8")
    return SHORT.pack(len(raw)) + raw


def enc_short_bytes(b: bytes) -> bytes:
    return SHORT.pack(len(b)) + b


def enc_bytes(b: bytes | None) -> bytes:
    if b is None:
        return INT.pack(-1)
    return INT.pack(len(b)) + b


def enc_string_list(items: list[str]) -> bytes:
    return SHORT.pack(len(items)) + b"".join(enc_string(s) for s in items)


def enc_string_multimap(m: dict[str, list[str]]) -> bytes:
    return SHORT.pack(len(m)) + b"".join(enc_string(k) + enc_string_list(v) for k, v in m.items())


def enc_inet(address: str, port: int) -> bytes:
    packed = ipaddress.ip_address(address).packed
    return bytes([len(packed)]) + packed + INT.pack(port)

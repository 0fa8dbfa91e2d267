"""Protocol v5 framing: CRC-checked segments (native_protocol_v5.spec §2).

After READY on a v5 connection both sides wrap frames in segments:

    header: 3 bytes little-endian = payload length (17 bits) | self-contained flag (bit 17)
    CRC24 of those 3 header bytes (3 bytes little-endian)
    payload (at most 128 KiB - 1)
    CRC32 of the payload (4 bytes little-endian), seeded with the bytes fa 2d 55 ca

A self-contained segment holds one or more whole frames; a frame larger than one payload
is cut into consecutive non-self-contained segments. With lz4 negotiated the header is 5 bytes
(payload length, uncompressed length — 0 for a payload sent as is — and the flag) and each
payload an lz4 block (``FrameEncoderLZ4`` / ``FrameDecoderLZ4``). A split frame bigger than
the frame cap (16 MiB, as in Cassandra) is not assembled: its segments are skipped as they
come, and the decoder reports its stream id and length so the connection answers
"Request is too big".
"""

from __future__ import annotations

import functools
import struct
import zlib
from collections.abc import Callable

from rackpanel.simulator.core import ProtocolError

MAX_PAYLOAD = 128 * 1024 - 1
HEADER_LENGTH = 3
COMPRESSED_HEADER_LENGTH = 5
CRC24_LENGTH = 3
CRC32_LENGTH = 4
SELF_CONTAINED = 1 << 17
_CRC24_INIT = 0x875060
_CRC24_POLY = 0x1974F0B
_CRC32_SEED = zlib.crc32(bytes([0xFA, 0x2D, 0x55, 0xCA]))
_U32 = struct.Struct("<I")


def _crc24_step(register: int) -> int:
    """Eight shifts of the CRC24 register (the byte already XORed into its top)."""
    for _ in range(8):
        register <<= 1
        if register & 0x1000000:
            register ^= _CRC24_POLY
    return register


_CRC24_TABLE = [_crc24_step(byte << 16) for byte in range(256)]


@functools.lru_cache(maxsize=4096)
def crc24(value: int, length: int) -> int:
    """CRC24 over the ``length`` low bytes of ``value``, least significant byte first.

    Table-driven, and cached: a segment header is its payload length, which repeats.
    """
    crc = _CRC24_INIT
    for _ in range(length):
        crc = ((crc << 8) & 0xFFFFFF) ^ _CRC24_TABLE[((crc >> 16) ^ value) & 0xFF]
        value >>= 8
    return crc


def crc32(payload: bytes) -> int:
    return zlib.crc32(payload, _CRC32_SEED)


Compress = Callable[[bytes], bytes]
Decompress = Callable[[bytes, int], bytes]


def _segment(payload: bytes, self_contained: bool, compress: Compress | None = None) -> bytes:
    if compress is None:
        header = len(payload) | (SELF_CONTAINED if self_contained else 0)
        length = HEADER_LENGTH
    else:  # 5-byte header: payload length, uncompressed length (0: sent as is), flag
        packed = compress(payload)
        size = len(payload)
        if len(packed) >= size:
            packed, size = payload, 0
        header = len(packed) | (size << 17) | ((1 << 34) if self_contained else 0)
        payload, length = packed, COMPRESSED_HEADER_LENGTH
    return (
        header.to_bytes(length, "little")
        + crc24(header, length).to_bytes(CRC24_LENGTH, "little")
        + payload
        + _U32.pack(crc32(payload))
    )


def encode(frame: bytes, compress: Compress | None = None) -> bytes:
    """One frame as one self-contained segment, or as several when it is too big; with
    ``compress`` (lz4 negotiated) each payload is compressed when that makes it smaller."""
    if len(frame) <= MAX_PAYLOAD:
        return _segment(frame, True, compress)
    return b"".join(
        _segment(frame[i : i + MAX_PAYLOAD], False, compress)
        for i in range(0, len(frame), MAX_PAYLOAD)
    )


class SegmentDecoder:
    """Accumulates received bytes; ``feed`` returns the frame bytes of complete segments."""

    def __init__(
        self, max_frame: int = 16 * 1024 * 1024, decompress: Decompress | None = None
    ) -> None:
        self._decompress = decompress
        self._header_length = HEADER_LENGTH if decompress is None else COMPRESSED_HEADER_LENGTH
        self._buffer = bytearray()
        self._partial = bytearray()  # payloads of a frame split over several segments
        self._max_frame = max_frame
        self._skip = 0  # payload bytes of a too-big split frame still to skip
        self._oversized: list[tuple[int, int]] = []  # (stream, length) of skipped frames

    def pending(self) -> bool:
        """Part of a segment or of a split frame has arrived, and not the rest yet."""
        return bool(self._buffer or self._partial or self._skip)

    def take_oversized(self) -> list[tuple[int, int]]:
        oversized, self._oversized = self._oversized, []
        return oversized

    def feed(self, data: bytes) -> bytes:
        self._buffer += data
        out = bytearray()
        buf = self._buffer
        head = self._header_length
        while len(buf) >= head + CRC24_LENGTH:
            header = int.from_bytes(buf[:head], "little")
            expected = int.from_bytes(buf[head : head + CRC24_LENGTH], "little")
            if crc24(header, head) != expected:
                raise ProtocolError("CRC mismatch on segment header")
            length = header & MAX_PAYLOAD
            start = head + CRC24_LENGTH
            end = start + length + CRC32_LENGTH
            if len(buf) < end:
                break
            payload = bytes(buf[start : start + length])
            if _U32.unpack_from(buf, start + length)[0] != crc32(payload):
                raise ProtocolError("CRC mismatch on segment payload")
            del buf[:end]
            if self._decompress is not None:
                size = (header >> 17) & MAX_PAYLOAD
                header >>= 17  # the self-contained flag now sits where it does uncompressed
                if size:
                    payload = self._inflate(payload, size)
            if header & SELF_CONTAINED:
                if self._partial:
                    raise ProtocolError("Self-contained segment inside a split frame")
                out += payload
            elif self._skip:
                self._skip -= min(self._skip, len(payload))
            else:
                self._partial += payload
                self._check_size()
                out += self._take_complete_frame()
        return bytes(out)

    def _inflate(self, payload: bytes, size: int) -> bytes:
        try:
            data = self._decompress(payload, size)  # type: ignore[misc]
        except Exception as exc:
            raise ProtocolError(f"Corrupt lz4 segment: {exc}") from exc
        if len(data) != size:
            raise ProtocolError("Corrupt lz4 segment: wrong uncompressed length")
        return data

    def _check_size(self) -> None:
        partial = self._partial
        if len(partial) < 9:
            return
        total = 9 + int.from_bytes(partial[5:9], "big", signed=True)
        if total > self._max_frame:
            self._oversized.append((int.from_bytes(partial[2:4], "big", signed=True), total))
            self._skip = total - len(partial)
            partial.clear()

    def _take_complete_frame(self) -> bytes:
        """The split frame, once all of its segments have arrived."""
        partial = self._partial
        if len(partial) < 9:
            return b""
        total = 9 + int.from_bytes(partial[5:9], "big", signed=True)
        if len(partial) < total:
            return b""
        frame = bytes(partial[:total])
        del partial[:total]
        return frame

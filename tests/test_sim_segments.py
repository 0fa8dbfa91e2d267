"""The v5 segment codec against the driver's own (cassandra.segment): each side decodes what
the other encodes, across the 128 KiB payload boundary; corruption is detected."""

from __future__ import annotations

import io
import random

import pytest
from cassandra.segment import SegmentCodec, compute_crc24
from rackpanel.simulator.core import ProtocolError
from rackpanel.simulator.protocol import segments
from rackpanel.simulator.protocol.frames import encode_frame

SIZES = [0, 1, 1000, segments.MAX_PAYLOAD - 9, segments.MAX_PAYLOAD - 8, 300_000]


def test_crc24_matches_the_driver():
    rng = random.Random(7)
    for value in [0, 1, 0xFFFFFF, *(rng.getrandbits(24) for _ in range(2000))]:
        assert segments.crc24(value, 3) == compute_crc24(value, 3)


@pytest.mark.parametrize("size", SIZES)
def test_driver_decodes_what_the_simulator_encodes(size):
    frame = encode_frame(7, 0x08, random.Random(size).randbytes(size), version=5)
    wire = io.BytesIO(segments.encode(frame))
    codec, received = SegmentCodec(), b""
    while wire.tell() < len(wire.getvalue()):
        header = codec.decode_header(wire)
        segment = codec.decode(wire, header)
        assert segment.is_self_contained == (len(frame) <= segments.MAX_PAYLOAD)
        received += segment.payload
    assert received == frame


@pytest.mark.parametrize("size", SIZES)
def test_simulator_decodes_what_the_driver_encodes_in_any_chunking(size):
    frame = encode_frame(3, 0x07, random.Random(size).randbytes(size), version=5)
    buffer = io.BytesIO()
    SegmentCodec().encode(buffer, frame)
    wire = buffer.getvalue() * 2  # two frames back to back
    decoder, received = segments.SegmentDecoder(), b""
    rng = random.Random(size)
    position = 0
    while position < len(wire):
        step = rng.randint(1, 70_000)
        received += decoder.feed(wire[position : position + step])
        position += step
    assert received == frame + frame


def test_corruption_is_a_protocol_error():
    wire = bytearray(segments.encode(encode_frame(1, 0x08, b"payload", version=5)))
    for index in (0, 4, len(wire) - 1):  # header, header CRC, payload CRC
        corrupt = bytearray(wire)
        corrupt[index] ^= 0x01
        with pytest.raises(ProtocolError, match="CRC mismatch"):
            segments.SegmentDecoder().feed(bytes(corrupt))


def test_a_split_frame_over_the_cap_is_skipped_and_reported():
    """Cassandra caps frames at native_transport_max_frame_size (16 MiB) on v5 too: the
    decoder never assembles a bigger one, it reports (stream, length) and skips its segments."""
    cap = 300_000
    big = encode_frame(5, 0x07, b"x" * 400_000, version=5)
    small = encode_frame(6, 0x05, b"", version=5)
    decoder = segments.SegmentDecoder(max_frame=cap)
    received = decoder.feed(segments.encode(big)[:140_000])
    assert received == b"" and decoder.take_oversized() == [(5, len(big))]
    received = decoder.feed(segments.encode(big)[140_000:] + segments.encode(small))
    assert received == small and not decoder.pending()

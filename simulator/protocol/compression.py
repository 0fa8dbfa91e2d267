"""Frame compression of the native protocol: lz4 and snappy, as Cassandra 5.0 offers them.

Negotiated by STARTUP's COMPRESSION option (SUPPORTED lists what is available here). On v3 and
v4 every frame after READY whose header has the compressed flag carries a compressed body:
lz4 as a 4-byte big-endian uncompressed length and an lz4 block (``LZ4Compressor`` of
``transport.Compressor``), snappy as a raw snappy block. On v5 only lz4 exists, applied per
segment (see ``segments``); snappy is refused there as Cassandra refuses it.
Uses the ``lz4`` and ``cramjam`` packages (the ``demo`` extra); without them nothing is offered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rackpanel.simulator.core import ProtocolError

_SIZE = 4


@dataclass(frozen=True)
class Codec:
    name: str
    compress: Callable[[bytes], bytes]
    _decompress: Callable[[bytes], bytes]

    def decompress(self, body: bytes, limit: int) -> bytes:
        """The body of a compressed frame; ProtocolError if corrupt or bigger than ``limit``."""
        try:
            if self.name == "lz4" and int.from_bytes(body[:_SIZE], "big") > limit:
                raise ProtocolError("Decompressed frame larger than the frame size limit")
            data = self._decompress(body)
        except ProtocolError:
            raise
        except Exception as exc:
            raise ProtocolError(f"Corrupt {self.name} compressed frame: {exc}") from exc
        if len(data) > limit:
            raise ProtocolError("Decompressed frame larger than the frame size limit")
        return data


def _codecs() -> dict[str, Codec]:
    found: dict[str, Codec] = {}
    try:
        import lz4.block as lz4
    except ImportError:
        pass
    else:
        found["lz4"] = Codec(
            "lz4",
            lambda data: len(data).to_bytes(_SIZE, "big") + lz4.compress(data, store_size=False),
            lambda body: lz4.decompress(
                body[_SIZE:], uncompressed_size=int.from_bytes(body[:_SIZE], "big")
            ),
        )
    try:
        import cramjam
    except ImportError:
        pass
    else:
        found["snappy"] = Codec(
            "snappy",
            lambda data: bytes(cramjam.snappy.compress_raw(data)),
            lambda body: bytes(cramjam.snappy.decompress_raw(body)),
        )
    return found


CODECS = _codecs()


def negotiate(name: str, version: int) -> Codec:
    codec = CODECS.get(name.lower())
    if codec is None:
        raise ProtocolError(f"Unknown compression algorithm: {name}")
    if version >= 5 and codec.name != "lz4":
        raise ProtocolError(f"{name} compression is not supported by protocol v5 (only lz4)")
    return codec


def lz4_block() -> tuple[Callable[[bytes], bytes], Callable[[bytes, int], bytes]]:
    """Raw lz4 block (compress, decompress(data, size)) for v5 segments."""
    import lz4.block as lz4

    return (
        lambda data: lz4.compress(data, store_size=False),
        lambda data, size: lz4.decompress(data, uncompressed_size=size),
    )

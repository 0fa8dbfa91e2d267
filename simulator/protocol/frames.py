"""Frame envelope of the native protocol v4 and v5: a 9-byte header and a body.

    version(1) flags(1) stream(2, signed) opcode(1) length(4)

Requests carry version 0x04 (0x05), responses 0x84 (0x85); on v5 the frames travel inside
CRC-checked segments once READY is sent (see ``segments``). A request with another version gets the
ERROR Cassandra sends ("Invalid or unsupported protocol version (N); supported versions are
(...)") on the same stream id, which is what makes the driver step down to v4.
"""

from __future__ import annotations

import struct
from enum import IntEnum

HEADER = struct.Struct(">BBhBi")
HEADER_SIZE = HEADER.size  # 9
SUPPORTED_VERSIONS = (3, 4, 5)
RESPONSE_FLAG = 0x80

FLAG_COMPRESSED = 0x01
FLAG_TRACING = 0x02
FLAG_CUSTOM_PAYLOAD = 0x04
FLAG_WARNING = 0x08


class Opcode(IntEnum):
    ERROR = 0x00
    STARTUP = 0x01
    READY = 0x02
    AUTHENTICATE = 0x03
    OPTIONS = 0x05
    SUPPORTED = 0x06
    QUERY = 0x07
    RESULT = 0x08
    PREPARE = 0x09
    EXECUTE = 0x0A
    REGISTER = 0x0B
    EVENT = 0x0C
    BATCH = 0x0D
    AUTH_CHALLENGE = 0x0E
    AUTH_RESPONSE = 0x0F
    AUTH_SUCCESS = 0x10


def encode_frame(stream: int, opcode: int, body: bytes, version: int = 4, flags: int = 0) -> bytes:
    return HEADER.pack(version | RESPONSE_FLAG, flags, stream, opcode, len(body)) + body


def unsupported_version_message(version: int) -> str:
    supported = ", ".join(f"{v}/v{v}" for v in SUPPORTED_VERSIONS)
    return (
        f"Invalid or unsupported protocol version ({version}); supported versions are ({supported})"
    )

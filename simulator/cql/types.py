"""CQL data types: names, literal coercion, protocol v4 wire format, ordering, [option] codes.

``parse_type("map<text, int>")`` gives a :class:`CqlType`. Every type offers:

- ``cql_name`` — the name as ``system_schema.columns.type`` shows it (``text`` for varchar,
  ``frozen<list<int>>``, tuples always ``frozen<tuple<...>>``);
- ``serialize(value) -> bytes`` / ``deserialize(bytes) -> value`` — the protocol v4 value
  formats, byte-for-byte what the cassandra-driver writes;
- ``from_literal(term, column)`` — the Python value of a literal term (or of ``now()``-style
  functions) with Cassandra's InvalidRequest messages; ``None`` for ``null``;
- ``sort_key(bytes)`` — a key ordering serialised values as Cassandra's comparator does
  (clustering order, set elements, map keys);
- ``encode_option()`` — the type's [option] in RESULT/PREPARED metadata.

Python values: text/ascii ``str``; integer types ``int``; float/double ``float``; decimal
``Decimal``; boolean ``bool``; uuid/timeuuid ``uuid.UUID``; blob ``bytes``; inet
``ipaddress.IPv4Address/IPv6Address`` (serialize accepts ``str`` too); timestamp an aware UTC
``datetime`` (serialize accepts naive = UTC datetimes, dates, and int milliseconds); date
``datetime.date`` (serialize also takes the raw unsigned day count as ``int``, as the driver
does); time ``int`` nanoseconds since midnight (serialize also takes ``datetime.time``);
duration :class:`Duration`; list ``list``; set ``list`` in the set's sort order (serialize
takes any iterable); map ``dict``; tuple ``tuple``.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import math
import struct
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, NamedTuple

from rackpanel.simulator.core import InvalidRequest
from rackpanel.simulator.cql import ast
from rackpanel.simulator.cql.tokens import IDENT, STRING, TokenStream

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_INT32 = struct.Struct(">i")
_UINT32 = struct.Struct(">I")
_SHORT = struct.Struct(">H")
_NANOS_PER_DAY = 86_400 * 1_000_000_000


class Duration(NamedTuple):
    months: int
    days: int
    nanoseconds: int


# ---- helpers: variable-length integers ---------------------------------------------------------


def varint_pack(value: int) -> bytes:
    """Minimal big-endian two's complement (Cassandra's varint)."""
    length = (value + (value < 0)).bit_length() // 8 + 1
    return value.to_bytes(length, "big", signed=True)


def varint_unpack(data: bytes) -> int:
    return int.from_bytes(data, "big", signed=True)


def _zigzag(value: int) -> int:
    return value << 1 if value >= 0 else ((-value) << 1) - 1


def _unzigzag(value: int) -> int:
    return (value >> 1) ^ -(value & 1)


def vint_pack(value: int) -> bytes:
    """Cassandra's signed vint: zig-zag, then leading 1-bits of the first byte count extras."""
    unsigned = _zigzag(value)
    for extra in range(9):
        payload_bits = 8 * extra + (7 - extra if extra < 8 else 0)
        if unsigned < (1 << payload_bits):
            data = bytearray(unsigned.to_bytes(extra + 1, "big"))
            data[0] |= (0xFF << (8 - extra)) & 0xFF
            return bytes(data)
    raise InvalidRequest(f"Value {value} is too big and cannot be encoded as vint")


def vint_unpack(data: bytes, offset: int) -> tuple[int, int]:
    first = data[offset]
    extra = 0
    while extra < 8 and first & (0x80 >> extra):
        extra += 1
    if offset + 1 + extra > len(data):
        raise ValueError("truncated vint")
    value = first & (0xFF >> (extra + 1)) if extra < 8 else 0
    for byte in data[offset + 1 : offset + 1 + extra]:
        value = (value << 8) | byte
    return _unzigzag(value), offset + 1 + extra


def _literal_error(term: ast.Literal, column: str, cql_name: str) -> InvalidRequest:
    return InvalidRequest(
        f'Invalid {term.kind.upper()} constant ({term.text}) for "{column}" of type {cql_name}'
    )


def _collection_kind(term: Any) -> str:
    return {
        ast.ListLiteral: "list",
        ast.SetLiteral: "set",
        ast.MapLiteral: "map",
        ast.TupleLiteral: "tuple",
    }.get(type(term), "")


# ---- the type model -------------------------------------------------------------------------


@dataclass(frozen=True)
class CqlType:
    """Base of all types. Subclasses set ``option_id`` and implement the codec."""

    option_id: ClassVar[int] = 0
    is_collection: ClassVar[bool] = False

    @property
    def cql_name(self) -> str:
        raise NotImplementedError

    @property
    def is_multicell(self) -> bool:
        """A non-frozen collection (its elements are separate cells in Cassandra)."""
        return False

    def __str__(self) -> str:
        return self.cql_name

    # codec
    def serialize(self, value: Any) -> bytes:
        raise NotImplementedError

    def deserialize(self, data: bytes) -> Any:
        """The Python value of serialised bytes; InvalidRequest if they are malformed (as
        Cassandra answers a client whose bound value does not fit the column's type)."""
        try:
            return self._decode(data)
        except (ValueError, IndexError, OverflowError, struct.error) as exc:
            raise InvalidRequest(
                f"Invalid {len(data)}-byte value for type {self.cql_name} ({exc})"
            ) from None

    def _decode(self, data: bytes) -> Any:
        raise NotImplementedError

    def validate(self, data: bytes) -> bytes:
        """A bound value as Cassandra would store it: checked against the type
        (InvalidRequest if malformed, as Cassandra rejects a bad bound value) and, for
        collections, canonical — sets and map keys in comparator order, duplicates gone —
        so a value bound by a client reads back as Cassandra would return it."""
        value = self.deserialize(data)
        return self.serialize(value) if self.is_collection else bytes(data)

    def sort_key(self, data: bytes) -> tuple:
        if not data:
            return (0,)
        return (1, self._key(data))

    def _key(self, data: bytes) -> Any:
        return self.deserialize(data)

    def encode_option(self) -> bytes:
        return _SHORT.pack(self.option_id)

    def accepts(self, other: CqlType) -> bool:
        """Whether a value of type ``other`` may be assigned to this type."""
        return self.cql_name == other.cql_name

    # literals
    def from_literal(self, term: Any, column: str = "value") -> Any:
        if isinstance(term, ast.Literal):
            if term.kind == "null":
                return None
            return self._from_constant(term, column)
        if isinstance(term, ast.FunctionCall):
            value, result_type = evaluate_function(term)
            if not self.accepts(result_type):
                raise InvalidRequest(
                    f"Type error: cannot assign result of function system.{term.name} "
                    f"(type {result_type.cql_name}) to {column} (type {self.cql_name})"
                )
            return value
        if isinstance(term, ast.BindMarker):
            raise InvalidRequest(f"Bind marker for {column} has no literal value")
        kind = _collection_kind(term)
        if kind:
            return self._from_collection(term, kind, column)
        raise InvalidRequest(f"Invalid value for {column} of type {self.cql_name}")

    def _from_constant(self, term: ast.Literal, column: str) -> Any:
        raise _literal_error(term, column, self.cql_name)

    def _from_collection(self, term: Any, kind: str, column: str) -> Any:
        raise InvalidRequest(f"Invalid {kind} literal for {column} of type {self.cql_name}")


@dataclass(frozen=True)
class _Native(CqlType):
    """A non-parameterised type; ``name`` is its CQL name."""

    name: str

    literal_kinds: ClassVar[frozenset[str]] = frozenset()

    @property
    def cql_name(self) -> str:
        return self.name

    def _from_constant(self, term: ast.Literal, column: str) -> Any:
        if term.kind not in self.literal_kinds:
            raise _literal_error(term, column, self.cql_name)
        try:
            return self._convert(term)
        except (ValueError, OverflowError, InvalidOperation, struct.error) as exc:
            raise InvalidRequest(self._conversion_error(term, exc)) from None

    def _convert(self, term: ast.Literal) -> Any:
        raise NotImplementedError

    def _conversion_error(self, term: ast.Literal, exc: Exception) -> str:
        return f"Unable to make {self.name} from '{term.text}'"


@dataclass(frozen=True)
class TextType(_Native):
    literal_kinds: ClassVar[frozenset[str]] = frozenset({"string"})

    @property
    def option_id(self) -> int:  # type: ignore[override]
        return 0x0001 if self.name == "ascii" else 0x000D

    def serialize(self, value: Any) -> bytes:
        if not isinstance(value, str):
            raise TypeError(f"{self.name} needs a str, not {type(value).__name__}")
        if self.name == "ascii":
            return value.encode("ascii")
        return value.encode("utf-8")

    def _decode(self, data: bytes) -> str:
        return data.decode("ascii" if self.name == "ascii" else "utf-8")

    def _key(self, data: bytes) -> bytes:
        return data

    def _convert(self, term: ast.Literal) -> str:
        if self.name == "ascii" and not term.text.isascii():
            raise ValueError("non-ascii")
        return term.text

    def _conversion_error(self, term: ast.Literal, exc: Exception) -> str:
        return "Invalid ASCII character in string literal"

    def accepts(self, other: CqlType) -> bool:
        return isinstance(other, TextType) and (self.name == "text" or other.name == "ascii")


@dataclass(frozen=True)
class IntegerType(_Native):
    """int, bigint, smallint, tinyint, counter (fixed width) and varint (arbitrary)."""

    literal_kinds: ClassVar[frozenset[str]] = frozenset({"integer"})
    _FORMATS: ClassVar[dict[str, tuple[str, int, str]]] = {
        # name: (struct format, option id, Java name in error messages)
        "int": (">i", 0x0009, "int"),
        "bigint": (">q", 0x0002, "long"),
        "counter": (">q", 0x0005, "long"),
        "smallint": (">h", 0x0013, "short"),
        "tinyint": (">b", 0x0014, "byte"),
        "varint": ("", 0x000E, "varint"),
    }

    @property
    def option_id(self) -> int:  # type: ignore[override]
        return self._FORMATS[self.name][1]

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{self.name} needs an int, not {type(value).__name__}")
        fmt = self._FORMATS[self.name][0]
        return struct.pack(fmt, value) if fmt else varint_pack(value)

    def _decode(self, data: bytes) -> int:
        fmt = self._FORMATS[self.name][0]
        return struct.unpack(fmt, data)[0] if fmt else varint_unpack(data)

    def _convert(self, term: ast.Literal) -> int:
        value = int(term.text)
        self.serialize(value)  # range check (struct.error when out of range)
        return value

    def _conversion_error(self, term: ast.Literal, exc: Exception) -> str:
        return f"Unable to make {self._FORMATS[self.name][2]} from '{term.text}'"


@dataclass(frozen=True)
class FloatingType(_Native):
    """double and float (IEEE 754, NaN sorting last as Java's Double.compare does)."""

    literal_kinds: ClassVar[frozenset[str]] = frozenset({"integer", "float"})

    @property
    def option_id(self) -> int:  # type: ignore[override]
        return 0x0007 if self.name == "double" else 0x0008

    @property
    def _fmt(self) -> str:
        return ">d" if self.name == "double" else ">f"

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise TypeError(f"{self.name} needs a number, not {type(value).__name__}")
        try:
            return struct.pack(self._fmt, value)
        except OverflowError:
            return struct.pack(self._fmt, math.copysign(math.inf, value))

    def _decode(self, data: bytes) -> float:
        return struct.unpack(self._fmt, data)[0]

    def _key(self, data: bytes) -> tuple[bool, float]:
        value = self.deserialize(data)
        return (math.isnan(value), 0.0 if math.isnan(value) else value)

    def _convert(self, term: ast.Literal) -> float:
        return float(term.text)

    def _conversion_error(self, term: ast.Literal, exc: Exception) -> str:
        return f"Unable to make {self.name} from '{term.text}'"


@dataclass(frozen=True)
class DecimalType(_Native):
    option_id: ClassVar[int] = 0x0006
    literal_kinds: ClassVar[frozenset[str]] = frozenset({"integer", "float"})

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise TypeError(f"decimal needs a Decimal, not {type(value).__name__}")
        sign, digits, exponent = Decimal(value).as_tuple()
        if not isinstance(exponent, int):
            raise ValueError(f"decimal cannot hold {value}")
        unscaled = int("".join(str(d) for d in digits) or "0") * (-1 if sign else 1)
        return _INT32.pack(-exponent) + varint_pack(unscaled)

    def _decode(self, data: bytes) -> Decimal:
        scale = _INT32.unpack_from(data)[0]
        unscaled = varint_unpack(data[4:])
        return Decimal(f"{unscaled}E{-scale}")  # exact: scaleb() would round to 28 digits

    def _convert(self, term: ast.Literal) -> Decimal:
        value = Decimal(term.text)
        if not value.is_finite():
            raise ValueError(term.text)
        return value

    def _conversion_error(self, term: ast.Literal, exc: Exception) -> str:
        return f"Value '{term.text}' is not a valid representation of a decimal value"


@dataclass(frozen=True)
class BooleanType(_Native):
    option_id: ClassVar[int] = 0x0004
    literal_kinds: ClassVar[frozenset[str]] = frozenset({"boolean"})

    def serialize(self, value: Any) -> bytes:
        if not isinstance(value, bool):
            raise TypeError(f"boolean needs a bool, not {type(value).__name__}")
        return b"\x01" if value else b"\x00"

    def _decode(self, data: bytes) -> bool:
        if len(data) != 1:
            raise ValueError("a boolean is one byte")
        return data != b"\x00"

    def _convert(self, term: ast.Literal) -> bool:
        return term.text.lower() == "true"


@dataclass(frozen=True)
class BlobType(_Native):
    option_id: ClassVar[int] = 0x0003
    literal_kinds: ClassVar[frozenset[str]] = frozenset({"hex"})

    def serialize(self, value: Any) -> bytes:
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"blob needs bytes, not {type(value).__name__}")
        return bytes(value)

    def _decode(self, data: bytes) -> bytes:
        return bytes(data)

    def _key(self, data: bytes) -> bytes:
        return data

    def _convert(self, term: ast.Literal) -> bytes:
        if len(term.text) % 2:
            raise ValueError("odd length")
        return bytes.fromhex(term.text)

    def _conversion_error(self, term: ast.Literal, exc: Exception) -> str:
        return "An hex string representing bytes must have an even length"


def _signed_bytes(data: bytes) -> tuple[int, ...]:
    return tuple(b - 256 if b > 127 else b for b in data)


@dataclass(frozen=True)
class UuidType(_Native):
    """uuid and timeuuid; timeuuid values must be version 1 and sort by their time."""

    literal_kinds: ClassVar[frozenset[str]] = frozenset({"uuid"})

    @property
    def option_id(self) -> int:  # type: ignore[override]
        return 0x000F if self.name == "timeuuid" else 0x000C

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, str):
            value = uuid.UUID(value)
        if not isinstance(value, uuid.UUID):
            raise TypeError(f"{self.name} needs a UUID, not {type(value).__name__}")
        if self.name == "timeuuid" and value.version != 1:
            raise ValueError("Invalid version for TimeUUID type.")
        return value.bytes

    def _decode(self, data: bytes) -> uuid.UUID:
        value = uuid.UUID(bytes=bytes(data))
        if self.name == "timeuuid" and value.version != 1:
            raise ValueError("Invalid version for TimeUUID type.")
        return value

    def _key(self, data: bytes) -> tuple:
        value = uuid.UUID(bytes=bytes(data))
        if self.name == "timeuuid":
            return (value.time, _signed_bytes(data[8:]))
        timestamp = value.time if value.version == 1 else 0
        return (value.version or 0, timestamp, _signed_bytes(data))

    def _convert(self, term: ast.Literal) -> uuid.UUID:
        value = uuid.UUID(term.text)
        if self.name == "timeuuid" and value.version != 1:
            raise ValueError("Invalid version for TimeUUID type.")
        return value

    def _conversion_error(self, term: ast.Literal, exc: Exception) -> str:
        return str(exc) if "TimeUUID" in str(exc) else f"Unable to make UUID from '{term.text}'"

    def accepts(self, other: CqlType) -> bool:
        return isinstance(other, UuidType) and (self.name == "uuid" or other.name == "timeuuid")


@dataclass(frozen=True)
class InetType(_Native):
    option_id: ClassVar[int] = 0x0010
    literal_kinds: ClassVar[frozenset[str]] = frozenset({"string"})

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, str):
            value = ipaddress.ip_address(value)
        if not isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
            raise TypeError(f"inet needs an IP address, not {type(value).__name__}")
        return value.packed

    def _decode(self, data: bytes) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        return ipaddress.ip_address(bytes(data))

    def _key(self, data: bytes) -> bytes:
        return data

    def _convert(self, term: ast.Literal) -> Any:
        return ipaddress.ip_address(term.text)

    def _conversion_error(self, term: ast.Literal, exc: Exception) -> str:
        return f"Unable to make inet address from '{term.text}'"


def parse_timestamp_text(text: str) -> dt.datetime:
    """Cassandra's accepted timestamp strings: ``yyyy-mm-dd[( |T)HH:MM[:SS[.fff]]][zone]``."""
    cleaned = text.strip()
    if len(cleaned) < 10 or cleaned[4] != "-" or cleaned[7] != "-":
        raise ValueError(text)
    value = dt.datetime.fromisoformat(cleaned)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


@dataclass(frozen=True)
class TimestampType(_Native):
    option_id: ClassVar[int] = 0x000B
    literal_kinds: ClassVar[frozenset[str]] = frozenset({"integer", "string"})

    def serialize(self, value: Any) -> bytes:
        return struct.pack(">q", self.to_millis(value))

    @staticmethod
    def to_millis(value: Any) -> int:
        """Milliseconds since the epoch, computed exactly as the driver does."""
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            seconds = (value - _EPOCH.replace(tzinfo=None)) // dt.timedelta(seconds=1)
            return int(seconds * 1e3 + value.microsecond / 1e3)
        if isinstance(value, dt.date):
            return int((value - _EPOCH.date()).days * 86_400 * 1e3)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
        raise TypeError(f"timestamp needs a datetime or milliseconds, not {type(value).__name__}")

    def _decode(self, data: bytes) -> dt.datetime | int:
        millis = struct.unpack(">q", data)[0]
        try:
            return _EPOCH + dt.timedelta(milliseconds=millis)
        except OverflowError:
            return millis

    def _key(self, data: bytes) -> int:
        return struct.unpack(">q", data)[0]

    def _convert(self, term: ast.Literal) -> Any:
        if term.kind == "integer":
            millis = int(term.text)
            struct.pack(">q", millis)
            return millis
        return parse_timestamp_text(term.text)

    def _conversion_error(self, term: ast.Literal, exc: Exception) -> str:
        return f"Unable to coerce '{term.text}' to a formatted date (long)"


@dataclass(frozen=True)
class DateType(_Native):
    """Days as an unsigned 32-bit number with the epoch at 2**31."""

    option_id: ClassVar[int] = 0x0011
    literal_kinds: ClassVar[frozenset[str]] = frozenset({"integer", "string"})
    EPOCH_OFFSET: ClassVar[int] = 2**31

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return _UINT32.pack((value - _EPOCH.date()).days + self.EPOCH_OFFSET)
        if isinstance(value, int) and not isinstance(value, bool):
            return _UINT32.pack(value)
        raise TypeError(f"date needs a date, not {type(value).__name__}")

    def _decode(self, data: bytes) -> dt.date | int:
        raw = _UINT32.unpack(data)[0]
        try:
            return _EPOCH.date() + dt.timedelta(days=raw - self.EPOCH_OFFSET)
        except OverflowError:
            return raw

    def _key(self, data: bytes) -> int:
        return _UINT32.unpack(data)[0]

    def _convert(self, term: ast.Literal) -> Any:
        if term.kind == "integer":
            raw = int(term.text)
            _UINT32.pack(raw)
            return raw
        return dt.date.fromisoformat(term.text.strip())

    def _conversion_error(self, term: ast.Literal, exc: Exception) -> str:
        return f"Unable to coerce '{term.text}' to a formatted date (long)"


def parse_time_text(text: str) -> int:
    """``HH:MM:SS[.fffffffff]`` → nanoseconds since midnight."""
    main, _, fraction = text.strip().partition(".")
    parts = main.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(fraction) > 9:
        raise ValueError(text)
    if fraction and not fraction.isdigit():
        raise ValueError(text)
    hours, minutes, seconds = (int(p) for p in parts)
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError(text)
    nanos = int(fraction.ljust(9, "0")) if fraction else 0
    return ((hours * 60 + minutes) * 60 + seconds) * 1_000_000_000 + nanos


@dataclass(frozen=True)
class TimeType(_Native):
    option_id: ClassVar[int] = 0x0012
    literal_kinds: ClassVar[frozenset[str]] = frozenset({"integer", "string"})

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, dt.time):
            value = (
                (value.hour * 60 + value.minute) * 60 + value.second
            ) * 1_000_000_000 + value.microsecond * 1000
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"time needs nanoseconds or a time, not {type(value).__name__}")
        if not 0 <= value < _NANOS_PER_DAY:
            raise ValueError(f"time out of range: {value}")
        return struct.pack(">q", value)

    def _decode(self, data: bytes) -> int:
        nanos = struct.unpack(">q", data)[0]
        if not 0 <= nanos < _NANOS_PER_DAY:
            raise ValueError("time out of range")
        return nanos

    def _convert(self, term: ast.Literal) -> int:
        nanos = int(term.text) if term.kind == "integer" else parse_time_text(term.text)
        if not 0 <= nanos < _NANOS_PER_DAY:
            raise ValueError(term.text)
        return nanos

    def _conversion_error(self, term: ast.Literal, exc: Exception) -> str:
        return f"Unable to coerce '{term.text}' to a formatted time (long)"


_DURATION_UNITS: dict[str, tuple[int, int, int]] = {
    # unit: (months, days, nanoseconds) per 1
    "y": (12, 0, 0),
    "mo": (1, 0, 0),
    "w": (0, 7, 0),
    "d": (0, 1, 0),
    "h": (0, 0, 3_600_000_000_000),
    "m": (0, 0, 60_000_000_000),
    "s": (0, 0, 1_000_000_000),
    "ms": (0, 0, 1_000_000),
    "us": (0, 0, 1_000),
    "µs": (0, 0, 1_000),
    "ns": (0, 0, 1),
}


def parse_duration_text(text: str) -> Duration:
    """``[-]1y2mo3w4d5h6m7s8ms9us10ns`` (any subset, in any order of magnitude)."""
    body = text.strip().lower()
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("-")
    if not body:
        raise ValueError(text)
    totals = [0, 0, 0]
    i = 0
    while i < len(body):
        start = i
        while i < len(body) and body[i].isdigit():
            i += 1
        if start == i:
            raise ValueError(text)
        amount = int(body[start:i])
        unit_start = i
        while i < len(body) and not body[i].isdigit():
            i += 1
        unit = body[unit_start:i]
        if unit not in _DURATION_UNITS:
            raise ValueError(text)
        for n, per in enumerate(_DURATION_UNITS[unit]):
            totals[n] += amount * per
    return Duration(sign * totals[0], sign * totals[1], sign * totals[2])


@dataclass(frozen=True)
class DurationType(_Native):
    """Sent as a custom type in protocol v4 (the 0x0015 code exists only from v5)."""

    option_id: ClassVar[int] = 0x0000
    literal_kinds: ClassVar[frozenset[str]] = frozenset({"string", "duration"})
    JAVA_CLASS: ClassVar[str] = "org.apache.cassandra.db.marshal.DurationType"

    def encode_option(self) -> bytes:
        name = self.JAVA_CLASS.encode()
        return _SHORT.pack(0) + _SHORT.pack(len(name)) + name

    def serialize(self, value: Any) -> bytes:
        try:
            parts = (value.months, value.days, value.nanoseconds)
        except AttributeError:
            raise TypeError(f"duration needs a Duration, not {type(value).__name__}") from None
        return b"".join(vint_pack(int(p)) for p in parts)

    def _decode(self, data: bytes) -> Duration:
        months, offset = vint_unpack(data, 0)
        days, offset = vint_unpack(data, offset)
        nanos, offset = vint_unpack(data, offset)
        if offset != len(data):
            raise ValueError("trailing bytes in a duration")
        return Duration(months, days, nanos)

    def _key(self, data: bytes) -> bytes:
        return data

    def _convert(self, term: ast.Literal) -> Duration:
        return parse_duration_text(term.text)

    def _conversion_error(self, term: ast.Literal, exc: Exception) -> str:
        return f"Unable to convert '{term.text}' to a duration"


# ---- collections and tuples -------------------------------------------------------------------


def _pack_elements(parts: Iterable[bytes | None]) -> bytes:
    out = bytearray()
    for part in parts:
        if part is None:
            out += _INT32.pack(-1)
        else:
            out += _INT32.pack(len(part))
            out += part
    return bytes(out)


def _unpack_elements(data: bytes, offset: int, count: int | None) -> list[bytes | None]:
    """``count`` [int32 length][bytes] items from ``offset`` (None: until the data ends)."""
    items: list[bytes | None] = []
    while (count is None and offset < len(data)) or (count is not None and len(items) < count):
        length = _INT32.unpack_from(data, offset)[0]
        offset += 4
        if length < 0:
            items.append(None)
            continue
        if offset + length > len(data):
            raise ValueError("truncated collection element")
        items.append(bytes(data[offset : offset + length]))
        offset += length
    if offset != len(data):
        raise ValueError("trailing bytes after a collection")
    return items


def _element_from_literal(element: CqlType, term: Any, column: str) -> Any:
    if isinstance(term, ast.Literal) and term.kind == "null":
        raise InvalidRequest("null is not supported inside collections")
    if isinstance(term, ast.BindMarker):
        raise InvalidRequest(f"Bind markers are not supported inside literals of {column}")
    return element.from_literal(term, column)


@dataclass(frozen=True)
class _Collection(CqlType):
    frozen: bool = False
    is_collection: ClassVar[bool] = True

    @property
    def is_multicell(self) -> bool:
        return not self.frozen

    def _frozen_name(self, inner: str) -> str:
        return f"frozen<{inner}>" if self.frozen else inner


@dataclass(frozen=True)
class ListType(_Collection):
    element: CqlType = None  # type: ignore[assignment]
    option_id: ClassVar[int] = 0x0020

    @property
    def cql_name(self) -> str:
        return self._frozen_name(f"list<{self.element.cql_name}>")

    def encode_option(self) -> bytes:
        return _SHORT.pack(self.option_id) + self.element.encode_option()

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, str | bytes | dict):
            raise TypeError(f"list needs a sequence, not {type(value).__name__}")
        items = [self.element.serialize(v) for v in value]
        return _INT32.pack(len(items)) + _pack_elements(items)

    def _decode(self, data: bytes) -> list:
        count = _INT32.unpack_from(data)[0]
        items = _unpack_elements(data, 4, count)
        return [self.element.deserialize(b) for b in items if b is not None]

    def _key(self, data: bytes) -> tuple:
        count = _INT32.unpack_from(data)[0]
        return tuple(self.element.sort_key(b or b"") for b in _unpack_elements(data, 4, count))

    def _from_collection(self, term: Any, kind: str, column: str) -> Any:
        if kind != "list":
            return super()._from_collection(term, kind, column)
        return [_element_from_literal(self.element, t, column) for t in term.items]


@dataclass(frozen=True)
class SetType(_Collection):
    element: CqlType = None  # type: ignore[assignment]
    option_id: ClassVar[int] = 0x0022

    @property
    def cql_name(self) -> str:
        return self._frozen_name(f"set<{self.element.cql_name}>")

    def encode_option(self) -> bytes:
        return _SHORT.pack(self.option_id) + self.element.encode_option()

    def serialize(self, value: Any) -> bytes:
        if isinstance(value, str | bytes | dict):
            raise TypeError(f"set needs an iterable, not {type(value).__name__}")
        unique = {self.element.serialize(v) for v in value}
        items = sorted(unique, key=self.element.sort_key)
        return _INT32.pack(len(items)) + _pack_elements(items)

    def _decode(self, data: bytes) -> list:
        count = _INT32.unpack_from(data)[0]
        items = _unpack_elements(data, 4, count)
        return [self.element.deserialize(b) for b in items if b is not None]

    _key = ListType._key

    def _from_collection(self, term: Any, kind: str, column: str) -> Any:
        if kind == "map" and not term.entries:
            return []
        if kind != "set":
            return super()._from_collection(term, kind, column)
        values = [_element_from_literal(self.element, t, column) for t in term.items]
        by_bytes = {self.element.serialize(v): v for v in values}
        return [by_bytes[b] for b in sorted(by_bytes, key=self.element.sort_key)]


@dataclass(frozen=True)
class MapType(_Collection):
    key: CqlType = None  # type: ignore[assignment]
    value: CqlType = None  # type: ignore[assignment]
    option_id: ClassVar[int] = 0x0021

    @property
    def cql_name(self) -> str:
        return self._frozen_name(f"map<{self.key.cql_name}, {self.value.cql_name}>")

    def encode_option(self) -> bytes:
        return _SHORT.pack(self.option_id) + self.key.encode_option() + self.value.encode_option()

    def serialize(self, value: Any) -> bytes:
        pairs = value.items() if hasattr(value, "items") else value
        encoded = {self.key.serialize(k): self.value.serialize(v) for k, v in pairs}
        keys = sorted(encoded, key=self.key.sort_key)
        flat: list[bytes | None] = []
        for k in keys:
            flat += [k, encoded[k]]
        return _INT32.pack(len(keys)) + _pack_elements(flat)

    def _decode(self, data: bytes) -> dict:
        count = _INT32.unpack_from(data)[0]
        flat = _unpack_elements(data, 4, count * 2)
        return {
            _hashable(self.key.deserialize(flat[i] or b"")): self.value.deserialize(
                flat[i + 1] or b""
            )
            for i in range(0, len(flat), 2)
        }

    def _key(self, data: bytes) -> tuple:
        count = _INT32.unpack_from(data)[0]
        flat = _unpack_elements(data, 4, count * 2)
        return tuple(
            (self.key.sort_key(flat[i] or b""), self.value.sort_key(flat[i + 1] or b""))
            for i in range(0, len(flat), 2)
        )

    def _from_collection(self, term: Any, kind: str, column: str) -> Any:
        if kind == "set" and not term.items:
            return {}
        if kind != "map":
            return super()._from_collection(term, kind, column)
        result = {}
        for k, v in term.entries:
            key = _element_from_literal(self.key, k, column)
            result[_hashable(key)] = _element_from_literal(self.value, v, column)
        return result


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, _hashable(v)) for k, v in value.items())
    return value


@dataclass(frozen=True)
class TupleType(CqlType):
    elements: tuple[CqlType, ...] = ()
    option_id: ClassVar[int] = 0x0031

    @property
    def cql_name(self) -> str:
        return f"frozen<tuple<{', '.join(e.cql_name for e in self.elements)}>>"

    def encode_option(self) -> bytes:
        return (
            _SHORT.pack(self.option_id)
            + _SHORT.pack(len(self.elements))
            + b"".join(e.encode_option() for e in self.elements)
        )

    def serialize(self, value: Any) -> bytes:
        values = tuple(value)
        if len(values) > len(self.elements):
            raise ValueError(f"{self.cql_name} holds {len(self.elements)} values, not more")
        return _pack_elements(
            None if v is None else t.serialize(v)
            for t, v in zip(self.elements, values, strict=False)
        )

    def _decode(self, data: bytes) -> tuple:
        parts = _unpack_elements(data, 0, None)
        if len(parts) > len(self.elements):
            raise ValueError("too many tuple elements")
        values = [
            None if p is None else t.deserialize(p)
            for t, p in zip(self.elements, parts, strict=False)
        ]
        return tuple(values + [None] * (len(self.elements) - len(values)))

    def _key(self, data: bytes) -> tuple:
        parts = _unpack_elements(data, 0, None)
        return tuple(
            (0,) if p is None else t.sort_key(p) for t, p in zip(self.elements, parts, strict=False)
        )

    def _from_collection(self, term: Any, kind: str, column: str) -> Any:
        if kind != "tuple":
            return super()._from_collection(term, kind, column)
        if len(term.items) > len(self.elements):
            raise InvalidRequest(
                f"Invalid tuple literal for {column}: too many elements. "
                f"Type {self.cql_name} expects {len(self.elements)} but got {len(term.items)}"
            )
        values = [
            e.from_literal(t, column) for e, t in zip(self.elements, term.items, strict=False)
        ]
        return tuple(values + [None] * (len(self.elements) - len(values)))


# ---- names → types ----------------------------------------------------------------------------

NATIVE_TYPES: dict[str, CqlType] = {
    "ascii": TextType("ascii"),
    "text": TextType("text"),
    "varchar": TextType("text"),
    "int": IntegerType("int"),
    "bigint": IntegerType("bigint"),
    "smallint": IntegerType("smallint"),
    "tinyint": IntegerType("tinyint"),
    "varint": IntegerType("varint"),
    "counter": IntegerType("counter"),
    "boolean": BooleanType("boolean"),
    "double": FloatingType("double"),
    "float": FloatingType("float"),
    "decimal": DecimalType("decimal"),
    "timestamp": TimestampType("timestamp"),
    "date": DateType("date"),
    "time": TimeType("time"),
    "uuid": UuidType("uuid"),
    "timeuuid": UuidType("timeuuid"),
    "blob": BlobType("blob"),
    "inet": InetType("inet"),
    "duration": DurationType("duration"),
}


def read_type(stream: TokenStream) -> CqlType:
    """Parse one type expression at the stream's position (the parser's ``comparatorType``)."""
    with stream.nesting():
        return _read_type(stream)


def _read_type(stream: TokenStream) -> CqlType:
    token = stream.peek()
    if token.kind == STRING:
        stream.next()
        raise InvalidRequest(f"Custom types are not supported by the simulator: '{token.value}'")
    if token.kind != IDENT and token.kind != "qident":
        raise stream.no_viable_alternative()
    name = stream.next().value
    if token.kind == IDENT and name in NATIVE_TYPES:
        return NATIVE_TYPES[name]
    if token.kind == IDENT and name in ("list", "set", "map", "frozen", "tuple"):
        return _read_parameterised(stream, name)
    if stream.accept_punct("."):
        name = f"{name}.{_read_name(stream)}"
    raise InvalidRequest(f"Unknown type {name}")


def _read_name(stream: TokenStream) -> str:
    token = stream.peek()
    if token.kind not in (IDENT, "qident"):
        raise stream.mismatched("IDENT")
    return stream.next().value


def _read_parameterised(stream: TokenStream, name: str) -> CqlType:
    stream.expect_punct("<")
    params = [read_type(stream)]
    while stream.accept_punct(","):
        params.append(read_type(stream))
    stream.expect_punct(">")
    expected = {"list": 1, "set": 1, "frozen": 1, "map": 2}.get(name)
    if expected is not None and len(params) != expected:
        raise InvalidRequest(f"{name} takes {expected} type parameter(s), got {len(params)}")
    if name == "frozen":
        return _freeze(params[0])
    text = f"{name}<{', '.join(p.cql_name for p in params)}>"
    for param in params:
        if name != "tuple" and param.is_multicell:
            raise InvalidRequest(
                f"Non-frozen collections are not allowed inside collections: {text}"
            )
        if param.cql_name == "counter":
            raise InvalidRequest(f"Counters are not allowed inside collections: {text}")
    if name == "list":
        return ListType(element=params[0])
    if name == "set":
        return SetType(element=params[0])
    if name == "map":
        return MapType(key=params[0], value=params[1])
    return TupleType(elements=tuple(_freeze(p) if p.is_collection else p for p in params))


def _freeze(inner: CqlType) -> CqlType:
    if isinstance(inner, _Collection):
        return type(inner)(**{**inner.__dict__, "frozen": True})
    if isinstance(inner, TupleType):
        return inner
    raise InvalidRequest("frozen<> is only allowed on collections, tuples, and user-defined types")


@functools.lru_cache(maxsize=1024)
def parse_type(text: str) -> CqlType:
    """``parse_type("map<text, int>")``: a CQL type expression to its :class:`CqlType`.

    Raises SyntaxException for malformed text, InvalidRequest for unknown types. Types are
    immutable, so results are cached: schema code may call this on every access."""
    stream = TokenStream(text)
    result = read_type(stream)
    if not stream.at_eof():
        raise stream.mismatched("EOF")
    return result


def routing_key(components: list[bytes]) -> bytes:
    """The partition key bytes the driver routes by: one component raw, several composite."""
    if len(components) == 1:
        return components[0]
    return b"".join(_SHORT.pack(len(c)) + c + b"\x00" for c in components)


def split_routing_key(key: bytes, count: int) -> list[bytes]:
    """Inverse of :func:`routing_key` for a key of ``count`` components."""
    if count == 1:
        return [key]
    parts, offset = [], 0
    for _ in range(count):
        length = _SHORT.unpack_from(key, offset)[0]
        parts.append(key[offset + 2 : offset + 2 + length])
        offset += length + 3
    return parts


# ---- functions usable as terms ----------------------------------------------------------


def _now_timeuuid() -> uuid.UUID:
    return uuid.uuid1()


def _uuid_millis(value: uuid.UUID) -> int:
    return (value.time - 0x01B21DD213814000) // 10_000


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _arg_value(call: ast.FunctionCall, index: int) -> tuple[Any, CqlType]:
    if index >= len(call.args) or not isinstance(call.args[index], ast.FunctionCall):
        raise InvalidRequest(
            f"Invalid arguments for function system.{call.name}: "
            "the simulator accepts only function calls as arguments"
        )
    return evaluate_function(call.args[index])


def _to_timestamp(call: ast.FunctionCall) -> tuple[Any, CqlType]:
    value, kind = _arg_value(call, 0)
    if kind.cql_name == "timeuuid":
        return _EPOCH + dt.timedelta(milliseconds=_uuid_millis(value)), NATIVE_TYPES["timestamp"]
    if kind.cql_name == "date":
        return dt.datetime.combine(value, dt.time(), dt.UTC), NATIVE_TYPES["timestamp"]
    if kind.cql_name == "timestamp":
        return value, kind
    raise InvalidRequest(f"Type error: {kind.cql_name} cannot be passed to system.totimestamp")


def _to_date(call: ast.FunctionCall) -> tuple[Any, CqlType]:
    value, _kind = _to_timestamp(call)
    return value.date(), NATIVE_TYPES["date"]


def _to_unix(call: ast.FunctionCall) -> tuple[Any, CqlType]:
    value, _kind = _to_timestamp(call)
    return TimestampType.to_millis(value), NATIVE_TYPES["bigint"]


_FUNCTIONS: dict[str, Callable[[ast.FunctionCall], tuple[Any, CqlType]]] = {
    "now": lambda c: (_now_timeuuid(), NATIVE_TYPES["timeuuid"]),
    "currenttimeuuid": lambda c: (_now_timeuuid(), NATIVE_TYPES["timeuuid"]),
    "uuid": lambda c: (uuid.uuid4(), NATIVE_TYPES["uuid"]),
    "currenttimestamp": lambda c: (dt.datetime.now(dt.UTC), NATIVE_TYPES["timestamp"]),
    "currentdate": lambda c: (_today(), NATIVE_TYPES["date"]),
    "currenttime": lambda c: (time.time_ns() % _NANOS_PER_DAY, NATIVE_TYPES["time"]),
    "totimestamp": _to_timestamp,
    "todate": _to_date,
    "tounixtimestamp": _to_unix,
}
_ARITY = {"totimestamp": 1, "todate": 1, "tounixtimestamp": 1}


def evaluate_function(call: ast.FunctionCall) -> tuple[Any, CqlType]:
    """The value and type of a function used as a term (``now()``, ``toTimestamp(now())``)."""
    name = call.name.lower().removeprefix("system.")
    if name not in _FUNCTIONS:
        raise InvalidRequest(f"Unknown function {call.name} called")
    arity = _ARITY.get(name, 0)
    if len(call.args) != arity:
        raise InvalidRequest(
            f"Invalid number of arguments in call to function system.{name}: "
            f"{arity} required but {len(call.args)} provided"
        )
    return _FUNCTIONS[name](call)

"""simulator.cql.types against the cassandra-driver's own type codec (cassandra.cqltypes).

The driver is the reference: the [option] we encode must decode (with the driver's own
``read_type``) to the driver type of the same name, and every value must serialise to the
same bytes on both sides and deserialise back.
"""

from __future__ import annotations

import datetime as dt
import io
import string
import uuid
from decimal import Decimal

import pytest
from cassandra import util as driver_util
from cassandra.protocol import ResultMessage
from cassandra.query import BoundStatement
from hypothesis import given, settings
from hypothesis import strategies as st
from rackpanel.simulator.core import InvalidRequest, SyntaxException
from rackpanel.simulator.cql import ast, parse_type, routing_key
from rackpanel.simulator.cql.types import Duration, split_routing_key


def driver_type(cql_type):
    """The driver's type class for our [option] bytes, decoded by the driver itself."""
    return ResultMessage.read_type(io.BytesIO(cql_type.encode_option()), {})


def plain_name(name: str) -> str:
    """Type name without frozen<> wrappers, varchar spelled text (the driver drops frozen)."""
    while "frozen<" in name:
        start = name.index("frozen<")
        depth, end = 0, start + len("frozen<")
        for end in range(start + len("frozen<"), len(name)):
            depth += {"<": 1, ">": -1}.get(name[end], 0)
            if depth < 0:
                break
        name = name[:start] + name[start + len("frozen<") : end] + name[end + 1 :]
    return name.replace("varchar", "text").replace(" ", "")


INT32 = st.integers(-(2**31), 2**31 - 1)
INT64 = st.integers(-(2**63), 2**63 - 1)
TEXT = st.text(max_size=40)
NAIVE_DATETIMES = st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30))

# (type, strategy for our value, function turning it into what the driver accepts)
SAMPLES: dict[str, tuple[st.SearchStrategy, object]] = {
    "int": (INT32, None),
    "bigint": (INT64, None),
    "counter": (INT64, None),
    "smallint": (st.integers(-(2**15), 2**15 - 1), None),
    "tinyint": (st.integers(-128, 127), None),
    "varint": (st.integers(-(2**200), 2**200), None),
    "boolean": (st.booleans(), None),
    "double": (st.floats(allow_nan=False), None),
    "float": (st.floats(width=32, allow_nan=False), None),
    "decimal": (st.decimals(allow_nan=False, allow_infinity=False, places=None), None),
    "text": (TEXT, None),
    "varchar": (TEXT, None),
    "ascii": (st.text(alphabet=string.printable, max_size=40), None),
    "blob": (st.binary(max_size=64), None),
    "uuid": (st.uuids(), None),
    "timeuuid": (st.uuids(version=1), None),
    "inet": (st.ip_addresses(), str),
    "timestamp": (NAIVE_DATETIMES, None),
    "date": (st.dates(), None),
    "time": (st.times(), None),
    "duration": (
        st.builds(Duration, INT32, INT32, INT64),
        lambda d: driver_util.Duration(d.months, d.days, d.nanoseconds),
    ),
    "list<int>": (st.lists(INT32, max_size=8), None),
    "set<text>": (st.lists(TEXT, max_size=8, unique=True).map(sorted), None),
    "map<text, bigint>": (
        st.dictionaries(TEXT, INT64, max_size=6).map(lambda d: dict(sorted(d.items()))),
        None,
    ),
    "frozen<list<frozen<set<int>>>>": (
        st.lists(st.lists(INT32, max_size=4, unique=True).map(sorted), max_size=4),
        None,
    ),
    "tuple<int, text, boolean>": (
        st.tuples(st.none() | INT32, st.none() | TEXT, st.none() | st.booleans()),
        None,
    ),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_option_decodes_to_the_driver_type_of_the_same_name(name):
    ours = parse_type(name)
    assert plain_name(driver_type(ours).cql_parameterized_type()) == plain_name(ours.cql_name)
    assert parse_type(ours.cql_name) == ours  # the schema name reads back as the same type


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_values_serialise_exactly_as_the_driver_does(name):
    ours = parse_type(name)
    theirs = driver_type(ours)
    strategy, to_driver = SAMPLES[name]

    @settings(max_examples=60, deadline=None)
    @given(strategy)
    def check(value):
        data = ours.serialize(value)
        assert data == theirs.serialize(to_driver(value) if to_driver else value, 4)
        back = ours.deserialize(data)
        assert ours.serialize(back) == data
        assert theirs.deserialize(data, 4) == theirs.deserialize(ours.serialize(back), 4)

    check()


def test_special_floats_match_the_driver():
    for name in ("double", "float"):
        ours = parse_type(name)
        for value in (float("nan"), float("inf"), float("-inf"), -0.0):
            assert ours.serialize(value) == driver_type(ours).serialize(value, 4)


def test_validate_canonicalises_collections_and_rejects_malformed_values():
    m = parse_type("map<text, int>")
    driver_order = driver_type(m).serialize({"z": 1, "a": 2}, 4)  # the driver keeps dict order
    assert m.validate(driver_order) == m.serialize({"a": 2, "z": 1})
    nested = parse_type("list<frozen<set<int>>>")
    assert nested.validate(driver_type(nested).serialize([[3, 1, 3]], 4)) == nested.serialize(
        [[1, 3]]
    )
    assert parse_type("int").validate(b"\x00\x00\x00\x07") == b"\x00\x00\x00\x07"
    for name, bad in [
        ("int", b"\x00\x01\x02"),
        ("boolean", b""),
        ("text", b"\xff"),
        ("timeuuid", uuid.uuid4().bytes),
        ("list<int>", b"\x00\x00\x00\x01"),
    ]:
        with pytest.raises(InvalidRequest, match=f"for type {name}"):
            parse_type(name).validate(bad)


def test_timestamps_take_aware_datetimes_dates_and_milliseconds():
    ts = parse_type("timestamp")
    aware = dt.datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert ts.serialize(aware) == ts.serialize(dt.datetime(2024, 5, 6, 5, 8, 9, 123000))
    assert ts.serialize(1714972089123) == ts.serialize(aware)
    assert ts.deserialize(ts.serialize(aware)) == aware
    assert ts.serialize(dt.date(1970, 1, 2)) == ts.serialize(86_400_000)


def test_sets_and_maps_serialise_in_comparator_order_whatever_the_input_order():
    assert parse_type("set<int>").serialize({3, -1, 2}) == parse_type("set<int>").serialize(
        [-1, 2, 3]
    )
    assert parse_type("set<int>").deserialize(parse_type("set<int>").serialize([5, -7])) == [-7, 5]
    m = parse_type("map<int, text>")
    assert m.serialize({2: "b", -1: "a"}) == driver_type(m).serialize({-1: "a", 2: "b"}, 4)


@given(st.lists(st.tuples(INT32, st.binary(max_size=8)), min_size=1, max_size=4))
def test_routing_key_matches_the_driver(parts):
    components = [parse_type("int").serialize(n) + blob for n, blob in parts]
    expected = (
        components[0]
        if len(components) == 1
        else b"".join(BoundStatement._key_parts_packed(None, components))
    )
    assert routing_key(components) == expected
    assert split_routing_key(routing_key(components), len(components)) == components


# ---- ordering --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "strategy"),
    [
        ("int", INT32),
        ("bigint", INT64),
        ("varint", st.integers(-(2**80), 2**80)),
        ("double", st.floats(allow_nan=False)),
        ("decimal", st.decimals(allow_nan=False, allow_infinity=False)),
        ("timestamp", NAIVE_DATETIMES),
        ("date", st.dates()),
        ("time", st.times()),
        ("text", TEXT),
    ],
)
def test_sort_key_orders_serialised_values_like_the_values(name, strategy):
    cql_type = parse_type(name)

    @settings(max_examples=40, deadline=None)
    @given(st.lists(strategy, min_size=2, max_size=10))
    def check(values):
        by_key = sorted(values, key=lambda v: cql_type.sort_key(cql_type.serialize(v)))
        assert [cql_type.serialize(v) for v in by_key] == [
            cql_type.serialize(v) for v in sorted(values)
        ]

    check()


def test_timeuuids_sort_by_their_time_not_their_bytes():
    timeuuid = parse_type("timeuuid")
    early = uuid.UUID("ffffffff-0000-1000-8000-000000000000")  # low time bits first: big bytes
    late = uuid.UUID("00000000-0001-1000-8000-000000000000")
    assert early.time < late.time and early.bytes > late.bytes
    assert timeuuid.sort_key(early.bytes) < timeuuid.sort_key(late.bytes)


# ---- literals ---------------------------------------------------------------------------------


def lit(kind: str, text: str) -> ast.Literal:
    return ast.Literal(kind, text)


@pytest.mark.parametrize(
    ("name", "term", "expected"),
    [
        ("int", lit("integer", "-42"), -42),
        ("bigint", lit("integer", "9223372036854775807"), 2**63 - 1),
        (
            "varint",
            lit("integer", "123456789012345678901234567890"),
            123456789012345678901234567890,
        ),
        ("double", lit("integer", "3"), 3.0),
        ("double", lit("float", "-1.5e3"), -1500.0),
        ("float", lit("float", "Infinity"), float("inf")),
        ("decimal", lit("float", "1.10"), Decimal("1.10")),
        ("boolean", lit("boolean", "true"), True),
        ("text", lit("string", "it's"), "it's"),
        ("blob", lit("hex", "cafe"), b"\xca\xfe"),
        (
            "uuid",
            lit("uuid", "123e4567-e89b-12d3-a456-426614174000"),
            uuid.UUID("123e4567-e89b-12d3-a456-426614174000"),
        ),
        ("inet", lit("string", "127.0.21.3"), __import__("ipaddress").ip_address("127.0.21.3")),
        ("timestamp", lit("integer", "1700000000000"), 1700000000000),
        (
            "timestamp",
            lit("string", "2024-01-02 03:04:05+0100"),
            dt.datetime(2024, 1, 2, 2, 4, 5, tzinfo=dt.UTC),
        ),
        ("timestamp", lit("string", "2024-01-02"), dt.datetime(2024, 1, 2, tzinfo=dt.UTC)),
        ("date", lit("string", "2024-02-29"), dt.date(2024, 2, 29)),
        ("time", lit("string", "01:02:03.5"), 3_723_500_000_000),
        ("duration", lit("duration", "1h30m"), Duration(0, 0, 5_400_000_000_000)),
        ("duration", lit("string", "1y2mo3d"), Duration(14, 3, 0)),
        ("int", lit("null", "null"), None),
        ("list<int>", ast.ListLiteral((lit("integer", "2"), lit("integer", "1"))), [2, 1]),
        (
            "set<int>",
            ast.SetLiteral((lit("integer", "2"), lit("integer", "1"), lit("integer", "2"))),
            [1, 2],
        ),
        ("set<int>", ast.MapLiteral(()), []),
        ("map<text, int>", ast.MapLiteral(((lit("string", "a"), lit("integer", "1")),)), {"a": 1}),
        ("tuple<int, text>", ast.TupleLiteral((lit("integer", "1"),)), (1, None)),
    ],
)
def test_literals_become_values(name, term, expected):
    assert parse_type(name).from_literal(term, "c") == expected


@pytest.mark.parametrize(
    ("name", "term", "message"),
    [
        ("int", lit("string", "foo"), 'Invalid STRING constant (foo) for "id" of type int'),
        ("text", lit("integer", "1"), 'Invalid INTEGER constant (1) for "id" of type text'),
        ("int", lit("integer", "2147483648"), "Unable to make int from '2147483648'"),
        ("tinyint", lit("integer", "128"), "Unable to make byte from '128'"),
        (
            "boolean",
            lit("string", "true"),
            'Invalid STRING constant (true) for "id" of type boolean',
        ),
        (
            "timeuuid",
            lit("uuid", "123e4567-e89b-42d3-a456-426614174000"),
            "Invalid version for TimeUUID type.",
        ),
        ("blob", lit("hex", "abc"), "An hex string representing bytes must have an even length"),
        ("inet", lit("string", "300.1.1.1"), "Unable to make inet address from '300.1.1.1'"),
        (
            "timestamp",
            lit("string", "yesterday"),
            "Unable to coerce 'yesterday' to a formatted date (long)",
        ),
        ("int", ast.ListLiteral(()), "Invalid list literal for id of type int"),
        (
            "list<int>",
            ast.ListLiteral((lit("null", "null"),)),
            "null is not supported inside collections",
        ),
        (
            "int",
            ast.FunctionCall("now"),
            "Type error: cannot assign result of function system.now (type timeuuid) "
            "to id (type int)",
        ),
        ("int", ast.FunctionCall("nosuch"), "Unknown function nosuch called"),
    ],
)
def test_bad_literals_are_rejected_with_cassandra_messages(name, term, message):
    with pytest.raises(InvalidRequest) as caught:
        parse_type(name).from_literal(term, "id")
    assert caught.value.message == message


def test_time_functions_give_current_values_of_their_types():
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    now_uuid = parse_type("timeuuid").from_literal(ast.FunctionCall("now"), "c")
    assert now_uuid.version == 1
    stamp = parse_type("timestamp").from_literal(
        ast.FunctionCall("toTimestamp", (ast.FunctionCall("now"),)), "c"
    )
    assert before <= stamp <= dt.datetime.now(dt.UTC)
    assert parse_type("uuid").from_literal(ast.FunctionCall("uuid"), "c").version == 4
    assert parse_type("uuid").from_literal(ast.FunctionCall("now"), "c").version == 1
    assert (
        parse_type("date").from_literal(ast.FunctionCall("currentDate"), "c")
        == dt.datetime.now(dt.UTC).date()
    )


# ---- type names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cql_name"),
    [
        ("varchar", "text"),
        ("TEXT", "text"),
        ("map<text,int>", "map<text, int>"),
        ("list<frozen<map<text, int>>>", "list<frozen<map<text, int>>>"),
        ("frozen<set<uuid>>", "frozen<set<uuid>>"),
        ("tuple<int, list<text>>", "frozen<tuple<int, frozen<list<text>>>>"),
        ("frozen<tuple<int>>", "frozen<tuple<int>>"),
    ],
)
def test_type_names_as_system_schema_shows_them(text, cql_name):
    assert parse_type(text).cql_name == cql_name


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        (
            "list<list<int>>",
            InvalidRequest,
            "Non-frozen collections are not allowed inside collections: list<list<int>>",
        ),
        (
            "set<counter>",
            InvalidRequest,
            "Counters are not allowed inside collections: set<counter>",
        ),
        (
            "frozen<int>",
            InvalidRequest,
            "frozen<> is only allowed on collections, tuples, and user-defined types",
        ),
        ("address", InvalidRequest, "Unknown type address"),
        ("map<text>", InvalidRequest, "map takes 2 type parameter(s), got 1"),
        ("list<int", SyntaxException, "line 1:8 mismatched input '<EOF>' expecting '>'"),
    ],
)
def test_bad_type_names(text, error, message):
    with pytest.raises(error) as caught:
        parse_type(text)
    assert caught.value.message.startswith(message)

"""Arbitrary input never crashes the CQL layer: it parses, or it is a proper CQL error.

The simulator answers every client statement through this layer, so anything other than a
Statement or a SyntaxException / InvalidRequest / ConfigurationException would surface as a
server error (or a dead connection) in front of the driver.
"""

from __future__ import annotations

import math
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rackpanel.simulator.core import ConfigurationException, InvalidRequest, SyntaxException
from rackpanel.simulator.cql import ast, parse, parse_type
from rackpanel.simulator.cql.types import NATIVE_TYPES

CQL_ERRORS = (SyntaxException, InvalidRequest, ConfigurationException)
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VALID = [
    "SELECT * FROM system.local WHERE key='local'",
    "SELECT k, writetime(v) AS w, COUNT(*) FROM ks.t WHERE k IN (1, 2) AND c >= ? "
    "ORDER BY c DESC LIMIT 10 ALLOW FILTERING",
    "INSERT INTO t (k, c, v, m) VALUES (:k, now(), 'x''y', {'a': [1, 2]}) IF NOT EXISTS "
    "USING TTL 5 AND TIMESTAMP 6",
    "UPDATE t SET n = n + 1, l = [1] + l, m['k'] = 0x00ff WHERE k = ? IF v != null",
    "DELETE v, m['a'] FROM ks.t USING TIMESTAMP 1 WHERE k = 1 AND c = 2 IF EXISTS",
    "BEGIN UNLOGGED BATCH INSERT INTO t (k) VALUES (?); DELETE FROM t WHERE k = ?; APPLY BATCH",
    "CREATE KEYSPACE IF NOT EXISTS demo WITH replication = "
    "{'class': 'NetworkTopologyStrategy', 'DC1': 3, 'DC2': 3}",
    "CREATE TABLE demo.t (k int, c timeuuid, v text, s int static, m map<text, frozen<list<int>>>,"
    " PRIMARY KEY ((k), c)) WITH CLUSTERING ORDER BY (c DESC) AND comment = 'x'",
    "DROP TABLE IF EXISTS demo.t",
    "USE demo",
]

KEYWORDS = """SELECT INSERT UPDATE DELETE BEGIN BATCH APPLY UNLOGGED COUNTER CREATE DROP
    KEYSPACE TABLE USE TRUNCATE FROM WHERE AND IN IF NOT EXISTS INTO VALUES SET USING TTL
    TIMESTAMP LIMIT ORDER BY ASC DESC ALLOW FILTERING PRIMARY KEY WITH CLUSTERING STATIC TOKEN
    DISTINCT JSON AS COUNT writetime ttl now uuid totimestamp null true false NaN Infinity
    CONTAINS PER PARTITION replication durable_writes frozen list set map tuple int text k v t"""
SYMBOLS = "( ) [ ] { } , ; . * = < > <= >= != ? : + - += -="
WORDS = [
    *KEYWORDS.split(),
    *SYMBOLS.split(),
    "'str'",
    "'it''s'",
    "$$dollar$$",
    "42",
    "-7",
    "1.5e3",
    "0xCAFE",
    "0x",
    "123e4567-e89b-12d3-a456-426614174000",
    '"Quoted"',
    "1h30m",
    "--c\n",
    "/* c */",
]


def assert_parses_or_cql_error(text: str) -> None:
    try:
        statement = parse(text)
    except CQL_ERRORS:
        return
    assert isinstance(statement, ast.Statement)
    assert [m.index for m in statement.bind_markers] == list(range(len(statement.bind_markers)))


@FUZZ
@given(st.text(max_size=200))
def test_arbitrary_text(text):
    assert_parses_or_cql_error(text)


@FUZZ
@given(st.lists(st.sampled_from(WORDS), max_size=40))
def test_token_soup(words):
    assert_parses_or_cql_error(" ".join(words))


@FUZZ
@given(
    st.sampled_from(VALID),
    st.lists(
        st.tuples(
            st.sampled_from(["delete", "insert", "replace"]),
            st.integers(min_value=0, max_value=300),
            st.sampled_from([*WORDS, *string.punctuation, " ", "\n", "é", "\x00"]),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_mutated_valid_statements(statement, edits):
    text = statement
    for action, position, piece in edits:
        at = position % (len(text) + 1)
        if action == "delete":
            text = text[:at] + text[at + 1 :]
        elif action == "insert":
            text = text[:at] + piece + text[at:]
        else:
            text = text[:at] + piece + text[at + len(piece) :]
    assert_parses_or_cql_error(text)


@FUZZ
@given(st.lists(st.sampled_from([*NATIVE_TYPES, "list", "set", "map", "frozen", "tuple", "<",
                                 ">", ",", "x", "'c'"]), max_size=12))  # fmt: skip
def test_type_expressions(words):
    try:
        cql_type = parse_type(" ".join(words))
    except CQL_ERRORS:
        return
    assert parse_type(cql_type.cql_name) == cql_type


def same(a: object, b: object) -> bool:
    """Equal values, NaN equal to NaN (a float that is NaN is the one value != itself)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(same(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def assert_round_trip(cql_type, value, decoded: bool) -> None:
    """Bytes → value → the same bytes, and the decoded value comes back equal from its bytes.

    ``decoded``: ``value`` is already what ``deserialize`` gives (it must come back equal);
    otherwise it is a literal's value, whose Python form may differ (an integer timestamp).
    """
    data = cql_type.serialize(value)
    again = cql_type.deserialize(data)
    assert cql_type.serialize(again) == data, (cql_type.cql_name, value, again)
    assert same(cql_type.deserialize(cql_type.serialize(again)), again), (value, again)
    if decoded:
        assert same(again, value), (cql_type.cql_name, value, again)


TYPE_NAMES = [*NATIVE_TYPES, "list<int>", "set<text>", "map<text, int>", "tuple<int, text>"]


@FUZZ
@given(
    st.sampled_from(TYPE_NAMES),
    st.sampled_from(ast.Literal.KINDS),
    st.text(max_size=30) | st.sampled_from(["1", "-1", "1e400", "2024-01-01", "00:00:00", "1h"]),
)
def test_any_literal_against_any_type(name, kind, text):
    cql_type = parse_type(name)
    try:
        value = cql_type.from_literal(ast.Literal(kind, text), "c")
    except InvalidRequest:
        return
    if value is not None:
        assert_round_trip(cql_type, value, decoded=False)


@FUZZ
@given(st.sampled_from(TYPE_NAMES), st.binary(max_size=40))
def test_random_bytes_deserialise_or_are_invalid(name, data):
    cql_type = parse_type(name)
    try:
        value = cql_type.deserialize(data)
    except InvalidRequest:
        return
    assert_round_trip(cql_type, value, decoded=True)


def test_deep_nesting_is_a_syntax_error_not_a_recursion_error():
    deep_list = "[" * 3000 + "]" * 3000
    deep_call = "f(" * 3000 + ")" * 3000
    for text in (
        f"INSERT INTO t (k) VALUES ({deep_list})",
        f"SELECT {deep_call} FROM t",
        "CREATE TABLE t (k " + "frozen<list<" * 2000 + "int" + ">>" * 2000 + " PRIMARY KEY)",
    ):
        try:
            parse(text)
        except SyntaxException as exc:
            assert "nested too deeply" in exc.message
        else:
            raise AssertionError("accepted a 3000-deep expression")
    assert parse("INSERT INTO t (k) VALUES (" + "[" * 50 + "]" * 50 + ")")

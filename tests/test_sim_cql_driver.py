"""The CQL layer end to end: the real cassandra-driver against the running simulator.

Every supported type goes in through bound values (the driver's serialisation) and through
CQL literals (our parser and ``from_literal``), and must come back as the driver decodes
it; the schema the driver reads shows the type names Cassandra would; errors reach the
driver as SyntaxException / InvalidRequest with Cassandra's wording.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from cassandra import InvalidRequest
from cassandra.protocol import SyntaxException
from cassandra.util import Date, Duration, Time

from tests.support.inventories import shifted_inventory
from tests.support.lab import loopback_octet
from tests.support.sim import keyspace_session, running_simulator

KEYSPACE = "cql_layer_tests"
OCTET = loopback_octet()  # a loopback range of its own (tests/support/lab.py)

# column name → (declared type, schema type name, a value as the driver takes it,
#                the same value as a CQL literal)
COLUMNS = {
    "t_text": ("varchar", "text", "héllo 'x'", "'héllo ''x'''"),
    "t_ascii": ("ascii", "ascii", "plain", "'plain'"),
    "t_int": ("int", "int", -2147483648, "-2147483648"),
    "t_bigint": ("bigint", "bigint", 2**63 - 1, "9223372036854775807"),
    "t_smallint": ("smallint", "smallint", -32768, "-32768"),
    "t_tinyint": ("tinyint", "tinyint", 127, "127"),
    "t_varint": ("varint", "varint", -(10**30), "-1000000000000000000000000000000"),
    "t_boolean": ("boolean", "boolean", True, "true"),
    "t_double": ("double", "double", -1.25e300, "-1.25e300"),
    "t_float": ("float", "float", 0.5, "0.5"),
    "t_decimal": ("decimal", "decimal", Decimal("-12345678901234567890.000123"),
                  "-12345678901234567890.000123"),
    "t_timestamp": ("timestamp", "timestamp", dt.datetime(2024, 2, 29, 23, 59, 58, 123000),
                    "'2024-02-29 23:59:58.123+0000'"),
    "t_date": ("date", "date", Date(dt.date(1969, 7, 20)), "'1969-07-20'"),
    "t_time": ("time", "time", Time(dt.time(13, 14, 15, 500000)), "'13:14:15.5'"),
    "t_uuid": ("uuid", "uuid", uuid.UUID("123e4567-e89b-42d3-a456-426614174000"),
               "123e4567-e89b-42d3-a456-426614174000"),
    "t_timeuuid": ("timeuuid", "timeuuid", uuid.UUID("d2177dd0-eaa2-11de-a572-001b779c76e3"),
                   "d2177dd0-eaa2-11de-a572-001b779c76e3"),
    "t_blob": ("blob", "blob", b"\x00\xffrack", "0x00ff7261636b"),
    "t_inet": ("inet", "inet", "127.0.21.3", "'127.0.21.3'"),
    "t_inet6": ("inet", "inet", "::1", "'::1'"),
    "t_duration": ("duration", "duration", Duration(14, 3, 5_400_000_000_000), "1y2mo3d1h30m"),
    "t_list": ("list<int>", "list<int>", [3, 1, 3], "[3, 1, 3]"),
    "t_set": ("set<text>", "set<text>", {"b", "a"}, "{'b', 'a'}"),
    "t_map": ("map<text, bigint>", "map<text, bigint>", {"z": 1, "a": -2}, "{'z': 1, 'a': -2}"),
    "t_frozen": ("frozen<list<frozen<set<int>>>>", "frozen<list<frozen<set<int>>>>",
                 [[2, 1], []], "[{2, 1}, {}]"),
    "t_tuple": ("tuple<int, text, boolean>", "frozen<tuple<int, text, boolean>>",
                (7, None, False), "(7, null, false)"),
}  # fmt: skip


def normalised(value):
    """Driver-decoded values in comparable form (sets, maps and frozen sets as plain types)."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: normalised(v) for k, v in value.items()}
    if isinstance(value, set | frozenset) or type(value).__name__ == "SortedSet":
        return sorted(normalised(v) for v in value)
    if isinstance(value, list):
        return [normalised(v) for v in value]
    if isinstance(value, tuple):
        return tuple(normalised(v) for v in value)
    return value


def expected(name: str):
    value = COLUMNS[name][2]
    if name == "t_frozen":
        return [sorted(s) for s in value]
    if name in ("t_inet", "t_inet6"):
        return value
    return normalised(value)


@pytest.fixture(scope="module")
def own_simulator(tmp_path_factory):
    inventory = shifted_inventory(tmp_path_factory.mktemp("cql-layer"), OCTET)
    with running_simulator(
        inventory, admin=f"127.{OCTET}.0.2:9499", extra_args=("--no-jolokia",)
    ) as handle:
        yield handle


@pytest.fixture(scope="module")
def session(own_simulator):
    definitions = ", ".join(f"{name} {spec[0]}" for name, spec in COLUMNS.items())
    table = f"all_types (k text, c int, {definitions}, PRIMARY KEY ((k), c))"
    with keyspace_session(own_simulator, KEYSPACE, table) as session:
        yield session


def test_schema_shows_cassandras_type_names(session):
    table = session.cluster.metadata.keyspaces[KEYSPACE].tables["all_types"]
    for name, (_, schema_name, _, _) in COLUMNS.items():
        assert table.columns[name].cql_type == schema_name, name


def insert_bound(session, key: str) -> None:
    """One row with every column, through bound values (the driver's serialisation)."""
    names = list(COLUMNS)
    insert = session.prepare(
        f"INSERT INTO all_types (k, c, {', '.join(names)}) "
        f"VALUES (?, ?, {', '.join('?' for _ in names)})"
    )
    session.execute(insert, [key, 1, *(COLUMNS[n][2] for n in names)])


def insert_literal(session, key: str) -> None:
    """The same row through CQL literals (our parser and ``from_literal``)."""
    names = list(COLUMNS)
    session.execute(
        f"INSERT INTO all_types (k, c, {', '.join(names)}) "
        f"VALUES ('{key}', 1, {', '.join(COLUMNS[n][3] for n in names)})"
    )


def read_row(session, key: str):
    return session.execute(f"SELECT * FROM all_types WHERE k = '{key}' AND c = 1").one()


def test_bound_values_round_trip_through_the_driver(session):
    insert_bound(session, "bound")
    row = read_row(session, "bound")
    for name in COLUMNS:
        assert normalised(getattr(row, name)) == expected(name), name


def test_literals_round_trip_through_the_parser(session):
    insert_literal(session, "literal")
    row = read_row(session, "literal")
    for name in COLUMNS:
        assert normalised(getattr(row, name)) == expected(name), name


def test_literal_and_bound_rows_store_the_same_bytes(session):
    """Both paths give the same values (maps compared without regard to order: the simulator
    stores a bound map in the order the driver sent it). Writes its own two rows, so it runs
    alone as well as after the round-trip tests."""
    insert_bound(session, "same-bound")
    insert_literal(session, "same-literal")
    bound, literal = read_row(session, "same-bound"), read_row(session, "same-literal")
    for name in COLUMNS:
        assert normalised(getattr(bound, name)) == normalised(getattr(literal, name)), name


def test_functions_as_values(session):
    session.execute(
        "INSERT INTO all_types (k, c, t_timeuuid, t_uuid, t_timestamp, t_date) "
        "VALUES ('fn', 1, now(), uuid(), toTimestamp(now()), currentDate())"
    )
    row = session.execute("SELECT * FROM all_types WHERE k = 'fn' AND c = 1").one()
    assert row.t_timeuuid.version == 1 and row.t_uuid.version == 4
    assert abs(row.t_timestamp - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(
        seconds=30
    )
    assert row.t_date == Date(dt.datetime.now(dt.UTC).date())


def test_syntax_errors_reach_the_driver(session):
    with pytest.raises(SyntaxException, match=r"line 1:9 mismatched input 'FRM' expecting K_FROM"):
        session.execute("SELECT * FRM all_types")


def test_invalid_literals_reach_the_driver(session):
    with pytest.raises(InvalidRequest, match=r'Invalid STRING constant \(x\) for "c" of type int'):
        session.execute("INSERT INTO all_types (k, c) VALUES ('bad', 'x')")
    with pytest.raises(InvalidRequest, match="Unable to make byte from '300'"):
        session.execute("INSERT INTO all_types (k, c, t_tinyint) VALUES ('bad', 1, 300)")

"""simulator.cql.parse: the statements the driver, the exporter and users send."""

from __future__ import annotations

import inspect
from types import SimpleNamespace

import pytest
from cassandra import cluster as driver_cluster
from cassandra import metadata as driver_metadata
from rackpanel.simulator.core import ConfigurationException, InvalidRequest, SyntaxException
from rackpanel.simulator.cql import ast, parse, parse_type
from rackpanel.simulator.cql.ast import BindMarker, Literal


class _Recorded(Exception):
    pass


class RecordingConnection:
    """Stands in for a socket only to capture the CQL the driver's own code builds."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def wait_for_responses(self, *messages, **_kwargs):
        self.queries += [message.query for message in messages]
        raise _Recorded


def driver_schema_queries() -> list[str]:
    """Every query SchemaParserV4 (release_version >= 4.0) sends, built by the driver itself."""
    connection = RecordingConnection()
    parser = driver_metadata.SchemaParserV4(connection, timeout=1)
    signature = SimpleNamespace(name="f", argument_types=["int", "frozen<list<text>>"])
    calls = [
        lambda: list(parser.get_all_keyspaces()),
        lambda: parser.get_table({}, "Demo", "it's"),
        lambda: parser.get_type({}, "demo", "address"),
        lambda: parser.get_types_map({}, "demo"),
        lambda: parser.get_function({}, "demo", signature),
        lambda: parser.get_aggregate({}, "demo", signature),
        lambda: parser.get_keyspace({}, "demo"),
    ]
    for call in calls:
        with pytest.raises(_Recorded):
            call()
    return connection.queries


def control_connection_queries() -> list[str]:
    """The control connection's system.local / system.peers(_v2) queries."""
    cc = driver_cluster.ControlConnection
    queries = []
    for name, value in inspect.getmembers(cc):
        if name.startswith("_SELECT") and isinstance(value, str):
            queries.append(value.format(nt_col_name="native_transport_address"))
            queries.append(value.format(nt_col_name="rpc_address"))
    return sorted(set(queries))


EXPORTER_QUERIES = [
    "SELECT * FROM system_views.gossip_info",
    "SELECT * FROM system_views.settings",
    "SELECT * FROM system_views.thread_pools",
    "SELECT * FROM system_views.clients",
    "SELECT * FROM system_views.pending_hints",
    "SELECT * FROM system_views.internode_outbound",
    "SELECT name, value FROM system_views.settings WHERE name = 'phi_convict_threshold'",
    "SELECT column_name FROM system_virtual_schema.columns "
    "WHERE keyspace_name = 'system_views' AND table_name = 'gossip_info'",
]


def test_every_query_the_driver_sends_parses():
    queries = control_connection_queries() + driver_schema_queries()
    assert len(queries) > 25
    for query in queries:
        statement = parse(query)
        assert isinstance(statement, ast.Select), query
        assert statement.keyspace in {"system", "system_schema", "system_virtual_schema"}, query


def test_driver_where_clauses_keep_their_values():
    table_query = next(q for q in driver_schema_queries() if "system_schema.tables WHERE" in q)
    statement = parse(table_query)
    assert [(r.column, r.op, r.term) for r in statement.where] == [
        ("keyspace_name", "=", Literal("string", "Demo")),
        ("table_name", "=", Literal("string", "it's")),
    ]
    function_query = next(q for q in driver_schema_queries() if "functions WHERE" in q)
    argument_types = parse(function_query).where[2]
    assert argument_types.term == ast.ListLiteral(
        (Literal("string", "int"), Literal("string", "frozen<list<text>>"))
    )


@pytest.mark.parametrize("query", EXPORTER_QUERIES)
def test_exporter_queries_parse(query):
    statement = parse(query)
    assert isinstance(statement, ast.Select) and statement.keyspace.startswith("system_")


def test_system_local_query():
    statement = parse("SELECT * FROM system.local WHERE key='local'")
    assert statement == ast.Select(
        "system", "local", "*", (ast.Relation("key", "=", (Literal("string", "local"),)),)
    )


# ---- DDL -------------------------------------------------------------------------------------


def test_create_keyspace_with_network_topology():
    statement = parse(
        "CREATE KEYSPACE IF NOT EXISTS Demo WITH replication = "
        "{'class': 'NetworkTopologyStrategy', 'DC1': 3, 'DC2': '3'} AND durable_writes = false;"
    )
    assert statement == ast.CreateKeyspace(
        "demo",
        True,
        {"class": "org.apache.cassandra.locator.NetworkTopologyStrategy", "DC1": "3", "DC2": "3"},
        False,
    )


@pytest.mark.parametrize(
    ("query", "error", "message"),
    [
        (
            "CREATE KEYSPACE k WITH durable_writes = true",
            ConfigurationException,
            "Missing mandatory option 'replication'",
        ),
        (
            "CREATE KEYSPACE k WITH replication = {'class': 'Nope'}",
            ConfigurationException,
            "Unable to find replication strategy class 'Nope'",
        ),
        (
            "CREATE KEYSPACE k WITH replication = {'class': 'SimpleStrategy'}",
            ConfigurationException,
            "SimpleStrategy requires a replication_factor strategy option.",
        ),
        (
            "CREATE KEYSPACE k WITH replication = "
            "{'class': 'SimpleStrategy', 'replication_factor': 'x'}",
            ConfigurationException,
            "Replication factor must be numeric; found x",
        ),
        ("CREATE KEYSPACE k WITH colour = 'blue'", SyntaxException, "Unknown property 'colour'"),
        (
            "CREATE KEYSPACE k",
            SyntaxException,
            "line 1:17 mismatched input '<EOF>' expecting K_WITH",
        ),
    ],
)
def test_bad_keyspace_definitions(query, error, message):
    with pytest.raises(error) as caught:
        parse(query)
    assert caught.value.message.startswith(message)


def test_create_table_with_composite_key_and_clustering_order():
    statement = parse(
        'CREATE TABLE IF NOT EXISTS demo."Events" (dc text, rack text, at timeuuid, seq int, '
        "note text STATIC, tags set<text>, PRIMARY KEY ((dc, rack), at, seq)) "
        "WITH CLUSTERING ORDER BY (at DESC) AND comment = 'demo' "
        "AND compaction = {'class': 'SizeTieredCompactionStrategy'} AND gc_grace_seconds = 10"
    )
    assert isinstance(statement, ast.CreateTable)
    assert (statement.keyspace, statement.name, statement.if_not_exists) == ("demo", "Events", True)
    assert [name for name, _ in statement.columns] == ["dc", "rack", "at", "seq", "note", "tags"]
    assert statement.column_type("tags") == parse_type("set<text>")
    assert statement.partition_key == ("dc", "rack")
    assert statement.clustering == ("at", "seq")
    assert statement.clustering_order == {"at": "DESC", "seq": "ASC"}
    assert statement.static_columns == ("note",)
    assert statement.options == {
        "comment": "demo",
        "compaction": {"class": "SizeTieredCompactionStrategy"},
        "gc_grace_seconds": 10,
    }


def test_inline_primary_key():
    statement = parse("create table t (id uuid primary key, v blob)")
    assert (statement.keyspace, statement.partition_key, statement.clustering) == (
        None,
        ("id",),
        (),
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "CREATE TABLE t (a int, b int)",
            "No PRIMARY KEY specifed for table 't' (exactly one required)",
        ),
        (
            "CREATE TABLE t (a int PRIMARY KEY, b int PRIMARY KEY)",
            "Multiple PRIMARY KEY specifed for table 't'",
        ),
        (
            "CREATE TABLE t (a int, PRIMARY KEY (b))",
            "Unknown definition b referenced in PRIMARY KEY",
        ),
        ("CREATE TABLE t (a int, a text, PRIMARY KEY (a))", "Multiple definition of identifier a"),
        (
            "CREATE TABLE t (a list<int> PRIMARY KEY)",
            "Invalid non-frozen collection type list<int> for PRIMARY KEY component a",
        ),
        ("CREATE TABLE t (a int PRIMARY KEY, s int STATIC)", "Static columns are only useful"),
        (
            "CREATE TABLE t (a int, b int, c counter, PRIMARY KEY (a))",
            "Cannot mix counter and non counter columns",
        ),
        (
            "CREATE TABLE t (a int, b int, PRIMARY KEY (a, b)) WITH CLUSTERING ORDER BY (a DESC)",
            "Only clustering key columns can be defined in CLUSTERING ORDER directive",
        ),
        (
            "CREATE TABLE t (a int PRIMARY KEY) WITH COMPACT STORAGE",
            "Compact tables are not allowed",
        ),
        ("CREATE TABLE t (a addr PRIMARY KEY)", "Unknown type addr"),
        (
            'CREATE TABLE "my-table" (a int PRIMARY KEY)',
            "Table name must not be empty, more than 222 characters long, or contain "
            'non-alphanumeric-underscore characters (got "my-table")',
        ),
        (
            "CREATE KEYSPACE "
            + "k" * 49
            + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
            "Keyspace name must not be empty, more than 48 characters long",
        ),
        ("CREATE INDEX ON t (v)", "CREATE INDEX statements are not supported by the simulator"),
        ("ALTER TYPE t ADD v int", "ALTER TYPE statements are not supported by the simulator"),
    ],
)
def test_bad_table_definitions(query, message):
    with pytest.raises(InvalidRequest) as caught:
        parse(query)
    assert caught.value.message.startswith(message)


def test_drop_use_truncate():
    assert parse("DROP KEYSPACE IF EXISTS demo") == ast.DropKeyspace("demo", True)
    assert parse("DROP TABLE demo.t") == ast.DropTable("demo", "t", False)
    assert parse('USE "Demo"') == ast.Use("Demo")
    assert parse("TRUNCATE TABLE t") == ast.Truncate(None, "t")


# ---- DML -------------------------------------------------------------------------------------


def test_insert_with_markers_ttl_timestamp_and_lwt():
    statement = parse(
        "INSERT INTO demo.t (k, c, v) VALUES (?, now(), :v) "
        "IF NOT EXISTS USING TTL 10 AND TIMESTAMP ?"
    )
    assert statement == ast.Insert(
        "demo",
        "t",
        ("k", "c", "v"),
        (BindMarker(0), ast.FunctionCall("now"), BindMarker(1, "v")),
        True,
        Literal("integer", "10"),
        BindMarker(2),
    )
    assert statement.bind_markers == (BindMarker(0), BindMarker(1, "v"), BindMarker(2))


@pytest.mark.parametrize(
    ("value", "term"),
    [
        ("'it''s'", Literal("string", "it's")),
        ("$$a 'b'$$", Literal("string", "a 'b'")),
        ("-12", Literal("integer", "-12")),
        ("1.5e-3", Literal("float", "1.5e-3")),
        ("NaN", Literal("float", "NaN")),
        ("-Infinity", Literal("float", "-Infinity")),
        ("TRUE", Literal("boolean", "true")),
        ("null", Literal("null", "null")),
        ("0xCAFE", Literal("hex", "cafe")),
        (
            "123E4567-e89b-12d3-a456-426614174000",
            Literal("uuid", "123e4567-e89b-12d3-a456-426614174000"),
        ),
        ("1h30m", Literal("duration", "1h30m")),
        ("[1, 2]", ast.ListLiteral((Literal("integer", "1"), Literal("integer", "2")))),
        ("{'a'}", ast.SetLiteral((Literal("string", "a"),))),
        ("{'a': 1}", ast.MapLiteral(((Literal("string", "a"), Literal("integer", "1")),))),
        ("{}", ast.MapLiteral(())),
        ("(1, 'x')", ast.TupleLiteral((Literal("integer", "1"), Literal("string", "x")))),
        ("toTimestamp(now())", ast.FunctionCall("totimestamp", (ast.FunctionCall("now"),))),
    ],
)
def test_literal_terms(value, term):
    assert parse(f"INSERT INTO t (k, v) VALUES (1, {value})").values[1] == term


def test_update_assignments_conditions_and_using():
    statement = parse(
        "UPDATE t USING TTL 5 AND TIMESTAMP 7 SET v = 'a', m['x'] = 1, n = n + 1, c = c -2, "
        "l = [0] + l, s += {'z'} WHERE k = ? AND c IN (1, 2) IF v = 'b' AND m['x'] != 3"
    )
    assert [(a.column, a.op) for a in statement.assignments] == [
        ("v", "set"),
        ("m", "set_element"),
        ("n", "add"),
        ("c", "subtract"),
        ("l", "prepend"),
        ("s", "add"),
    ]
    assert statement.assignments[3].value == Literal("integer", "2")
    assert statement.assignments[1].key == Literal("string", "x")
    assert [(r.column, r.op, len(r.terms)) for r in statement.where] == [
        ("k", "=", 1),
        ("c", "IN", 2),
    ]
    assert statement.conditions == (
        ast.Condition("v", "=", (Literal("string", "b"),)),
        ast.Condition("m", "!=", (Literal("integer", "3"),), Literal("string", "x")),
    )
    assert (statement.ttl, statement.timestamp) == (
        Literal("integer", "5"),
        Literal("integer", "7"),
    )
    assert parse("UPDATE t SET v = 1 WHERE k = 1 IF EXISTS").if_exists


def test_delete_forms():
    whole = parse("DELETE FROM ks.t USING TIMESTAMP 3 WHERE k = 1 IF EXISTS")
    assert (whole.keyspace, whole.columns, whole.if_exists) == ("ks", (), True)
    assert whole.timestamp == Literal("integer", "3")
    some = parse("DELETE v, m['k'] FROM t WHERE k IN ? AND c >= ?")
    assert some.columns == ("v",) and some.elements == (("m", Literal("string", "k")),)
    assert some.where[0] == ast.Relation("k", "IN", (BindMarker(0),))
    assert some.bind_markers == (BindMarker(0), BindMarker(1))


def test_batch_numbers_markers_across_statements():
    statement = parse(
        "BEGIN UNLOGGED BATCH USING TIMESTAMP 1 "
        "INSERT INTO t (k, v) VALUES (?, ?); UPDATE t SET v = ? WHERE k = ?; "
        "DELETE FROM t WHERE k = ? APPLY BATCH"
    )
    assert statement.kind == "UNLOGGED" and statement.timestamp == Literal("integer", "1")
    assert [type(s).__name__ for s in statement.statements] == ["Insert", "Update", "Delete"]
    assert [m.index for m in statement.bind_markers] == [0, 1, 2, 3, 4]
    assert parse("BEGIN BATCH APPLY BATCH").kind == "LOGGED"
    assert (
        parse("BEGIN COUNTER BATCH UPDATE c SET n = n + 1 WHERE k = 1 APPLY BATCH").kind
        == "COUNTER"
    )


def test_select_clauses():
    statement = parse(
        "SELECT DISTINCT k, writetime(v), ttl(v) AS left, COUNT(*) FROM t WHERE k = 1 AND c > 2 "
        "ORDER BY c DESC PER PARTITION LIMIT 2 LIMIT ? ALLOW FILTERING"
    )
    assert statement.distinct and statement.allow_filtering
    assert [s.result_name for s in statement.selectors] == ["k", "writetime(v)", "left", "count"]
    assert statement.selectors[1].expression == ast.FunctionSelector(
        "writetime", (ast.ColumnSelector("v"),)
    )
    assert statement.order_by == (("c", "DESC"),)
    assert statement.per_partition_limit == Literal("integer", "2")
    assert statement.limit == BindMarker(0)
    functions = parse("SELECT token(k), ttl(v), toJson(v) FROM t").selectors
    assert [f.result_name for f in functions] == ["system.token(k)", "ttl(v)", "system.tojson(v)"]
    token = parse("SELECT * FROM t WHERE token(a, b) > ?").where[0]
    assert (token.token, token.columns, token.op) == (True, ("a", "b"), ">")
    # unreserved keywords stay usable as column names
    assert parse("SELECT key, json, count, ttl FROM t").selectors[1].result_name == "json"
    assert parse('SELECT "Mixed" FROM t').selectors[0].result_name == "Mixed"


def test_comments_and_case():
    statement = parse("-- leading\nselect /* all */ * From KS.Tab // trailing\n;")
    assert (statement.keyspace, statement.table) == ("ks", "tab")


# ---- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT * FRM t", "line 1:9 mismatched input 'FRM' expecting K_FROM (SELECT * [FRM] t)"),
        ("SELEC * FROM t", "line 1:0 no viable alternative at input 'SELEC'"),
        ("SELECT * FROM t WHERE", "line 1:21 no viable alternative at input '<EOF>'"),
        (
            "SELECT * FROM t WHERE k = 1 garbage",
            "line 1:28 mismatched input 'garbage' expecting EOF",
        ),
        ("SELECT * FROM select", "line 1:14 no viable alternative at input 'select'"),
        ("INSERT INTO t (a) VALUES ('x", "line 1:28 mismatched character '<EOF>' expecting '''"),
        ("SELECT * FROM t WHERE k = #", "line 1:26 no viable alternative at character '#'"),
        ("SELECT *\nFROM t\nWHERE k ~ 1", "line 3:8 no viable alternative at character '~'"),
        ("SELECT *\nFROM t\nLIMIT", "line 3:5 no viable alternative at input '<EOF>'"),
        ("", "line 1:0 no viable alternative at input '<EOF>'"),
    ],
)
def test_syntax_errors_read_like_cassandras(query, message):
    with pytest.raises(SyntaxException) as caught:
        parse(query)
    assert caught.value.message.startswith(message)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("INSERT INTO t (a, b) VALUES (1)", "Unmatched column names/values"),
        ("INSERT INTO t (a, a) VALUES (1, 2)", "The column names contains duplicates"),
        ("UPDATE t SET a = b + 1 WHERE k = 1", "Only expressions of the form X = <value> + X"),
        ("BEGIN BATCH USING TIMESTAMP 1 INSERT INTO t (k) VALUES (1) USING TIMESTAMP 2 APPLY BATCH",
         "Timestamp must be set either on BATCH or individual statements"),
    ],
)  # fmt: skip
def test_invalid_statements(query, message):
    with pytest.raises(InvalidRequest) as caught:
        parse(query)
    assert caught.value.message.startswith(message)

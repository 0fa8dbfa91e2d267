"""Whatever CQL a client sends, the simulator answers with a Cassandra error class (syntax,
invalid, configuration, already exists) — never a server error, never a crash."""

from __future__ import annotations

import pytest
from cassandra import DriverException, OperationTimedOut
from cassandra.cluster import NoHostAvailable
from cassandra.protocol import ErrorMessage, ServerError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.sim import keyspace_session

KEYSPACE = "statement_tests"

ODD_STATEMENTS = [
    "",
    ";",
    "SELECT",
    "SELECT * FROM",
    "SELECT * FROM t WHERE",
    "SELECT k, k, k FROM t",
    "SELECT * FROM t WHERE k IN ()",
    "SELECT * FROM t WHERE k = 1 AND k = 2",
    "SELECT * FROM t WHERE c > 1",
    "SELECT * FROM t WHERE k = 1 ORDER BY v DESC",
    "SELECT * FROM t LIMIT 0",
    "SELECT * FROM t LIMIT -1",
    "SELECT * FROM t WHERE k = 'text'",
    "SELECT writetime(k) FROM t",
    "SELECT ttl(c) FROM t",
    "SELECT unknownfn(v) FROM t",
    "SELECT * FROM t WHERE token(k) > 0",
    "SELECT * FROM system.nothing",
    "SELECT * FROM nokeyspace.t",
    "INSERT INTO t (k) VALUES (1)",
    "INSERT INTO t (k, c, v) VALUES (1, 2)",
    "INSERT INTO t (k, c, v, v) VALUES (1, 2, 3, 4)",
    "INSERT INTO t (k, c, nope) VALUES (1, 2, 3)",
    "INSERT INTO t (k, c, v) VALUES (null, 1, 1)",
    "INSERT INTO t (k, c, v) VALUES (1, 1, 1) USING TTL -5",
    "INSERT INTO t (k, c, v) VALUES (1, 1, 99999999999)",
    "INSERT INTO t (k, c, v) VALUES (1, 1, now())",
    "INSERT INTO system.local (key) VALUES ('x')",
    "UPDATE t SET k = 1 WHERE k = 1 AND c = 1",
    "UPDATE t SET v = v + 1 WHERE k = 1 AND c = 1",
    "UPDATE t SET v = 1 WHERE k = 1",
    "UPDATE t SET v = 1 WHERE c = 1",
    "UPDATE t SET v = 1 WHERE k = 1 AND c = 1 IF nope = 1",
    "DELETE FROM t WHERE v = 1",
    "DELETE k FROM t WHERE k = 1 AND c = 1",
    "DELETE FROM t WHERE k = 1 AND c > 1",
    "BEGIN BATCH SELECT * FROM t; APPLY BATCH",
    "BEGIN BATCH INSERT INTO t (k, c, v) VALUES (1, 1, 1) IF NOT EXISTS; APPLY BATCH",
    "CREATE KEYSPACE statement_tests WITH replication = {'class': 'SimpleStrategy'}",
    "CREATE KEYSPACE x WITH replication = {'class': 'NoSuchStrategy'}",
    "CREATE KEYSPACE x WITH replication = {'class': 'NetworkTopologyStrategy', 'DC9': 3}",
    "CREATE KEYSPACE x WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 'x'}",
    "CREATE TABLE t (k int PRIMARY KEY)",
    "CREATE TABLE t2 (k int, v int, PRIMARY KEY (nope))",
    "CREATE TABLE t2 (k int PRIMARY KEY, k text)",
    "CREATE TABLE t2 (k int PRIMARY KEY) WITH bogus_option = 1",
    "CREATE TABLE t2 (k int, c int, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (k DESC)",
    "CREATE TABLE t2 (k notatype PRIMARY KEY)",
    "DROP TABLE nope",
    "DROP KEYSPACE nope",
    "DROP KEYSPACE system",
    "USE nope",
    "TRUNCATE system.local",
    "ALTER TABLE t ADD x int",
    "GRANT ALL ON t TO someone",
    "SELECT * FROM t WHERE k = ?",
    "\x00\x01\x02",
    "SELECT * FROM t WHERE k = 1 AND c = 1 AND v = 1",
    "SELECT count(*), v FROM t WHERE k = 1",
]


@pytest.fixture(scope="module")
def session(simulator):
    table = "t (k int, c int, v int, PRIMARY KEY (k, c))"
    with keyspace_session(simulator, KEYSPACE, table) as session:
        yield session


def outcome(session, statement: str) -> str:
    try:
        session.execute(statement, timeout=10)
    except (ServerError, OperationTimedOut, NoHostAvailable) as exc:  # a bug in the simulator
        return f"SERVER ERROR: {type(exc).__name__} {exc}"
    except (DriverException, ErrorMessage) as exc:
        return type(exc).__name__
    except ValueError:  # the driver refuses to send it (e.g. bind markers without values)
        return "client"
    return "ok"


@pytest.mark.parametrize("statement", ODD_STATEMENTS)
def test_odd_statements_get_cassandra_errors(session, statement):
    result = outcome(session, statement)
    assert not result.startswith("SERVER ERROR"), result


WORDS = st.sampled_from(
    [
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "FROM",
        "INTO",
        "WHERE",
        "AND",
        "SET",
        "VALUES",
        "IF",
        "EXISTS",
        "NOT",
        "IN",
        "LIMIT",
        "ORDER",
        "BY",
        "ASC",
        "DESC",
        "USING",
        "TTL",
        "TIMESTAMP",
        "BATCH",
        "BEGIN",
        "APPLY",
        "ALLOW",
        "FILTERING",
        "*",
        ",",
        "(",
        ")",
        "=",
        "<",
        ">",
        "?",
        ";",
        "t",
        "k",
        "c",
        "v",
        "1",
        "-1",
        "0x00",
        "'x'",
        "null",
        "true",
        "now()",
        "count(*)",
        "writetime(v)",
        "token(k)",
    ]
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(WORDS, min_size=1, max_size=14))
def test_random_statements_never_cause_server_errors(session, words):
    statement = " ".join(words)
    result = outcome(session, statement)
    assert not result.startswith("SERVER ERROR"), f"{statement}: {result}"

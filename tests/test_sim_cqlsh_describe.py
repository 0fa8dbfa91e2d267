"""DESCRIBE through the real cqlsh 6.2.2 against the simulator, as Cassandra 5.0 answers it.

cqlsh >= 6 sends every DESCRIBE to the server (no local fallback) and prints the
``create_statement`` / ``name`` columns of ``DescribeStatement``'s result. The expected texts
follow Cassandra's ``KeyspaceMetadata.toCqlString`` (``  AND durable_writes``, short strategy
class names), ``TableMetadata.toCqlString`` and ``TableParams.appendCqlTo`` (option order,
``memtable`` after ``compression``) as pinned by ``DescribeStatementTest``; the error texts are
``DescribeStatement``'s.
"""

from __future__ import annotations

import pytest

from tests.support.cqlsh import shell_for
from tests.support.sim import DEMO_REPLICATION

KEYSPACE = "describe_ks"
TABLE_OPTIONS = """ WITH additional_write_policy = '99p'
    AND allow_auto_snapshot = true
    AND bloom_filter_fp_chance = 0.01
    AND caching = {'keys': 'ALL', 'rows_per_partition': 'NONE'}
    AND cdc = false
    AND comment = ''
    AND compaction = {'class': 'org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy', 'max_threshold': '32', 'min_threshold': '4'}
    AND compression = {'chunk_length_in_kb': '16', 'class': 'org.apache.cassandra.io.compress.LZ4Compressor'}
    AND memtable = 'default'
    AND crc_check_chance = 1.0
    AND default_time_to_live = 0
    AND extensions = {}
    AND gc_grace_seconds = 864000
    AND incremental_backups = true
    AND max_index_interval = 2048
    AND memtable_flush_period_in_ms = 0
    AND min_index_interval = 128
    AND read_repair = 'BLOCKING'
    AND speculative_retry = '99p';"""  # noqa: E501
KV = "CREATE TABLE describe_ks.kv (\n    k text PRIMARY KEY,\n    v int\n)" + TABLE_OPTIONS
EVENTS = (
    "CREATE TABLE describe_ks.events (\n"
    "    day text,\n    at timestamp,\n    seq int,\n    source text static,\n"
    "    body text,\n    tags list<text>,\n"
    "    PRIMARY KEY (day, at, seq)\n"
    ") WITH CLUSTERING ORDER BY (at DESC, seq ASC)\n    AND" + TABLE_OPTIONS[5:]
)
KEYSPACE_CQL = (
    "CREATE KEYSPACE describe_ks WITH replication = {'class': 'NetworkTopologyStrategy', "
    "'DC1': '3', 'DC2': '3'}  AND durable_writes = true;"
)


@pytest.fixture(scope="module")
def shell(simulator, tmp_path_factory):
    simulator.reset()  # every node on: an earlier module may have left a DC powered off
    run = shell_for(simulator, tmp_path_factory.mktemp("cqlsh-home"))
    run(
        "-e",
        f"CREATE KEYSPACE IF NOT EXISTS {KEYSPACE} WITH replication = {DEMO_REPLICATION};"
        f"CREATE TABLE IF NOT EXISTS {KEYSPACE}.kv (k text PRIMARY KEY, v int);"
        f"CREATE TABLE IF NOT EXISTS {KEYSPACE}.events (day text, at timestamp, seq int, "
        "body text, tags list<text>, source text static, PRIMARY KEY (day, at, seq)) "
        "WITH CLUSTERING ORDER BY (at DESC, seq ASC);",
    )
    return run


def test_describe_keyspaces_lists_every_keyspace(shell):
    out = shell("-e", "DESCRIBE KEYSPACES")
    names = out.split()
    for name in (KEYSPACE, "system", "system_schema", "system_traces", "system_views",
                 "system_virtual_schema", "system_auth", "system_distributed"):  # fmt: skip
        assert name in names, out


def test_describe_table_prints_cassandras_create_statement(shell):
    assert shell("-e", f"DESCRIBE TABLE {KEYSPACE}.kv").strip() == KV
    # clustering order, static before regular, simple before multi-cell (TableMetadata)
    assert shell("-e", f"DESC {KEYSPACE}.events").strip() == EVENTS


def test_describe_keyspace_is_the_keyspace_then_its_tables(shell):
    out = shell("-e", f"DESCRIBE KEYSPACE {KEYSPACE}").strip()
    assert out == "\n\n".join([KEYSPACE_CQL, EVENTS, KV])
    assert shell("-e", f"DESCRIBE ONLY KEYSPACE {KEYSPACE}").strip() == KEYSPACE_CQL


def test_describe_in_a_session_uses_the_current_keyspace(shell):
    out = shell(stdin=f"USE {KEYSPACE};\nDESCRIBE TABLES;\nDESCRIBE kv;\nDESCRIBE KEYSPACE;\n")
    assert "events  kv" in out
    assert KV in out and KEYSPACE_CQL in out


def test_describe_with_internals_shows_the_table_id(shell):
    out = shell("-e", f"DESCRIBE TABLE {KEYSPACE}.kv WITH INTERNALS")
    assert ") WITH ID = " in out and "\n    AND additional_write_policy = '99p'" in out


def test_describe_schema_skips_system_keyspaces_and_full_schema_does_not(shell):
    schema = shell("-e", "DESCRIBE SCHEMA")
    assert KEYSPACE_CQL in schema and "CREATE KEYSPACE system " not in schema
    full = shell("-e", "DESCRIBE FULL SCHEMA")
    assert "CREATE TABLE system.local (" in full
    assert "VIRTUAL KEYSPACE system_views;" in full  # a virtual keyspace, as a comment
    assert "Warning: Table system_views.clients is a virtual table" in full


def test_describe_cluster_with_a_keyspace_in_use_shows_range_ownership(shell):
    out = shell("-k", KEYSPACE, "-e", "DESCRIBE CLUSTER")
    assert "Cluster: BlaBlaRpi Cluster" in out
    assert "Partitioner: Murmur3Partitioner" in out
    assert "Range ownership:" in out and ":7000" in out
    assert "Range ownership" not in shell("-e", "DESCRIBE CLUSTER")


def test_describe_types_functions_aggregates_are_empty_lists(shell):
    for what in ("TYPES", "FUNCTIONS", "AGGREGATES"):
        assert shell("-k", KEYSPACE, "-e", f"DESCRIBE {what}").strip() == ""


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("DESCRIBE KEYSPACE nowhere", "'nowhere' not found in keyspaces"),
        ("DESCRIBE nowhere", "'nowhere' not found in keyspaces"),
        (
            f"DESCRIBE TABLE {KEYSPACE}.nothing",
            f"Table 'nothing' not found in keyspace '{KEYSPACE}'",
        ),
        (f"DESCRIBE {KEYSPACE}.nothing", f"'nothing' not found in keyspace '{KEYSPACE}'"),
        ("DESCRIBE TABLE nothing", "No keyspace specified and no current keyspace"),
        (f"DESCRIBE TYPE {KEYSPACE}.t", f"User defined type 't' not found in '{KEYSPACE}'"),
    ],
)
def test_describe_errors_carry_cassandras_texts(shell, statement, message):
    assert message in shell("-e", statement)

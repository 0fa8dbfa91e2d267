"""Errors and warnings as a person sees them in the real cqlsh 6.2.2, with Cassandra 5.0's
classes, codes and texts: DropKeyspaceStatement ("Keyspace 'x' doesn't exist"),
Schema.validateTable ("keyspace x does not exist"), NetworkTopologyStrategy's unknown DC
("... for keyspace ks"), UnavailableException ("Cannot achieve consistency level ALL"),
RequestTimeoutException ("Operation timed out - received only N responses."), and the
client warning of an aggregation without a partition key (SelectStatement)."""

from __future__ import annotations

import time

from tests.support.cqlsh import piped
from tests.support.sim import DEMO_REPLICATION

KEYSPACE = "errors_ks"
REPLICATION = DEMO_REPLICATION


def test_schema_errors_carry_cassandras_classes_and_texts(sim, tmp_path):
    out = piped(
        sim,
        tmp_path,
        "DROP KEYSPACE nowhere;\n"
        "SELECT * FROM nowhere.t;\n"
        "CREATE KEYSPACE errors_dc WITH replication = "
        "{'class': 'NetworkTopologyStrategy', 'DC9': 3};\n",
    )
    assert (
        "InvalidRequest: Error from server: code=2200 [Invalid query] "
        "message=\"Keyspace 'nowhere' doesn't exist\"" in out
    )
    assert 'message="keyspace nowhere does not exist"' in out
    assert (
        "ConfigurationException: Unrecognized strategy option {DC9} passed to "
        "NetworkTopologyStrategy for keyspace errors_dc" in out
    )


def test_a_rack_cut_with_consistency_all_times_out_then_is_unavailable(sim, tmp_path):
    """The teaching moment: CONSISTENCY ALL with a rack down. Until the failure detector
    convicts the dead nodes the coordinator waits and times out; then it refuses at once."""
    schema = (
        f"CREATE KEYSPACE IF NOT EXISTS {KEYSPACE} WITH replication = {REPLICATION};\n"
        f"CREATE TABLE IF NOT EXISTS {KEYSPACE}.kv (k int PRIMARY KEY, v int);\n"
    )
    piped(sim, tmp_path, schema)
    sim.power("off", "DC1/RAC2")
    statements = f"CONSISTENCY ALL;\nINSERT INTO {KEYSPACE}.kv (k, v) VALUES (1, 1);\n"
    first = piped(sim, tmp_path, statements)
    assert "Consistency level set to ALL." in first
    assert (
        "WriteTimeout: Error from server: code=1100 [Coordinator node timed out waiting for "
        "replica nodes' responses] message=\"Operation timed out - received only"
        in first
        or "Cannot achieve consistency level ALL" in first
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        out = piped(sim, tmp_path, statements)
        if "Unavailable" in out:
            break
        time.sleep(2)
    # cqlsh's driver retries an Unavailable once on the next host, then reports both
    assert "code=1000 [Unavailable exception]" in out
    assert 'message="Cannot achieve consistency level ALL"' in out
    assert "'required_replicas': 6, 'alive_replicas': 5" in out.replace("\\'", "'")
    out = piped(sim, tmp_path, f"CONSISTENCY LOCAL_ONE;\nSELECT count(*) FROM {KEYSPACE}.kv;\n")
    assert "Aggregation query used without partition key" in out

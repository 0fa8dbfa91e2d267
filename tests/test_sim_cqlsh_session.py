"""A person's session in the real cqlsh 6.2.2 against the simulator: COPY FROM and COPY TO
(cqlsh exports by token range: ``token(pk) > a AND token(pk) <= b`` per range, as
SelectStatement's TokenRestriction allows), token() in a select list, CONSISTENCY, PAGING with
pages crossing token ranges, EXPAND."""

from __future__ import annotations

import csv

import pytest

from tests.support.cqlsh import shell_for
from tests.support.sim import DEMO_REPLICATION

KEYSPACE = "session_ks"
ROWS = 300


@pytest.fixture(scope="module")
def shell(simulator, tmp_path_factory):
    simulator.reset()  # every node on: an earlier module may have left a DC powered off
    run = shell_for(simulator, tmp_path_factory.mktemp("cqlsh-session"))
    run(
        "-e",
        f"CREATE KEYSPACE IF NOT EXISTS {KEYSPACE} WITH replication = {DEMO_REPLICATION};"
        f"CREATE TABLE IF NOT EXISTS {KEYSPACE}.messages (id int PRIMARY KEY, body text);",
    )
    return run


def test_copy_from_then_copy_to_round_trips_every_row(shell, tmp_path):
    source, exported = tmp_path / "in.csv", tmp_path / "out.csv"
    with source.open("w", newline="") as handle:
        csv.writer(handle).writerows([i, f"message {i}"] for i in range(ROWS))
    out = shell("-e", f"COPY {KEYSPACE}.messages (id, body) FROM '{source}'")
    assert f"{ROWS} rows imported from 1 files" in out
    out = shell("-e", f"COPY {KEYSPACE}.messages (id, body) TO '{exported}'")
    assert f"{ROWS} rows exported to 1 files" in out
    with exported.open(newline="") as handle:
        rows = sorted((int(i), body) for i, body in csv.reader(handle))
    assert rows == [(i, f"message {i}") for i in range(ROWS)]


def test_token_ranges_and_paging_in_token_order(shell):
    """SELECT token(id) and a paged full scan: the pages follow the token order."""
    out = shell(
        stdin=f"PAGING 50;\nSELECT token(id), id FROM {KEYSPACE}.messages WHERE "
        "token(id) > -9223372036854775808;\n"
    )
    assert "Page size: 50" in out
    tokens = [int(line.split("|")[0]) for line in out.splitlines() if line.count("|") == 1
              and line.split("|")[0].strip().lstrip("-").isdigit()]  # fmt: skip
    assert len(tokens) == ROWS and tokens == sorted(tokens)
    within = shell("-e", f"SELECT count(*) FROM {KEYSPACE}.messages WHERE token(id) > 0")
    assert 0 < int(within.split("\n")[3].strip()) < ROWS


def test_consistency_and_expand(shell):
    out = shell(
        stdin=f"CONSISTENCY QUORUM;\nCONSISTENCY;\nEXPAND ON;\n"
        f"SELECT * FROM {KEYSPACE}.messages WHERE id = 7;\n"
    )
    assert "Consistency level set to QUORUM." in out
    assert "Current consistency level is QUORUM." in out
    assert "@ Row 1" in out and "message 7" in out


def test_token_restrictions_must_name_the_partition_key(shell):
    out = shell("-e", f"SELECT * FROM {KEYSPACE}.messages WHERE token(body) > 0")
    assert "The token function arguments must be in the partition key order: id" in out

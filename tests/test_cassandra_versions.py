"""The column lists of docs/cassandra-versions.md (read from Cassandra 4.1's and 5.0's source)
hold the simulator's tables and every query the exporter sends, for both releases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rackpanel.exporter.sources import cql
from rackpanel.exporter.sources.cql import CqlSource
from rackpanel.simulator.cluster.view_columns import RELEASES, view_columns
from rackpanel.simulator.schema import Schema

DOC = Path(__file__).resolve().parents[1] / "docs" / "cassandra-versions.md"
SELECT = re.compile(r"^SELECT (?P<columns>.+?) FROM (?P<table>\w+\.\w+)")


def documented() -> dict[str, dict[str, list[str]]]:
    """``keyspace.table`` → release → the columns the doc lists, in its order."""
    tables: dict[str, dict[str, list[str]]] = {}
    table = None
    for line in DOC.read_text().splitlines():
        if heading := re.match(r"^### `(\w+\.\w+)`", line):
            table = tables.setdefault(heading[1], {})
        elif table is not None and (item := re.match(r"^- (\d+\.\d+): (.+)$", line)):
            table[item[1]] = re.findall(r"`(\w+)`", item[2])
    return tables


DOCUMENTED = documented()


def test_the_doc_lists_every_table_for_both_releases():
    views = {f"system_views.{t}" for t in view_columns("5.0")}
    assert views | {"system.local", "system.peers_v2"} <= set(DOCUMENTED)
    for table, releases in DOCUMENTED.items():
        assert set(releases) == set(RELEASES), table
    gossip = DOCUMENTED["system_views.gossip_info"]
    assert set(gossip["5.0"]) - set(gossip["4.1"]) == {"index_status", "index_status_version"}
    clients = DOCUMENTED["system_views.clients"]
    assert set(clients["5.0"]) - set(clients["4.1"]) == {"keyspace_name"}


@pytest.mark.parametrize("release", RELEASES)
def test_the_simulators_tables_are_the_releases(release):
    schema = Schema(release)
    for table, columns in view_columns(release).items():
        wanted = DOCUMENTED[f"system_views.{table}"][release]
        assert [c.name for c in columns] == wanted, (release, table)
        served = schema.keyspaces["system_views"].tables[table]
        assert {c.name for c in served.columns} == set(wanted), (release, table)


def exporter_queries(release: str) -> list[str]:
    """Every statement the exporter's cql source can send to a node of ``release``."""
    columns = {view: set(DOCUMENTED[f"system_views.{view}"][release]) for view in cql.VIEWS}
    source = CqlSource("127.0.0.1", 9042, 1.0)
    return [
        *source.queries(columns).values(),
        *source.queries({view: set() for view in cql.VIEWS}).values(),  # 4.0: peers_v2
        *(cql.COLUMNS_QUERY.format(table=view) for view in cql.VIEWS),
        cql.SETTINGS_QUERY,
    ]


@pytest.mark.parametrize("release", RELEASES)
def test_every_column_the_exporter_wants_exists(release):
    """The exporter selects only the columns a node has; none it wants may be missing."""
    wanted = {
        "gossip_info": cql.GOSSIP_COLUMNS,
        "thread_pools": cql.POOL_COLUMNS,
        "pending_hints": cql.HINT_COLUMNS,
        "settings": ("name", "value"),
        "clients": ("address",),
    }
    for view, columns in wanted.items():
        real = DOCUMENTED[f"system_views.{view}"][release]
        assert set(columns) <= set(real), (release, view, set(columns) - set(real))


@pytest.mark.parametrize("release", RELEASES)
def test_every_exporter_query_selects_real_columns(release):
    checked = set()
    for statement in exporter_queries(release):
        match = SELECT.match(statement)
        assert match, statement
        table = match["table"]
        selected = {c.strip() for c in match["columns"].split(",")}
        real = set(DOCUMENTED[table][release])
        assert selected <= real, (release, table, selected - real)
        where = re.findall(r"WHERE (\w+) = .* AND (\w+) = ", statement)
        for names in where:
            assert set(names) <= real, (release, statement)
        checked.add(table)
    assert {"system.local", "system.peers_v2", "system_views.gossip_info"} <= checked

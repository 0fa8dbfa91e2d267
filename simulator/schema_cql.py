"""The CQL text of schema elements, as Cassandra 5.0's DESCRIBE prints it.

Follows ``KeyspaceMetadata.toCqlString`` (``CREATE KEYSPACE ks WITH replication = {...}  AND
durable_writes = true;``, built-in strategy classes by their short name as
``ReplicationParams.appendCqlTo`` writes them; a virtual keyspace as a ``/* ... */`` comment),
``TableMetadata.toCqlString`` (columns: partition key, clustering, static, regular, simple
before multi-cell; ``PRIMARY KEY``; ``WITH [ID = ...] [CLUSTERING ORDER BY (...)]`` then the
options) and ``TableParams.appendCqlTo`` (the options in its alphabetical order, with
``memtable`` after ``compression``), as exercised by ``DescribeStatementTest``.
"""

from __future__ import annotations

import re
from typing import Any

from rackpanel.simulator.cql.tokens import RESERVED
from rackpanel.simulator.schema import DEFAULT_TABLE_OPTIONS, ColumnDef, KeyspaceDef, TableDef

_STRATEGY_PACKAGE = "org.apache.cassandra.locator."
_UNQUOTED = re.compile(r"[a-z][a-z0-9_]*\Z")

# (option, how to write its value) in TableParams.appendCqlTo's order; None: a view skips it.
_OPTION_ORDER = (
    "additional_write_policy", "allow_auto_snapshot", "bloom_filter_fp_chance", "caching",
    "cdc", "comment", "compaction", "compression", "memtable", "crc_check_chance",
    "default_time_to_live", "extensions", "gc_grace_seconds", "incremental_backups",
    "max_index_interval", "memtable_flush_period_in_ms", "min_index_interval", "read_repair",
    "speculative_retry",
)  # fmt: skip
_QUOTED_OPTIONS = {"additional_write_policy", "comment", "memtable", "read_repair",
                   "speculative_retry"}  # fmt: skip
_EXTRA_DEFAULTS = {"allow_auto_snapshot": True, "incremental_backups": True, "memtable": "default"}


def quote(name: str) -> str:
    """An identifier as CQL needs it written (``ColumnIdentifier.maybeQuote``)."""
    if _UNQUOTED.match(name) and name.upper() not in RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def _string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _map(entries: dict[str, Any]) -> str:
    body = ", ".join(f"{_string(str(k))}: {_string(str(v))}" for k, v in sorted(entries.items()))
    return "{" + body + "}"


def _value(option: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return _map(value)
    if option in _QUOTED_OPTIONS:
        return _string(str(value))
    return str(value)


def replication_cql(replication: dict[str, str]) -> str:
    options = dict(replication)
    cls = options.pop("class", "")
    if cls.startswith(_STRATEGY_PACKAGE):
        cls = cls[len(_STRATEGY_PACKAGE) :]
    entries = [f"'class': {_string(cls)}"]
    entries += [f"{_string(k)}: {_string(v)}" for k, v in sorted(options.items())]
    return "{" + ", ".join(entries) + "}"


def keyspace_cql(ks: KeyspaceDef) -> str:
    if ks.virtual:
        name = quote(ks.name)
        return (
            f"/*\nWarning: Keyspace {name} is a virtual keyspace and cannot be recreated with "
            f"CQL.\nStructure, for reference:\nVIRTUAL KEYSPACE {name};\n*/"
        )
    durable = "true" if ks.durable_writes else "false"
    return (
        f"CREATE KEYSPACE {quote(ks.name)} WITH replication = {replication_cql(ks.replication)}"
        f"  AND durable_writes = {durable};"
    )


def _column_order(table: TableDef) -> list[ColumnDef]:
    statics = [c for c in table.columns if c.kind == "static"]
    regular = [c for c in table.columns if c.kind == "regular"]

    def simple_first(columns: list[ColumnDef]) -> list[ColumnDef]:
        return sorted(columns, key=lambda c: (c.cql_type.is_multicell, c.name))

    return table.partition_key + table.clustering + simple_first(statics) + simple_first(regular)


def _columns_cql(table: TableDef) -> list[str]:
    single_key = len(table.partition_key) == 1 and not table.clustering
    lines = []
    for column in _column_order(table):
        line = f"    {quote(column.name)} {column.type}"
        if column.kind == "static":
            line += " static"
        if single_key and column.kind == "partition_key":
            line += " PRIMARY KEY"
        lines.append(line)
    if not single_key:
        pk = ", ".join(quote(c.name) for c in table.partition_key)
        if len(table.partition_key) > 1:
            pk = f"({pk})"
        key = ", ".join([pk, *(quote(c.name) for c in table.clustering)])
        lines.append(f"    PRIMARY KEY ({key})")
    return lines


def _options_cql(table: TableDef) -> list[str]:
    options = {**DEFAULT_TABLE_OPTIONS, **_EXTRA_DEFAULTS, **table.options}
    return [f"{name} = {_value(name, options[name])}" for name in _OPTION_ORDER]


def table_cql(table: TableDef, with_internals: bool = False) -> str:
    head = f"CREATE TABLE {quote(table.keyspace)}.{quote(table.name)} (\n"
    head += ",\n".join(_columns_cql(table)) + "\n)"
    clauses = []
    if with_internals:
        clauses.append(f"ID = {table.id}")
    if table.clustering:
        order = ", ".join(
            f"{quote(c.name)} {'DESC' if c.clustering_order == 'desc' else 'ASC'}"
            for c in table.clustering
        )
        clauses.append(f"CLUSTERING ORDER BY ({order})")
    if table.virtual:
        comment = table.options.get("comment", "")
        clauses.append(f"comment = {_string(comment)}")
        body = head.replace("CREATE TABLE", "VIRTUAL TABLE", 1)
        body += " WITH " + "\n    AND ".join(clauses)
        return (
            f"/*\nWarning: Table {quote(table.keyspace)}.{quote(table.name)} is a virtual table "
            f"and cannot be recreated with CQL.\nStructure, for reference:\n{body};\n*/"
        )
    clauses += _options_cql(table)
    return head + " WITH " + "\n    AND ".join(clauses) + ";"

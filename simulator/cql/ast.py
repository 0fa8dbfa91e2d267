"""The CQL syntax tree: what :func:`simulator.cql.parse` returns.

Frozen dataclasses, nothing executable. Names are resolved as CQL does: unquoted identifiers
are lower-cased, quoted ones keep their case; ``keyspace`` is None when the statement did
not qualify the table (the session's ``USE`` keyspace applies).

Terms (the values in a statement):

- :class:`Literal` — ``kind`` is one of ``string integer float boolean uuid hex null``
  (``duration`` for a duration literal such as ``1h30m``); ``text`` is the literal as
  Cassandra sees it (a string without its quotes, a number with its sign).
- :class:`BindMarker` — ``?`` (``name`` None) or ``:name``; ``index`` counts every marker of
  the statement (a BATCH included) in text order, from 0.
- :class:`FunctionCall` — ``now()``, ``uuid()``, ``toTimestamp(now())``, ...
- :class:`ListLiteral`, :class:`SetLiteral`, :class:`MapLiteral` (``{}`` is an empty map,
  which a set column accepts too), :class:`TupleLiteral`.

Every statement has ``bind_markers``: its markers in index order.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Union

if TYPE_CHECKING:
    from rackpanel.simulator.cql.types import CqlType

# ---- terms ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    kind: str  # string | integer | float | boolean | uuid | hex | null | duration
    text: str

    KINDS: ClassVar[tuple[str, ...]] = (
        "string",
        "integer",
        "float",
        "boolean",
        "uuid",
        "hex",
        "null",
        "duration",
    )


@dataclass(frozen=True)
class BindMarker:
    index: int
    name: str | None = None


@dataclass(frozen=True)
class FunctionCall:
    name: str  # lower-cased unless quoted: "now", "uuid", "totimestamp", ...
    args: tuple[Term, ...] = ()


@dataclass(frozen=True)
class ListLiteral:
    items: tuple[Term, ...]


@dataclass(frozen=True)
class SetLiteral:
    items: tuple[Term, ...]


@dataclass(frozen=True)
class MapLiteral:
    entries: tuple[tuple[Term, Term], ...]


@dataclass(frozen=True)
class TupleLiteral:
    items: tuple[Term, ...]


Term = Union[Literal, BindMarker, FunctionCall, ListLiteral, SetLiteral, MapLiteral, TupleLiteral]  # noqa: UP007


# ---- clauses ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Relation:
    """``column op term`` in a WHERE clause.

    ``op`` is one of ``= IN > >= < <= != CONTAINS CONTAINS_KEY``. ``terms`` holds one term,
    or for ``IN`` the listed terms (``IN ?`` is one BindMarker for the whole list).
    ``token`` is True for ``token(a, b) > x``; then ``columns`` names the key columns.
    """

    column: str
    op: str
    terms: tuple[Term, ...]
    token: bool = False
    columns: tuple[str, ...] = ()

    @property
    def term(self) -> Term:
        return self.terms[0]


@dataclass(frozen=True)
class Condition:
    """``IF column op term`` of a lightweight transaction; ``element`` for ``IF m[k] = v``."""

    column: str
    op: str  # = != > >= < <= IN
    terms: tuple[Term, ...]
    element: Term | None = None

    @property
    def term(self) -> Term:
        return self.terms[0]


@dataclass(frozen=True)
class Assignment:
    """One ``SET`` item of an UPDATE.

    ``op``: ``set`` (``c = v``), ``add`` (``c = c + v``, ``c += v``), ``subtract``
    (``c = c - v``, ``c -= v``), ``prepend`` (``c = v + c``), ``set_element``
    (``c[key] = v``; ``key`` holds the index or map key).
    """

    column: str
    op: str
    value: Term
    key: Term | None = None


@dataclass(frozen=True)
class ColumnSelector:
    name: str


@dataclass(frozen=True)
class CountAll:
    """``COUNT(*)`` or ``COUNT(1)``."""


@dataclass(frozen=True)
class FunctionSelector:
    """``writetime(c)``, ``ttl(c)``, ``toJson(c)``, ``count(c)``, ..."""

    name: str  # lower-cased
    args: tuple[SelectExpression | Term, ...]


SelectExpression = Union[ColumnSelector, CountAll, FunctionSelector]  # noqa: UP007


@dataclass(frozen=True)
class Selector:
    expression: SelectExpression
    alias: str | None = None

    @property
    def result_name(self) -> str:
        """The column name Cassandra gives this selector in a result: the alias, the column,
        ``count`` for COUNT(*), ``writetime(v)``, ``system.token(k)``."""
        if self.alias is not None:
            return self.alias
        return _selector_text(self.expression)


def _selector_text(expression: SelectExpression | Term) -> str:
    if isinstance(expression, ColumnSelector):
        return expression.name
    if isinstance(expression, CountAll):
        return "count"
    if isinstance(expression, FunctionSelector):
        inner = ", ".join(_selector_text(arg) for arg in expression.args)
        # writetime/ttl are selectors of their own; real functions live in keyspace "system"
        prefix = "" if expression.name in ("writetime", "ttl") else "system."
        return f"{prefix}{expression.name}({inner})"
    if isinstance(expression, Literal):
        return expression.text
    return str(expression)


# ---- statements ------------------------------------------------------------------------------


class Statement:
    """Base of every statement; provides :attr:`bind_markers` (computed once, then kept)."""

    @functools.cached_property
    def bind_markers(self) -> tuple[BindMarker, ...]:
        return tuple(sorted(_markers_in(self), key=lambda marker: marker.index))


def _markers_in(node: Any) -> Iterator[BindMarker]:
    if isinstance(node, BindMarker):
        yield node
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            yield from _markers_in(getattr(node, f.name))
    elif isinstance(node, tuple | list):
        for item in node:
            yield from _markers_in(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _markers_in(key)
            yield from _markers_in(value)


@dataclass(frozen=True)
class CreateKeyspace(Statement):
    name: str
    if_not_exists: bool
    replication: dict[str, str]  # values as strings, as Cassandra stores them
    durable_writes: bool = True


@dataclass(frozen=True)
class AlterKeyspace(Statement):
    name: str
    replication: dict[str, str] | None  # None: unchanged
    durable_writes: bool | None = None
    if_exists: bool = False


@dataclass(frozen=True)
class AlterTable(Statement):
    """ALTER TABLE: ``action`` ADD (``columns``: (name, type, static)), DROP (``names``) or
    WITH (``options``)."""

    keyspace: str | None
    name: str
    action: str
    columns: tuple[tuple[str, CqlType, bool], ...] = ()
    names: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    if_exists: bool = False  # the table
    column_if: bool = False  # ADD IF NOT EXISTS / DROP IF EXISTS


@dataclass(frozen=True)
class DropKeyspace(Statement):
    name: str
    if_exists: bool = False


@dataclass(frozen=True)
class CreateTable(Statement):
    """``options`` maps option names to plain values: str, int, float, bool or dict[str, str]."""

    keyspace: str | None
    name: str
    if_not_exists: bool
    columns: tuple[tuple[str, CqlType], ...]
    partition_key: tuple[str, ...]
    clustering: tuple[str, ...] = ()
    clustering_order: dict[str, str] = field(default_factory=dict)  # col -> ASC | DESC
    options: dict[str, Any] = field(default_factory=dict)
    static_columns: tuple[str, ...] = ()

    def column_type(self, name: str) -> CqlType:
        return dict(self.columns)[name]


@dataclass(frozen=True)
class DropTable(Statement):
    keyspace: str | None
    name: str
    if_exists: bool = False


@dataclass(frozen=True)
class Truncate(Statement):
    keyspace: str | None
    table: str


@dataclass(frozen=True)
class Describe(Statement):
    """DESCRIBE / DESC in every form cqlsh sends (Cassandra's ``DescribeStatement``).

    ``kind``: CLUSTER, SCHEMA, KEYSPACES, KEYSPACE, TABLES, TABLE, TYPES, TYPE, FUNCTIONS,
    FUNCTION, AGGREGATES, AGGREGATE, INDEX, MATERIALIZED VIEW, or GENERIC (``DESCRIBE name``:
    a keyspace, else a table, index or view of the current keyspace)."""

    kind: str
    keyspace: str | None = None
    name: str | None = None
    full: bool = False  # DESCRIBE FULL SCHEMA: the system keyspaces too
    only: bool = False  # DESCRIBE ONLY KEYSPACE: without its tables
    internals: bool = False  # WITH INTERNALS: table ids (and dropped columns)


@dataclass(frozen=True)
class Use(Statement):
    keyspace: str


@dataclass(frozen=True)
class Insert(Statement):
    keyspace: str | None
    table: str
    columns: tuple[str, ...]
    values: tuple[Term, ...]
    if_not_exists: bool = False
    ttl: Term | None = None
    timestamp: Term | None = None


@dataclass(frozen=True)
class Update(Statement):
    keyspace: str | None
    table: str
    assignments: tuple[Assignment, ...]
    where: tuple[Relation, ...]
    if_exists: bool = False
    conditions: tuple[Condition, ...] = ()
    ttl: Term | None = None
    timestamp: Term | None = None


@dataclass(frozen=True)
class Delete(Statement):
    """``columns`` empty deletes whole rows; ``elements`` holds ``DELETE m[k]`` items."""

    keyspace: str | None
    table: str
    columns: tuple[str, ...]
    where: tuple[Relation, ...]
    if_exists: bool = False
    conditions: tuple[Condition, ...] = ()
    timestamp: Term | None = None
    elements: tuple[tuple[str, Term], ...] = ()


@dataclass(frozen=True)
class Select(Statement):
    """``selectors`` is ``"*"`` or a tuple of :class:`Selector`."""

    keyspace: str | None
    table: str
    selectors: str | tuple[Selector, ...]
    where: tuple[Relation, ...] = ()
    limit: Term | None = None
    per_partition_limit: Term | None = None
    allow_filtering: bool = False
    order_by: tuple[tuple[str, str], ...] = ()  # (column, ASC | DESC)
    distinct: bool = False
    json: bool = False


ModificationStatement = Union[Insert, Update, Delete]  # noqa: UP007


@dataclass(frozen=True)
class Batch(Statement):
    kind: str  # LOGGED | UNLOGGED | COUNTER
    statements: tuple[ModificationStatement, ...]
    timestamp: Term | None = None

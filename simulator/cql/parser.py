"""Recursive-descent parser for the CQL subset the simulator serves.

Grammar (after Cassandra's ``Parser.g``; keywords case-insensitive)::

    statement   := select | insert | update | delete | batch | use | truncate
                 | CREATE KEYSPACE | CREATE TABLE | DROP KEYSPACE | DROP TABLE
    select      := SELECT [JSON] [DISTINCT] ('*' | selector (',' selector)*) FROM table
                   [WHERE relation (AND relation)*] [ORDER BY col [ASC|DESC] (, ...)*]
                   [PER PARTITION LIMIT term] [LIMIT term] [ALLOW FILTERING]
    insert      := INSERT INTO table '(' ident, ... ')' VALUES '(' term, ... ')'
                   [IF NOT EXISTS] [USING (TTL|TIMESTAMP) term (AND ...)*]
    update      := UPDATE table [USING ...] SET assignment, ... WHERE relations
                   [IF EXISTS | IF condition (AND condition)*]
    delete      := DELETE [ident ['[' term ']'], ...] FROM table [USING TIMESTAMP term]
                   WHERE relations [IF EXISTS | IF conditions]
    batch       := BEGIN [UNLOGGED | COUNTER] BATCH [USING TIMESTAMP term]
                   (insert | update | delete) [';'] ... APPLY BATCH

Semantic checks that Cassandra makes while preparing a statement and that need no schema
(column/value counts, duplicate columns, CREATE TABLE key definitions, replication options,
unknown properties) are made here too, with Cassandra's messages; everything else (does the
table exist, is the key complete) is the executor's.
"""

from __future__ import annotations

from typing import Any

from rackpanel.simulator.core import ConfigurationException, InvalidRequest, SyntaxException
from rackpanel.simulator.cql import ast
from rackpanel.simulator.cql.tokens import (
    EOF,
    FLOAT,
    HEX,
    IDENT,
    INTEGER,
    PUNCT,
    QIDENT,
    RESERVED,
    STRING,
    UUID,
    Token,
    TokenStream,
)
from rackpanel.simulator.cql.types import CqlType, parse_duration_text, read_type

_UNSUPPORTED_STARTS = {
    "GRANT": "GRANT",
    "REVOKE": "REVOKE",
    "LIST": "LIST",
}
_DESCRIBE_LISTINGS = {"KEYSPACES": "KEYSPACES", "TABLES": "TABLES", "COLUMNFAMILIES": "TABLES",
                      "TYPES": "TYPES", "FUNCTIONS": "FUNCTIONS", "AGGREGATES": "AGGREGATES",
                      "CLUSTER": "CLUSTER"}  # fmt: skip
_DESCRIBE_ELEMENTS = {"TABLE": "TABLE", "COLUMNFAMILY": "TABLE", "INDEX": "INDEX",
                      "TYPE": "TYPE", "FUNCTION": "FUNCTION", "AGGREGATE": "AGGREGATE"}  # fmt: skip
_UNSUPPORTED_CREATE = ("INDEX", "CUSTOM", "TYPE", "FUNCTION", "AGGREGATE", "OR", "MATERIALIZED",
                       "TRIGGER", "ROLE", "USER")  # fmt: skip
_RELATION_OPS = ("=", "<", "<=", ">", ">=", "!=")
_STRATEGY_PACKAGE = "org.apache.cassandra.locator."
_STRATEGIES = ("SimpleStrategy", "NetworkTopologyStrategy", "LocalStrategy", "EverywhereStrategy")
_TABLE_OPTIONS = frozenset(
    """additional_write_policy allow_auto_snapshot bloom_filter_fp_chance caching cdc comment
    compaction compression crc_check_chance default_time_to_live extensions
    gc_grace_seconds incremental_backups max_index_interval memtable
    memtable_flush_period_in_ms min_index_interval read_repair speculative_retry""".split()  # noqa: SIM905
)


def parse(text: str) -> ast.Statement:
    """Parse one CQL statement (an optional trailing ``;`` allowed).

    Raises :class:`rackpanel.simulator.core.SyntaxException` for text outside the grammar and
    :class:`rackpanel.simulator.core.InvalidRequest` (or ConfigurationException for replication
    options) for well-formed but invalid statements. (The executor keeps the parsed
    statements in a cache bounded in bytes, ``executor.context``.)"""
    if not isinstance(text, str):
        raise SyntaxException("line 1:0 query string must be text")
    parser = _Parser(TokenStream(text))
    statement = parser.statement()
    parser.stream.expect_end()
    return statement


class _Parser:
    def __init__(self, stream: TokenStream) -> None:
        self.stream = stream
        self.markers = 0

    # ---- small pieces ------------------------------------------------------------------------
    def ident(self) -> str:
        token = self.stream.peek()
        if token.kind == QIDENT or (token.kind == IDENT and token.keyword not in RESERVED):
            return self.stream.next().value
        raise self.stream.no_viable_alternative()

    def at_ident(self, ahead: int = 0) -> bool:
        token = self.stream.peek(ahead)
        return token.kind == QIDENT or (token.kind == IDENT and token.keyword not in RESERVED)

    def table_name(self) -> tuple[str | None, str]:
        first = self.ident()
        if self.stream.accept_punct("."):
            return first, self.ident()
        return None, first

    def if_not_exists(self) -> bool:
        if self.stream.accept_keyword("IF"):
            self.stream.expect_keyword("NOT")
            self.stream.expect_keyword("EXISTS")
            return True
        return False

    def if_exists(self) -> bool:
        if self.stream.accept_keyword("IF"):
            self.stream.expect_keyword("EXISTS")
            return True
        return False

    def comma_list(self, item: Any, close: str) -> list:
        """``item (',' item)* close`` (the opening bracket already consumed)."""
        items = [item()]
        while self.stream.accept_punct(","):
            items.append(item())
        self.stream.expect_punct(close)
        return items

    # ---- statements --------------------------------------------------------------------------
    def statement(self) -> ast.Statement:
        keyword = self.stream.peek().keyword
        handlers = {
            "SELECT": self.select,
            "INSERT": self.insert,
            "UPDATE": self.update,
            "DELETE": self.delete,
            "BEGIN": self.batch,
            "USE": self.use,
            "CREATE": self.create,
            "DROP": self.drop,
            "TRUNCATE": self.truncate,
            "DESCRIBE": self.describe,
            "ALTER": self.alter,
            "DESC": self.describe,
        }
        if keyword in handlers:
            return handlers[keyword]()
        if keyword in _UNSUPPORTED_STARTS:
            raise InvalidRequest(
                f"{_UNSUPPORTED_STARTS[keyword]} statements are not supported by the simulator"
            )
        raise self.stream.no_viable_alternative()

    # ---- DESCRIBE ----------------------------------------------------------------------------
    def describe(self) -> ast.Describe:
        s = self.stream
        s.next()  # DESCRIBE | DESC
        keyword = s.peek().keyword
        if keyword in _DESCRIBE_LISTINGS and (s.at_eof() or self._at_describe_end(1)):
            s.next()
            return ast.Describe(_DESCRIBE_LISTINGS[keyword])
        if s.accept_keyword("FULL"):
            s.expect_keyword("SCHEMA")
            return ast.Describe("SCHEMA", full=True, internals=self.with_internals())
        if s.accept_keyword("SCHEMA"):
            return ast.Describe("SCHEMA", internals=self.with_internals())
        only = s.accept_keyword("ONLY")
        if only or s.at_keyword("KEYSPACE"):
            s.expect_keyword("KEYSPACE")
            name = None if self._at_describe_end(0) else self.ident()
            return ast.Describe("KEYSPACE", name=name, only=only, internals=self.with_internals())
        if s.at_keyword("MATERIALIZED") and s.at_keyword("VIEW", ahead=1):
            s.next()
            s.next()
            keyspace, name = self.table_name()
            return ast.Describe("MATERIALIZED VIEW", keyspace, name)
        if keyword in _DESCRIBE_ELEMENTS and not self._at_describe_end(1):
            s.next()
            keyspace, name = self.table_name()
            kind = _DESCRIBE_ELEMENTS[keyword]
            return ast.Describe(kind, keyspace, name, internals=self.with_internals())
        keyspace, name = self.table_name()
        return ast.Describe("GENERIC", keyspace, name, internals=self.with_internals())

    def _at_describe_end(self, ahead: int) -> bool:
        token = self.stream.peek(ahead)
        return (
            token.kind == EOF
            or token.keyword == "WITH"
            or (token.kind == PUNCT and token.value == ";")
        )

    def with_internals(self) -> bool:
        if self.stream.accept_keyword("WITH"):
            self.stream.expect_keyword("INTERNALS")
            return True
        return False

    def use(self) -> ast.Use:
        self.stream.expect_keyword("USE")
        return ast.Use(self.ident())

    def truncate(self) -> ast.Truncate:
        self.stream.expect_keyword("TRUNCATE")
        self.stream.accept_keyword("TABLE", "COLUMNFAMILY")
        keyspace, table = self.table_name()
        return ast.Truncate(keyspace, table)

    # ---- SELECT ------------------------------------------------------------------------------
    def select(self) -> ast.Select:
        s = self.stream
        s.expect_keyword("SELECT")
        json = self.flag_keyword("JSON")
        distinct = self.flag_keyword("DISTINCT")
        selectors: str | tuple[ast.Selector, ...]
        if s.accept_punct("*"):
            selectors = "*"
        else:
            items = [self.selector()]
            while s.accept_punct(","):
                items.append(self.selector())
            selectors = tuple(items)
        s.expect_keyword("FROM")
        keyspace, table = self.table_name()
        where = self.where_clause(required=False)
        order_by: list[tuple[str, str]] = []
        if s.accept_keyword("GROUP"):
            raise InvalidRequest("GROUP BY is not supported by the simulator")
        if s.accept_keyword("ORDER"):
            s.expect_keyword("BY")
            order_by.append(self.ordering())
            while s.accept_punct(","):
                order_by.append(self.ordering())
        per_partition_limit = limit = None
        if s.accept_keyword("PER"):
            s.expect_keyword("PARTITION")
            s.expect_keyword("LIMIT")
            per_partition_limit = self.term()
        if s.accept_keyword("LIMIT"):
            limit = self.term()
        allow_filtering = False
        if s.accept_keyword("ALLOW"):
            s.expect_keyword("FILTERING")
            allow_filtering = True
        return ast.Select(
            keyspace,
            table,
            selectors,
            tuple(where),
            limit,
            per_partition_limit,
            allow_filtering,
            tuple(order_by),
            distinct,
            json,
        )

    def flag_keyword(self, word: str) -> bool:
        """JSON / DISTINCT are unreserved: a column may be called so (``SELECT json FROM``)."""
        s = self.stream
        if s.at_keyword(word) and not (
            s.at_keyword("FROM", "AS", ahead=1) or s.at_punct(",", ahead=1)
        ):
            s.next()
            return True
        return False

    def selector(self) -> ast.Selector:
        expression = self.select_expression()
        alias = self.ident() if self.stream.accept_keyword("AS") else None
        return ast.Selector(expression, alias)

    def select_expression(self) -> ast.SelectExpression:
        with self.stream.nesting():
            return self._select_expression()

    def _select_expression(self) -> ast.SelectExpression:
        s = self.stream
        if s.at_keyword("TOKEN") and s.at_punct("(", ahead=1):
            s.next()
            s.expect_punct("(")
            return ast.FunctionSelector(
                "token", tuple(self.comma_list(self.select_expression, ")"))
            )
        if self.at_ident() and s.at_punct("(", ahead=1):
            name = self.ident()
            s.expect_punct("(")
            if name == "count" and (s.at_punct("*") or s.peek().text == "1"):
                s.next()
                s.expect_punct(")")
                return ast.CountAll()
            if s.accept_punct(")"):
                return ast.FunctionSelector(name, ())
            args = self.comma_list(self.selector_argument, ")")
            return ast.FunctionSelector(name, tuple(args))
        return ast.ColumnSelector(self.ident())

    def selector_argument(self) -> ast.SelectExpression | ast.Term:
        if self.at_ident() and not self.at_term_keyword():
            return self.select_expression()
        return self.term()

    def ordering(self) -> tuple[str, str]:
        column = self.ident()
        if self.stream.accept_keyword("DESC"):
            return column, "DESC"
        self.stream.accept_keyword("ASC")
        return column, "ASC"

    # ---- WHERE -------------------------------------------------------------------------------
    def where_clause(self, *, required: bool) -> list[ast.Relation]:
        s = self.stream
        if required:
            s.expect_keyword("WHERE")
        elif not s.accept_keyword("WHERE"):
            return []
        relations = [self.relation()]
        while s.accept_keyword("AND"):
            relations.append(self.relation())
        return relations

    def relation(self) -> ast.Relation:
        s = self.stream
        if s.accept_keyword("TOKEN"):
            s.expect_punct("(")
            columns = tuple(self.comma_list(self.ident, ")"))
            op = self.relation_op()
            return ast.Relation("token", op, (self.term(),), token=True, columns=columns)
        if s.at_punct("("):
            raise InvalidRequest("Multi-column relations are not supported by the simulator")
        column = self.ident()
        if s.accept_keyword("IN"):
            return ast.Relation(column, "IN", self.in_values())
        if s.accept_keyword("CONTAINS"):
            op = "CONTAINS_KEY" if s.accept_keyword("KEY") else "CONTAINS"
            return ast.Relation(column, op, (self.term(),))
        if s.at_keyword("LIKE"):
            raise InvalidRequest("LIKE restrictions are not supported by the simulator")
        op = self.relation_op()
        return ast.Relation(column, op, (self.term(),))

    def relation_op(self) -> str:
        token = self.stream.peek()
        if token.kind == PUNCT and token.value in _RELATION_OPS:
            self.stream.next()
            return token.value
        raise self.stream.no_viable_alternative()

    def in_values(self) -> tuple[ast.Term, ...]:
        s = self.stream
        if s.at_punct("?", ":"):
            return (self.term(),)
        s.expect_punct("(")
        if s.accept_punct(")"):
            return ()
        return tuple(self.comma_list(self.term, ")"))

    # ---- terms -------------------------------------------------------------------------------
    def at_term_keyword(self) -> bool:
        return self.stream.at_keyword("TRUE", "FALSE", "NULL", "NAN", "INFINITY")

    def term(self) -> ast.Term:
        with self.stream.nesting():
            return self._term()

    def _term(self) -> ast.Term:
        s = self.stream
        token = s.peek()
        constant = self.constant(token)
        if constant is not None:
            return constant
        if token.kind == PUNCT:
            if token.value == "?":
                s.next()
                return self.new_marker(None)
            if token.value == ":":
                s.next()
                return self.new_marker(self.ident())
            if token.value == "[":
                s.next()
                if s.accept_punct("]"):
                    return ast.ListLiteral(())
                return ast.ListLiteral(tuple(self.comma_list(self.term, "]")))
            if token.value == "{":
                return self.brace_literal()
            if token.value == "(":
                s.next()
                return ast.TupleLiteral(tuple(self.comma_list(self.term, ")")))
            if token.value == "-" and s.at_keyword("INFINITY", "NAN", ahead=1):
                s.next()
                word = s.next().keyword
                return ast.Literal("float", "-Infinity" if word == "INFINITY" else "NaN")
        if self.at_ident() and s.at_punct("(", ahead=1):
            return self.function_call()
        raise s.no_viable_alternative()

    def constant(self, token: Token) -> ast.Literal | None:
        """The literal at ``token`` (consumed), or None if it is not a constant."""
        s = self.stream
        kinds = {STRING: "string", FLOAT: "float", UUID: "uuid", HEX: "hex"}
        if token.kind in kinds:
            s.next()
            return ast.Literal(kinds[token.kind], token.value)
        if token.kind == INTEGER:
            s.next()
            duration = self.duration_suffix(token)
            return duration or ast.Literal("integer", token.value)
        keyword = token.keyword
        if keyword in ("TRUE", "FALSE"):
            s.next()
            return ast.Literal("boolean", keyword.lower())
        if keyword == "NULL":
            s.next()
            return ast.Literal("null", "null")
        if keyword in ("NAN", "INFINITY"):
            s.next()
            return ast.Literal("float", "NaN" if keyword == "NAN" else "Infinity")
        return None

    def duration_suffix(self, number: Token) -> ast.Literal | None:
        """``1h30m``: digits glued to a unit form one duration literal, as Cassandra's lexer."""
        s = self.stream
        unit = s.peek()
        if unit.kind != IDENT or unit.start != number.start + len(number.text):
            return None
        text = number.text + unit.text
        try:
            parse_duration_text(text)
        except ValueError:
            return None
        s.next()
        return ast.Literal("duration", text)

    def new_marker(self, name: str | None) -> ast.BindMarker:
        marker = ast.BindMarker(self.markers, name)
        self.markers += 1
        return marker

    def brace_literal(self) -> ast.Term:
        s = self.stream
        s.expect_punct("{")
        if s.accept_punct("}"):
            return ast.MapLiteral(())
        first = self.term()
        if s.accept_punct(":"):
            entries = [(first, self.term())]
            while s.accept_punct(","):
                key = self.term()
                s.expect_punct(":")
                entries.append((key, self.term()))
            s.expect_punct("}")
            return ast.MapLiteral(tuple(entries))
        items = [first]
        while s.accept_punct(","):
            items.append(self.term())
        s.expect_punct("}")
        return ast.SetLiteral(tuple(items))

    def function_call(self) -> ast.FunctionCall:
        name = self.ident()
        self.stream.expect_punct("(")
        if self.stream.accept_punct(")"):
            return ast.FunctionCall(name, ())
        return ast.FunctionCall(name, tuple(self.comma_list(self.term, ")")))

    # ---- INSERT / UPDATE / DELETE ------------------------------------------------------------
    def using_clause(self, *, ttl_allowed: bool) -> tuple[ast.Term | None, ast.Term | None]:
        s = self.stream
        ttl = timestamp = None
        if not s.accept_keyword("USING"):
            return None, None
        while True:
            if ttl_allowed and s.accept_keyword("TTL"):
                ttl = self.term()
            elif s.accept_keyword("TIMESTAMP"):
                timestamp = self.term()
            else:
                raise s.mismatched("K_TIMESTAMP")
            if not s.accept_keyword("AND"):
                return ttl, timestamp

    def insert(self) -> ast.Insert:
        s = self.stream
        s.expect_keyword("INSERT")
        s.expect_keyword("INTO")
        keyspace, table = self.table_name()
        if s.at_keyword("JSON"):
            raise InvalidRequest("INSERT JSON is not supported by the simulator")
        s.expect_punct("(")
        columns = self.comma_list(self.ident, ")")
        s.expect_keyword("VALUES")
        s.expect_punct("(")
        values = self.comma_list(self.term, ")")
        if_not_exists = self.if_not_exists()
        ttl, timestamp = self.using_clause(ttl_allowed=True)
        if len(columns) != len(values):
            raise InvalidRequest("Unmatched column names/values")
        if len(set(columns)) != len(columns):
            raise InvalidRequest("The column names contains duplicates")
        return ast.Insert(
            keyspace, table, tuple(columns), tuple(values), if_not_exists, ttl, timestamp
        )

    def update(self) -> ast.Update:
        s = self.stream
        s.expect_keyword("UPDATE")
        keyspace, table = self.table_name()
        ttl, timestamp = self.using_clause(ttl_allowed=True)
        s.expect_keyword("SET")
        assignments = [self.assignment()]
        while s.accept_punct(","):
            assignments.append(self.assignment())
        where = self.where_clause(required=True)
        if_exists, conditions = self.conditional()
        return ast.Update(
            keyspace, table, tuple(assignments), tuple(where), if_exists, conditions, ttl, timestamp
        )

    def assignment(self) -> ast.Assignment:
        s = self.stream
        column = self.ident()
        if s.accept_punct("["):
            key = self.term()
            s.expect_punct("]")
            s.expect_punct("=")
            return ast.Assignment(column, "set_element", self.term(), key)
        if s.accept_punct("+="):
            return ast.Assignment(column, "add", self.term())
        if s.accept_punct("-="):
            return ast.Assignment(column, "subtract", self.term())
        s.expect_punct("=")
        if self.at_ident() and not self.at_term_keyword() and not s.at_punct("(", ahead=1):
            return self.self_referencing(column)
        value = self.term()
        if s.at_punct("+") and self.at_ident(ahead=1):
            s.next()
            self.expect_same_column(column, self.ident())
            return ast.Assignment(column, "prepend", value)
        return ast.Assignment(column, "set", value)

    def self_referencing(self, column: str) -> ast.Assignment:
        """``c = c + v`` / ``c = c - v`` (``c = c -1`` too: ``-1`` lexes as one number)."""
        s = self.stream
        self.expect_same_column(column, self.ident())
        token = s.peek()
        if token.kind in (INTEGER, FLOAT) and token.text.startswith("-"):
            s.next()
            return ast.Assignment(column, "subtract", ast.Literal(token.kind, token.text[1:]))
        if s.accept_punct("+"):
            return ast.Assignment(column, "add", self.term())
        if s.accept_punct("-"):
            return ast.Assignment(column, "subtract", self.term())
        raise s.no_viable_alternative()

    @staticmethod
    def expect_same_column(column: str, other: str) -> None:
        if other != column:
            raise InvalidRequest(
                f"Only expressions of the form X = <value> + X are supported "
                f"(got {column} = ... {other})"
            )

    def delete(self) -> ast.Delete:
        s = self.stream
        s.expect_keyword("DELETE")
        columns: list[str] = []
        elements: list[tuple[str, ast.Term]] = []
        if not s.at_keyword("FROM"):
            while True:
                column = self.ident()
                if s.accept_punct("["):
                    elements.append((column, self.term()))
                    s.expect_punct("]")
                else:
                    columns.append(column)
                if not s.accept_punct(","):
                    break
        s.expect_keyword("FROM")
        keyspace, table = self.table_name()
        _, timestamp = self.using_clause(ttl_allowed=False)
        where = self.where_clause(required=True)
        if_exists, conditions = self.conditional()
        return ast.Delete(
            keyspace,
            table,
            tuple(columns),
            tuple(where),
            if_exists,
            conditions,
            timestamp,
            tuple(elements),
        )

    def conditional(self) -> tuple[bool, tuple[ast.Condition, ...]]:
        s = self.stream
        if not s.accept_keyword("IF"):
            return False, ()
        if s.accept_keyword("EXISTS"):
            return True, ()
        conditions = [self.condition()]
        while s.accept_keyword("AND"):
            conditions.append(self.condition())
        return False, tuple(conditions)

    def condition(self) -> ast.Condition:
        s = self.stream
        column = self.ident()
        element = None
        if s.accept_punct("["):
            element = self.term()
            s.expect_punct("]")
        if s.accept_keyword("IN"):
            return ast.Condition(column, "IN", self.in_values(), element)
        op = self.relation_op()
        return ast.Condition(column, op, (self.term(),), element)

    # ---- BATCH -------------------------------------------------------------------------------
    def batch(self) -> ast.Batch:
        s = self.stream
        s.expect_keyword("BEGIN")
        kind = "LOGGED"
        if s.accept_keyword("UNLOGGED"):
            kind = "UNLOGGED"
        elif s.accept_keyword("COUNTER"):
            kind = "COUNTER"
        s.expect_keyword("BATCH")
        _, timestamp = self.using_clause(ttl_allowed=False)
        statements: list[ast.ModificationStatement] = []
        modifications = {"INSERT": self.insert, "UPDATE": self.update, "DELETE": self.delete}
        while not s.at_keyword("APPLY"):
            keyword = s.peek().keyword
            if keyword not in modifications:
                raise s.mismatched("K_APPLY")
            statement = modifications[keyword]()
            if timestamp is not None and statement.timestamp is not None:
                raise InvalidRequest(
                    "Timestamp must be set either on BATCH or individual statements"
                )
            statements.append(statement)
            s.accept_punct(";")
        s.expect_keyword("APPLY")
        s.expect_keyword("BATCH")
        return ast.Batch(kind, tuple(statements), timestamp)

    # ---- DDL ---------------------------------------------------------------------------------
    def create(self) -> ast.Statement:
        s = self.stream
        s.expect_keyword("CREATE")
        if s.accept_keyword("KEYSPACE", "SCHEMA"):
            return self.create_keyspace()
        if s.accept_keyword("TABLE", "COLUMNFAMILY"):
            return self.create_table()
        if s.at_keyword(*_UNSUPPORTED_CREATE):
            raise InvalidRequest(
                f"CREATE {s.peek().keyword} statements are not supported by the simulator"
            )
        raise s.no_viable_alternative()

    def drop(self) -> ast.Statement:
        s = self.stream
        s.expect_keyword("DROP")
        if s.accept_keyword("KEYSPACE", "SCHEMA"):
            if_exists = self.if_exists()
            return ast.DropKeyspace(self.ident(), if_exists)
        if s.accept_keyword("TABLE", "COLUMNFAMILY"):
            if_exists = self.if_exists()
            keyspace, table = self.table_name()
            return ast.DropTable(keyspace, table, if_exists)
        if s.at_keyword("INDEX", "TYPE", "FUNCTION", "AGGREGATE", "MATERIALIZED", "TRIGGER",
                        "ROLE", "USER"):  # fmt: skip
            raise InvalidRequest(
                f"DROP {s.peek().keyword} statements are not supported by the simulator"
            )
        raise s.no_viable_alternative()

    def property_value(self) -> Any:
        """A property's value: a constant as a plain value, or a map of strings."""
        s = self.stream
        token = s.peek()
        if s.at_punct("{"):
            s.next()
            if s.accept_punct("}"):
                return {}
            entries = [self.map_entry()]
            while s.accept_punct(","):
                entries.append(self.map_entry())
            s.expect_punct("}")
            return dict(entries)
        literal = self.constant(token)
        if literal is None:
            if token.kind == IDENT and token.keyword not in RESERVED:
                s.next()  # Cassandra accepts bare words as values (e.g. ``caching = ALL``)
                return token.value
            raise s.no_viable_alternative()
        return _plain_value(literal)

    def map_entry(self) -> tuple[str, str]:
        key = self.constant(self.stream.peek())
        if key is None:
            raise self.stream.no_viable_alternative()
        self.stream.expect_punct(":")
        value = self.constant(self.stream.peek())
        if value is None:
            raise self.stream.no_viable_alternative()
        return key.text, value.text

    def properties(self) -> dict[str, Any]:
        """``name = value (AND name = value)*`` after WITH."""
        s = self.stream
        props: dict[str, Any] = {}
        while True:
            name = self.ident()
            s.expect_punct("=")
            if name in props:
                raise SyntaxException(f"Multiple definition for property '{name}'")
            props[name] = self.property_value()
            if not s.accept_keyword("AND"):
                return props

    def create_keyspace(self) -> ast.CreateKeyspace:
        s = self.stream
        if_not_exists = self.if_not_exists()
        name = _checked_name(self.ident(), "Keyspace", 48)
        s.expect_keyword("WITH")
        props = self.properties()
        unknown = set(props) - {"replication", "durable_writes"}
        if unknown:
            raise SyntaxException(f"Unknown property '{sorted(unknown)[0]}'")
        if "replication" not in props:
            raise ConfigurationException("Missing mandatory option 'replication'")
        if not isinstance(props["replication"], dict):
            raise SyntaxException("Invalid value for property 'replication'. It should be a map.")
        durable = str(props.get("durable_writes", "true")).lower()
        if durable not in ("true", "false"):
            raise SyntaxException(f"Invalid boolean value {durable} for 'durable_writes'")
        replication = normalise_replication(props["replication"])
        return ast.CreateKeyspace(name, if_not_exists, replication, durable == "true")

    # ---- ALTER ---------------------------------------------------------------------------------
    def alter(self) -> ast.Statement:
        s = self.stream
        s.expect_keyword("ALTER")
        if s.accept_keyword("KEYSPACE"):
            return self.alter_keyspace()
        if s.accept_keyword("TABLE", "COLUMNFAMILY"):
            return self.alter_table()
        word = s.peek().keyword or s.peek().text
        raise InvalidRequest(f"ALTER {word} statements are not supported by the simulator")

    def alter_keyspace(self) -> ast.AlterKeyspace:
        s = self.stream
        if_exists = self.if_exists()
        name = self.ident()
        s.expect_keyword("WITH")
        props = self.properties()
        unknown = set(props) - {"replication", "durable_writes"}
        if unknown:
            raise SyntaxException(f"Unknown property '{sorted(unknown)[0]}'")
        replication = props.get("replication")
        if replication is not None:
            if not isinstance(replication, dict):
                raise SyntaxException(
                    "Invalid value for property 'replication'. It should be a map."
                )
            replication = normalise_replication(replication)
        durable = None
        if "durable_writes" in props:
            text = str(props["durable_writes"]).lower()
            if text not in ("true", "false"):
                raise SyntaxException(f"Invalid boolean value {text} for 'durable_writes'")
            durable = text == "true"
        return ast.AlterKeyspace(name, replication, durable, if_exists)

    def alter_table(self) -> ast.AlterTable:
        s = self.stream
        if_exists = self.if_exists()
        keyspace, name = self.table_name()
        if s.accept_keyword("ADD"):
            column_if = self.if_not_exists()
            if s.accept_punct("("):
                columns = self.comma_list(self.added_column, ")")
            else:
                columns = [self.added_column()]
            return ast.AlterTable(keyspace, name, "ADD", columns=tuple(columns),
                                  if_exists=if_exists, column_if=column_if)  # fmt: skip
        if s.accept_keyword("DROP"):
            column_if = self.if_exists()
            names = self.comma_list(self.ident, ")") if s.accept_punct("(") else [self.ident()]
            if s.accept_keyword("USING"):
                raise InvalidRequest("DROP ... USING TIMESTAMP is not supported by the simulator")
            return ast.AlterTable(keyspace, name, "DROP", names=tuple(names),
                                  if_exists=if_exists, column_if=column_if)  # fmt: skip
        if s.accept_keyword("WITH"):
            options: dict[str, Any] = {}
            definition = _TableDefinition(name)
            self.table_option(definition, options)
            while s.accept_keyword("AND"):
                self.table_option(definition, options)
            if definition.order:
                raise InvalidRequest("Cannot change the clustering order of an existing table")
            return ast.AlterTable(keyspace, name, "WITH", options=options, if_exists=if_exists)
        if s.at_keyword("RENAME", "ALTER"):
            raise InvalidRequest(
                f"ALTER TABLE ... {s.peek().keyword} is not supported by the simulator"
            )
        raise s.no_viable_alternative()

    def added_column(self) -> tuple[str, CqlType, bool]:
        column = self.ident()
        column_type = read_type(self.stream)
        return column, column_type, self.stream.accept_keyword("STATIC")

    def create_table(self) -> ast.CreateTable:
        s = self.stream
        if_not_exists = self.if_not_exists()
        keyspace, name = self.table_name()
        _checked_name(name, "Table", 222)
        s.expect_punct("(")
        definition = _TableDefinition(name)
        self.table_element(definition)
        while s.accept_punct(","):
            if s.at_punct(")"):
                break  # Cassandra tolerates a trailing comma
            self.table_element(definition)
        s.expect_punct(")")
        options: dict[str, Any] = {}
        if s.accept_keyword("WITH"):
            while True:
                self.table_option(definition, options)
                if not s.accept_keyword("AND"):
                    break
        return definition.build(keyspace, if_not_exists, options)

    def table_element(self, definition: _TableDefinition) -> None:
        s = self.stream
        if s.accept_keyword("PRIMARY"):
            s.expect_keyword("KEY")
            s.expect_punct("(")
            partition = self.comma_list(self.ident, ")") if s.accept_punct("(") else [self.ident()]
            clustering = []
            while s.accept_punct(","):
                clustering.append(self.ident())
            s.expect_punct(")")
            definition.set_primary_key(partition, clustering)
            return
        column = self.ident()
        column_type = read_type(s)
        static = s.accept_keyword("STATIC")
        definition.add_column(column, column_type, static)
        if s.accept_keyword("PRIMARY"):
            s.expect_keyword("KEY")
            definition.set_primary_key([column], [])

    def table_option(self, definition: _TableDefinition, options: dict[str, Any]) -> None:
        s = self.stream
        if s.accept_keyword("CLUSTERING"):
            s.expect_keyword("ORDER")
            s.expect_keyword("BY")
            s.expect_punct("(")
            definition.order = self.comma_list(self.ordering, ")")
            return
        if s.accept_keyword("COMPACT"):
            s.expect_keyword("STORAGE")
            raise InvalidRequest(
                "Compact tables are not allowed in Cassandra starting with 4.0 version."
            )
        name = self.ident()
        s.expect_punct("=")
        if name not in _TABLE_OPTIONS:
            raise SyntaxException(f"Unknown property '{name}'")
        if name in options:
            raise SyntaxException(f"Multiple definition for property '{name}'")
        options[name] = self.property_value()


def _checked_name(name: str, what: str, max_length: int) -> str:
    """Schema object names are word characters only, as Cassandra requires."""
    if (
        not name
        or len(name) > max_length
        or not all(c == "_" or (c.isascii() and c.isalnum()) for c in name)
    ):
        raise InvalidRequest(
            f"{what} name must not be empty, more than {max_length} characters long, or "
            f'contain non-alphanumeric-underscore characters (got "{name}")'
        )
    return name


def _plain_value(literal: ast.Literal) -> Any:
    if literal.kind == "integer":
        return int(literal.text)
    if literal.kind == "float":
        return float(literal.text)
    if literal.kind == "boolean":
        return literal.text == "true"
    if literal.kind == "null":
        return None
    return literal.text


def normalise_replication(options: dict[str, str]) -> dict[str, str]:
    """Validate a replication map and give the strategy its full class name, as Cassandra
    stores it in system_schema.keyspaces (``{'class': 'org.apache...SimpleStrategy', ...}``)."""
    if "class" not in options:
        raise ConfigurationException("Missing replication strategy class")
    short = options["class"].removeprefix(_STRATEGY_PACKAGE)
    if short not in _STRATEGIES:
        raise ConfigurationException(
            f"Unable to find replication strategy class '{options['class']}'"
        )
    result = {"class": _STRATEGY_PACKAGE + short}
    for key, value in options.items():
        if key == "class":
            continue
        if short == "SimpleStrategy" and key != "replication_factor":
            raise ConfigurationException(f"Unrecognized strategy option {{{key}}} passed to "
                                         "SimpleStrategy for keyspace")  # fmt: skip
        if not value.lstrip("-").isdigit():
            raise ConfigurationException(f"Replication factor must be numeric; found {value}")
        if int(value) < 0:
            raise ConfigurationException(f"Replication factor must be non-negative; found {value}")
        result[key] = str(int(value))
    if short == "SimpleStrategy" and "replication_factor" not in result:
        raise ConfigurationException(
            "SimpleStrategy requires a replication_factor strategy option."
        )
    return result


class _TableDefinition:
    """Collects CREATE TABLE's pieces and checks them as Cassandra does."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.columns: dict[str, CqlType] = {}
        self.static: list[str] = []
        self.keys: list[tuple[list[str], list[str]]] = []
        self.order: list[tuple[str, str]] = []

    def add_column(self, column: str, column_type: CqlType, static: bool) -> None:
        if column in self.columns:
            raise InvalidRequest(f"Multiple definition of identifier {column}")
        self.columns[column] = column_type
        if static:
            self.static.append(column)

    def set_primary_key(self, partition: list[str], clustering: list[str]) -> None:
        self.keys.append((partition, clustering))

    def build(
        self, keyspace: str | None, if_not_exists: bool, options: dict[str, Any]
    ) -> ast.CreateTable:
        if not self.keys:
            raise InvalidRequest(
                f"No PRIMARY KEY specifed for table '{self.name}' (exactly one required)"
            )
        if len(self.keys) > 1:
            raise InvalidRequest(
                f"Multiple PRIMARY KEY specifed for table '{self.name}' (exactly one required)"
            )
        partition, clustering = self.keys[0]
        self.check_key_columns(partition + clustering)
        self.check_static(partition + clustering, clustering)
        self.check_counters(partition + clustering)
        return ast.CreateTable(
            keyspace,
            self.name,
            if_not_exists,
            tuple(self.columns.items()),
            tuple(partition),
            tuple(clustering),
            self.clustering_order(clustering),
            options,
            tuple(self.static),
        )

    def check_key_columns(self, key_columns: list[str]) -> None:
        seen: set[str] = set()
        for column in key_columns:
            if column not in self.columns:
                raise InvalidRequest(f"Unknown definition {column} referenced in PRIMARY KEY")
            if column in seen:
                raise InvalidRequest(f"Multiple definition of identifier {column}")
            seen.add(column)
            column_type = self.columns[column]
            if column_type.is_multicell:
                raise InvalidRequest(
                    f"Invalid non-frozen collection type {column_type.cql_name} for "
                    f"PRIMARY KEY component {column}"
                )
            if column_type.cql_name in ("counter", "duration"):
                raise InvalidRequest(
                    f"{column_type.cql_name} type is not supported for PRIMARY KEY column "
                    f"'{column}'"
                )

    def check_static(self, key_columns: list[str], clustering: list[str]) -> None:
        for column in self.static:
            if column in key_columns:
                raise InvalidRequest(f"Static column {column} cannot be part of the PRIMARY KEY")
        if self.static and not clustering:
            raise InvalidRequest(
                "Static columns are only useful (and thus allowed) if the table has at least "
                "one clustering column"
            )

    def check_counters(self, key_columns: list[str]) -> None:
        regular = [c for c in self.columns if c not in key_columns]
        counters = [c for c in regular if self.columns[c].cql_name == "counter"]
        if counters and len(counters) != len(regular):
            raise InvalidRequest("Cannot mix counter and non counter columns in the same table")

    def clustering_order(self, clustering: list[str]) -> dict[str, str]:
        ordered = [column for column, _ in self.order]
        for column in ordered:
            if column not in clustering:
                raise InvalidRequest(
                    "Only clustering key columns can be defined in CLUSTERING ORDER directive"
                )
        if ordered != clustering[: len(ordered)]:
            raise InvalidRequest(
                "The order of columns in the CLUSTERING ORDER directive must match that of "
                "the clustering columns"
            )
        given = dict(self.order)
        return {column: given.get(column, "ASC") for column in clustering}

"""CQL tokenizer and the token cursor the recursive-descent parsers walk.

A hand-written scanner (no regular expressions) following the lexer rules of Cassandra's
``Lexer.g``: unquoted identifiers are case-insensitive (kept lower-cased, keywords are
recognised by the parser from them), ``"quoted"`` identifiers keep their case, strings are
``'...'`` (``''`` escapes a quote) or ``$$...$$``, numbers may carry a leading ``-``
glued to the digits, ``0x...`` is a blob, and a 36-character ``8-4-4-4-12`` hex run is a
UUID. Comments (``--``, ``//``, ``/* */``) are skipped.

Errors are :class:`simulator.core.SyntaxException` with Cassandra's (ANTLR's) wording:
``line 1:9 mismatched input 'FRM' expecting K_FROM (SELECT * [FRM] t)``; lines count from
1, columns from 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rackpanel.simulator.core import InvalidRequest, SyntaxException

# Token kinds.
IDENT = "ident"  # unquoted identifier or keyword; ``value`` lower-cased
QIDENT = "qident"  # "quoted" identifier; ``value`` exactly as written (quotes removed)
STRING = "string"
INTEGER = "integer"
FLOAT = "float"
UUID = "uuid"
HEX = "hex"
PUNCT = "punct"
EOF = "eof"

_PUNCTUATION_2 = ("<=", ">=", "!=", "+=", "-=")
_PUNCTUATION_1 = "()[]{},;.*=<>?:+-"
_HEX_DIGITS = "0123456789abcdefABCDEF"
_UUID_GROUPS = (8, 4, 4, 4, 12)
MAX_NESTING = 100  # nested literals/types/calls deeper than this are refused, not recursed
# A simulator limit (Cassandra has none below its 16 MiB frame): a statement of more tokens is
# refused before it is parsed, so one 10 MB statement cannot take gigabytes of memory. An IN
# list of 200,000 values is 400,000 tokens.
MAX_TOKENS = 500_000

# Reserved keywords cannot be unquoted identifiers (CQL reference, appendix A).
RESERVED = frozenset(
    """ADD ALLOW ALTER AND APPLY ASC AUTHORIZE BATCH BEGIN BY COLUMNFAMILY CREATE DELETE DESC
    DESCRIBE DROP ENTRIES EXECUTE FROM FULL GRANT IF IN INDEX INFINITY INSERT INTO IS
    KEYSPACE LIMIT MODIFY NAN NORECURSIVE NOT NULL OF ON OR ORDER PRIMARY RENAME REPLACE
    REVOKE SCHEMA SELECT SET TABLE TO TOKEN TRUNCATE UNLOGGED UPDATE USE USING VIEW WHERE
    WITH""".split()  # noqa: SIM905
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    value: str  # identifier (lower-cased unless quoted), literal text, or the punctuation
    text: str  # exactly as written in the source
    start: int  # offset in the source
    line: int  # 1-based
    column: int  # 0-based, as ANTLR reports it
    keyword: str | None = None  # the upper-cased word if this token could be a keyword

    def describe(self) -> str:
        return "<EOF>" if self.kind == EOF else self.text


def _is_letter(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def _is_digit(ch: str) -> bool:
    return "0" <= ch <= "9"


def _is_ident_char(ch: str) -> bool:
    return _is_letter(ch) or _is_digit(ch) or ch == "_"


class _Scanner:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.line = 1
        self.line_start = 0
        self.tokens: list[Token] = []

    # -- helpers ---------------------------------------------------------------------------
    def char(self, offset: int = 0) -> str:
        i = self.pos + offset
        return self.src[i] if i < len(self.src) else ""

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column) of a source offset at or after the current position."""
        newlines = self.src.count("\n", self.pos, offset)
        if not newlines:
            return self.line, offset - self.line_start
        return self.line + newlines, offset - (self.src.rfind("\n", self.pos, offset) + 1)

    def advance_to(self, end: int) -> None:
        self.line, column = self.position(end)
        self.line_start = end - column
        self.pos = end

    def emit(self, kind: str, value: str, end: int) -> None:
        keyword = value.upper() if kind == IDENT else None
        self.tokens.append(
            Token(
                kind,
                value,
                self.src[self.pos : end],
                self.pos,
                self.line,
                self.pos - self.line_start,
                keyword,
            )
        )
        self.advance_to(end)

    def fail(self, offset: int, message: str) -> SyntaxException:
        line, column = self.position(offset)
        return SyntaxException(f"line {line}:{column} {message}")

    # -- scanning --------------------------------------------------------------------------
    def run(self) -> list[Token]:
        while True:
            self.skip_blanks_and_comments()
            if self.pos >= len(self.src):
                line, column = self.position(self.pos)
                self.tokens.append(Token(EOF, "", "", self.pos, line, column))
                return self.tokens
            if len(self.tokens) >= MAX_TOKENS:
                raise InvalidRequest(
                    f"Statement too large for the simulator: more than {MAX_TOKENS:,} tokens"
                )
            self.scan_token()

    def skip_blanks_and_comments(self) -> None:
        src = self.src
        while self.pos < len(src):
            ch = src[self.pos]
            if ch in " \t\r\n\f":
                self.advance_to(self.pos + 1)
            elif src.startswith("--", self.pos) or src.startswith("//", self.pos):
                end = src.find("\n", self.pos)
                self.advance_to(len(src) if end < 0 else end + 1)
            elif src.startswith("/*", self.pos):
                end = src.find("*/", self.pos + 2)
                if end < 0:
                    raise self.fail(len(src), "mismatched character '<EOF>' expecting '*'")
                self.advance_to(end + 2)
            else:
                return

    def scan_token(self) -> None:
        ch = self.char()
        uuid_end = self.uuid_end()
        if uuid_end:
            self.emit(UUID, self.src[self.pos : uuid_end].lower(), uuid_end)
        elif ch == "0" and self.char(1) in ("x", "X"):
            self.scan_hex()
        elif _is_digit(ch) or (ch == "-" and _is_digit(self.char(1))):
            self.scan_number()
        elif _is_letter(ch):
            end = self.pos + 1
            while end < len(self.src) and _is_ident_char(self.src[end]):
                end += 1
            self.emit(IDENT, self.src[self.pos : end].lower(), end)
        elif ch == '"':
            self.scan_quoted('"', QIDENT)
        elif ch == "'":
            self.scan_quoted("'", STRING)
        elif ch == "$" and self.char(1) == "$":
            end = self.src.find("$$", self.pos + 2)
            if end < 0:
                raise self.fail(len(self.src), "mismatched character '<EOF>' expecting '$'")
            self.emit(STRING, self.src[self.pos + 2 : end], end + 2)
        else:
            two = self.src[self.pos : self.pos + 2]
            if two in _PUNCTUATION_2:
                self.emit(PUNCT, two, self.pos + 2)
            elif ch in _PUNCTUATION_1:
                self.emit(PUNCT, ch, self.pos + 1)
            else:
                raise self.fail(self.pos, f"no viable alternative at character '{ch}'")

    def uuid_end(self) -> int:
        """End offset if a UUID literal starts here, else 0."""
        i = self.pos
        src = self.src
        for n, group in enumerate(_UUID_GROUPS):
            for _ in range(group):
                if i >= len(src) or src[i] not in _HEX_DIGITS:
                    return 0
                i += 1
            if n < len(_UUID_GROUPS) - 1:
                if i >= len(src) or src[i] != "-":
                    return 0
                i += 1
        if i < len(src) and _is_ident_char(src[i]):
            return 0
        return i

    def scan_hex(self) -> None:
        end = self.pos + 2
        while end < len(self.src) and self.src[end] in _HEX_DIGITS:
            end += 1
        self.emit(HEX, self.src[self.pos + 2 : end].lower(), end)

    def scan_number(self) -> None:
        src = self.src
        end = self.pos + 1 if src[self.pos] == "-" else self.pos
        while end < len(src) and _is_digit(src[end]):
            end += 1
        kind = INTEGER
        if end < len(src) and src[end] == "." and not (end + 1 < len(src) and src[end + 1] == "."):
            kind = FLOAT
            end += 1
            while end < len(src) and _is_digit(src[end]):
                end += 1
        if end < len(src) and src[end] in "eE":
            exp = end + 1
            if exp < len(src) and src[exp] in "+-":
                exp += 1
            if exp < len(src) and _is_digit(src[exp]):
                kind = FLOAT
                end = exp
                while end < len(src) and _is_digit(src[end]):
                    end += 1
        self.emit(kind, src[self.pos : end], end)

    def scan_quoted(self, quote: str, kind: str) -> None:
        src = self.src
        i = self.pos + 1
        parts: list[str] = []
        while True:
            end = src.find(quote, i)
            if end < 0:
                raise self.fail(len(src), f"mismatched character '<EOF>' expecting '{quote}'")
            parts.append(src[i:end])
            if src.startswith(quote * 2, end):
                parts.append(quote)
                i = end + 2
                continue
            value = "".join(parts)
            if kind == QIDENT and not value:
                raise self.fail(self.pos, "no viable alternative at character '\"'")
            self.emit(kind, value, end + 1)
            return


def tokenize(source: str) -> list[Token]:
    """Split CQL text into tokens, ending with one EOF token."""
    return _Scanner(source).run()


class TokenStream:
    """A cursor over the tokens with the expect/accept helpers of a recursive-descent parser."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.pos = 0
        self.depth = 0

    @contextmanager
    def nesting(self) -> Iterator[None]:
        """Bracket one level of a recursive rule; too deep is a SyntaxException."""
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise self.error_at(self.peek(), "expression nested too deeply")
            yield
        finally:
            self.depth -= 1

    # -- looking ---------------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def at_keyword(self, *words: str, ahead: int = 0) -> bool:
        return self.peek(ahead).keyword in words

    def at_punct(self, *symbols: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == PUNCT and token.value in symbols

    def at_eof(self) -> bool:
        return self.peek().kind == EOF

    # -- consuming -------------------------------------------------------------------------
    def next(self) -> Token:
        token = self.peek()
        if token.kind != EOF:
            self.pos += 1
        return token

    def accept_keyword(self, *words: str) -> bool:
        if self.at_keyword(*words):
            self.pos += 1
            return True
        return False

    def accept_punct(self, symbol: str) -> bool:
        if self.at_punct(symbol):
            self.pos += 1
            return True
        return False

    def expect_keyword(self, word: str) -> Token:
        if not self.at_keyword(word):
            raise self.mismatched(f"K_{word}")
        return self.next()

    def expect_punct(self, symbol: str) -> Token:
        if not self.at_punct(symbol):
            raise self.mismatched(f"'{symbol}'")
        return self.next()

    def expect_end(self) -> None:
        """The statement is over: only an optional ``;`` may follow."""
        self.accept_punct(";")
        if not self.at_eof():
            raise self.mismatched("EOF")

    # -- errors ----------------------------------------------------------------------------
    def mismatched(self, expecting: str) -> SyntaxException:
        return self.error_at(
            self.peek(), f"mismatched input '{self.peek().describe()}' expecting {expecting}"
        )

    def no_viable_alternative(self) -> SyntaxException:
        return self.error_at(
            self.peek(), f"no viable alternative at input '{self.peek().describe()}'"
        )

    def error_at(self, token: Token, message: str) -> SyntaxException:
        return SyntaxException(
            f"line {token.line}:{token.column} {message} ({self.snippet(token)})"
        )

    def snippet(self, token: Token) -> str:
        """Cassandra's query snippet: some tokens around the offending one, it in brackets."""
        index = self.tokens.index(token)
        first = self.tokens[max(0, index - 10)]
        last_index = min(len(self.tokens) - 2, index + 2)
        before = self.source[first.start : token.start]
        if token.kind == EOF:
            return f"{before}[]"
        after_end = self.tokens[last_index].start + len(self.tokens[last_index].text)
        after = self.source[token.start + len(token.text) : after_end]
        more = "..." if last_index < len(self.tokens) - 2 else ""
        return f"{before}[{token.text}]{after}{more}"

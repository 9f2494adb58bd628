"""A small, safe filter language for searches, translated to SQL with every value a parameter.

    expr       := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | "(" expr ")" | comparison
    comparison := field op value | field ["not"] "in" "(" value ("," value)* ")"
                | field "is" ["not"] "null" | field ["not"] "contains" value
    op         := = | != | <> | < | <= | > | >= | like | ilike | not like | not ilike
    field      := name (letters, digits, _ . - @) | "double quoted name"
    value      := 'single quoted text' ('' for a quote) | number | true | false

A core column name (`user.name`) is that column; any other name is the source's own field
(`CommandLine` -> fields['CommandLine']), looked up with the name itself as a parameter.
Field names and operators are checked; nothing the user typed reaches the SQL text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from custodes.errors import QueryError
from custodes.events import CORE_COLUMNS, FIELDS_COLUMN, TIMESTAMP
from custodes.normalise.fields import parse_iso

CORE_TYPES: dict[str, pa.DataType] = dict(CORE_COLUMNS)
COMPARISONS = {"=": "=", "==": "=", "!=": "<>", "<>": "<>", "<": "<", "<=": "<="}
COMPARISONS |= {">": ">", ">=": ">="}
ORDERINGS = frozenset({"<", "<=", ">", ">="})
KEYWORDS = {"and", "or", "not", "in", "is", "null", "like", "ilike", "contains", "true", "false"}

TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>-?\d+(?:\.\d+)?(?![\w.@-]))
  | (?P<quoted>"(?:[^"]|"")+")
  | (?P<name>[A-Za-z_@][\w.@-]*)
  | (?P<op><=|>=|<>|!=|==|=|<|>)
  | (?P<punct>[(),])
    """,
    re.VERBOSE,
)


class WhereError(QueryError):
    """A filter expression is malformed; `position` is the 0-based offset of the problem."""

    def __init__(self, reason: str, *, expression: str, position: int) -> None:
        super().__init__(f"{reason} at position {position + 1} in {expression!r}")
        self.reason = reason
        self.position = position


@dataclass(frozen=True, slots=True)
class Token:
    """One lexical piece of an expression."""

    kind: str
    text: str
    position: int


def tokenize(expression: str) -> list[Token]:
    """Split an expression into tokens; unknown characters are an error with their position."""
    tokens: list[Token] = []
    position = 0
    while position < len(expression):
        match = TOKEN.match(expression, position)
        if match is None:
            if expression[position] == "'":
                raise WhereError("unterminated string", expression=expression, position=position)
            raise WhereError(
                f"unexpected character {expression[position]!r}",
                expression=expression,
                position=position,
            )
        kind = match.lastgroup or ""
        if kind != "space":
            text = match.group()
            if kind == "name" and text.lower() in KEYWORDS:
                kind, text = "keyword", text.lower()
            tokens.append(Token(kind, text, position))
        position = match.end()
    tokens.append(Token("end", "", len(expression)))
    return tokens


def column_sql(name: str, params: list[Any]) -> tuple[str, pa.DataType]:
    """The SQL for a field and its type: a quoted core column, or a lookup in `fields`."""
    if name in CORE_TYPES:
        return '"' + name + '"', CORE_TYPES[name]
    params.append(name)
    return f"{FIELDS_COLUMN}[?]", pa.string()


def coerce(value: Any, kind: pa.DataType, token: Token, expression: str) -> Any:
    """A literal as the field's type, so comparisons never fail at run time."""
    if pa.types.is_integer(kind):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise WhereError("expected a number", expression=expression, position=token.position)
        try:
            return int(value)
        except ValueError:
            raise WhereError(
                "expected a number", expression=expression, position=token.position
            ) from None
    if pa.types.is_floating(kind):
        return float(value)
    if kind == TIMESTAMP:
        try:
            return parse_iso(str(value))
        except ValueError:
            raise WhereError(
                "expected an ISO time", expression=expression, position=token.position
            ) from None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and "." not in token.text:
        return str(int(value))
    return value if isinstance(value, str) else token.text


class WhereParser:
    """Recursive descent over the tokens, building SQL text and its parameters."""

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = tokenize(expression)
        self.index = 0
        self.params: list[Any] = []

    def error(self, reason: str, token: Token | None = None) -> WhereError:
        token = token or self.peek()
        return WhereError(reason, expression=self.expression, position=token.position)

    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def accept(self, kind: str, text: str | None = None) -> Token | None:
        token = self.peek()
        if token.kind == kind and (text is None or token.text == text):
            self.index += 1
            return token
        return None

    def expect(self, kind: str, text: str, what: str) -> Token:
        token = self.accept(kind, text)
        if token is None:
            found = self.peek().text or "end of expression"
            raise self.error(f"expected {what}, found {found!r}")
        return token

    def parse(self) -> str:
        sql = self.parse_or()
        if self.peek().kind != "end":
            raise self.error(f"unexpected {self.peek().text!r}")
        return sql

    def parse_or(self) -> str:
        parts = [self.parse_and()]
        while self.accept("keyword", "or"):
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def parse_and(self) -> str:
        parts = [self.parse_not()]
        while self.accept("keyword", "and"):
            parts.append(self.parse_not())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def parse_not(self) -> str:
        if self.accept("keyword", "not"):
            return f"(NOT {self.parse_not()})"
        if self.accept("punct", "("):
            inner = self.parse_or()
            self.expect("punct", ")", "')'")
            return inner
        return self.parse_comparison()

    def field(self) -> str:
        token = self.take()
        if token.kind == "name":
            return token.text
        if token.kind == "quoted":
            return token.text[1:-1].replace('""', '"')
        found = token.text or "end of expression"
        raise self.error(f"expected a field name, found {found!r}", token)

    def value(self, kind: pa.DataType) -> Any:
        token = self.take()
        if token.kind == "string":
            literal: Any = token.text[1:-1].replace("''", "'")
        elif token.kind == "number":
            literal = float(token.text) if "." in token.text else int(token.text)
        elif token.kind == "keyword" and token.text in ("true", "false"):
            literal = token.text == "true"
        else:
            found = token.text or "end of expression"
            raise self.error(f"expected a value, found {found!r}", token)
        self.params.append(coerce(literal, kind, token, self.expression))
        return "?"

    def parse_comparison(self) -> str:
        name = self.field()
        column, kind = column_sql(name, self.params)
        token = self.take()
        if token.kind == "op":
            operator = COMPARISONS[token.text]
            if (
                column.startswith(FIELDS_COLUMN)
                and operator in ORDERINGS
                and self.peek().kind == "number"
            ):
                # source fields are text: order numbers as numbers (LogonType > 3, sc-status >= 500)
                return f"TRY_CAST({column} AS DOUBLE) {operator} {self.value(pa.float64())}"
            return f"{column} {operator} {self.value(kind)}"
        if token.kind == "keyword" and token.text == "is":
            negated = self.accept("keyword", "not") is not None
            self.expect("keyword", "null", "'null'")
            return f"{column} IS {'NOT ' if negated else ''}NULL"
        negated = token.kind == "keyword" and token.text == "not"
        if negated:
            token = self.take()
        text = column if pa.types.is_string(kind) else f"CAST({column} AS VARCHAR)"
        if token.kind == "keyword" and token.text in ("like", "ilike"):
            operator = token.text.upper()
            return f"{text} {'NOT ' if negated else ''}{operator} {self.value(pa.string())}"
        if token.kind == "keyword" and token.text == "in":
            self.expect("punct", "(", "'('")
            values = [self.value(kind)]
            while self.accept("punct", ","):
                values.append(self.value(kind))
            self.expect("punct", ")", "')'")
            return f"{column} {'NOT ' if negated else ''}IN ({', '.join(values)})"
        if token.kind == "keyword" and token.text == "contains":
            test = f"contains({text}, {self.value(pa.string())})"
            return f"(NOT {test})" if negated else test
        found = token.text or "end of expression"
        raise self.error(f"unknown operator {found!r}", token)


def parse_where(expression: str) -> tuple[str, list[Any]]:
    """SQL text (with `?` placeholders) and its parameters for a filter expression.

    >>> parse_where("user.name = 'alice' and EventID in (4624, 4625)")
    ('("user.name" = ? AND fields[?] IN (?, ?))', ['alice', 'EventID', '4624', '4625'])
    """
    if not expression.strip():
        raise WhereError("empty expression", expression=expression, position=0)
    parser = WhereParser(expression)
    return parser.parse(), parser.params

"""The filter language: fields and operators checked, values always parameters."""

from __future__ import annotations

import pytest

from custodes.errors import QueryError
from custodes.store import WhereError, parse_where


def test_core_columns_and_source_fields() -> None:
    sql, params = parse_where("user.name = 'alice' and EventID in (4624, '4625')")
    assert sql == '("user.name" = ? AND fields[?] IN (?, ?))'
    assert params == ["alice", "EventID", "4624", "4625"]


def test_precedence_not_and_or_parentheses() -> None:
    sql, params = parse_where("not a = 1 or b = 2 and (c is null or d is not null)")
    assert sql == (
        "((NOT fields[?] = ?) OR (fields[?] = ? AND (fields[?] IS NULL OR fields[?] IS NOT NULL)))"
    )
    assert params == ["a", "1", "b", "2", "c", "d"]


def test_text_operators() -> None:
    sql, params = parse_where(
        "CommandLine contains '-enc' and host.name ilike 'WS%' and Image not like '%cmd%'"
    )
    assert sql == '(contains(fields[?], ?) AND "host.name" ILIKE ? AND fields[?] NOT LIKE ?)'
    assert params == ["CommandLine", "-enc", "WS%", "Image", "%cmd%"]
    assert parse_where("process.pid like '12%' or Image not contains 'cmd'") == (
        '(CAST("process.pid" AS VARCHAR) LIKE ? OR (NOT contains(fields[?], ?)))',
        ["12%", "Image", "cmd"],
    )


def test_values_are_typed_by_column() -> None:
    assert parse_where("process.pid >= 4")[1] == [4]
    assert parse_where("LogonType > 3") == ("TRY_CAST(fields[?] AS DOUBLE) > ?", ["LogonType", 3.0])
    stamp = parse_where("@timestamp < '2024-05-01T00:00:00Z'")[1][0]
    assert stamp.isoformat() == "2024-05-01T00:00:00+00:00"


def test_quoted_field_names_and_quotes_in_values() -> None:
    sql, params = parse_where("\"odd name\" = 'it''s'")
    assert sql == "fields[?] = ?"
    assert params == ["odd name", "it's"]


@pytest.mark.parametrize(
    ("expression", "position", "reason"),
    [
        ("user.name = ", 12, "expected a value"),
        ("user.name ~ 'x'", 10, "unexpected character"),
        ("user.name = 'x", 12, "unterminated string"),
        ("a = 1 or", 8, "expected a field name"),
        ("a matches 1", 2, "unknown operator"),
        ("(a = 1", 6, "expected ')'"),
        ("process.pid = 'x'", 14, "expected a number"),
        ("a = 1 b = 2", 6, "unexpected"),
        ("", 0, "empty expression"),
    ],
)
def test_malformed_expressions_name_the_position(
    expression: str, position: int, reason: str
) -> None:
    with pytest.raises(WhereError) as caught:
        parse_where(expression)
    assert caught.value.position == position
    assert reason in str(caught.value)
    assert isinstance(caught.value, QueryError)


@pytest.mark.parametrize(
    "attack",
    [
        "x'; DROP TABLE events; --",
        "' OR 1=1 --",
        "a' UNION SELECT * FROM read_csv('/etc/passwd') --",
    ],
)
def test_injection_attempts_stay_values(attack: str) -> None:
    quoted = attack.replace("'", "''")
    sql, params = parse_where(f"user.name = '{quoted}'")
    assert sql == '"user.name" = ?'
    assert params == [attack]


def test_sql_in_field_names_is_refused_or_a_parameter() -> None:
    with pytest.raises(WhereError):
        parse_where("user.name; DROP TABLE events = 'x'")
    sql, params = parse_where('"x] = 1 OR fields[y" = 1')
    assert sql == "fields[?] = ?"
    assert params == ["x] = 1 OR fields[y", "1"]

"""``like`` and ``ilike`` match the same nodes on SQLite and PostgreSQL (a user review found
escapes and non-ASCII case folding differ): ``%`` and ``_`` are wildcards, a backslash makes the
next character literal, ``ilike`` folds case beyond ASCII."""

from __future__ import annotations

import pytest

from actors import Runtime
from provenance import QueryBuilder, QueryError, Str

TEXTS = ["a%c", "abc", "x\\y", "xy", "äbc", "ÄBC", "a_c", "a*c", "[ab]"]


@pytest.mark.parametrize(
    ("operator", "pattern", "matched"),
    [
        ("like", "a\\%c", ["a%c"]),
        ("like", "a%c", ["a%c", "abc", "a_c", "a*c"]),
        ("like", "a\\_c", ["a_c"]),
        ("like", "a_c", ["a%c", "abc", "a_c", "a*c"]),
        ("like", "x\\\\y", ["x\\y"]),
        ("like", "x\\y", ["xy"]),
        ("like", "a*c", ["a*c"]),
        ("like", "[ab]", ["[ab]"]),
        ("like", "ÄBC", ["ÄBC"]),
        ("ilike", "äbc", ["äbc", "ÄBC"]),
        ("ilike", "ABC", ["abc"]),
        ("ilike", "A\\%C", ["a%c"]),
    ],
)
def test_like_and_ilike_match_alike_on_both_databases(
    any_runtime: Runtime, operator: str, pattern: str, matched: list[str]
) -> None:
    for text in TEXTS:
        Str(text).store()
    found = (
        QueryBuilder()
        .append(Str, filters={"attributes.value": {operator: pattern}}, project="attributes.value")
        .all(flat=True)
    )
    assert sorted(found) == sorted(matched)


def test_a_pattern_ending_in_a_lone_backslash_is_refused(any_runtime: Runtime) -> None:
    Str("a\\").store()
    with pytest.raises(QueryError, match="ends with a lone backslash"):
        QueryBuilder().append(Str, filters={"attributes.value": {"like": "a\\"}}).all()
    found = QueryBuilder().append(Str, filters={"attributes.value": {"like": "a\\\\"}}).all()
    assert len(found) == 1

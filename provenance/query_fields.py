"""What a ``QueryBuilder`` key names in SQL: a column, or a path into the JSON attributes.

Attribute values are JSON, and JSON is typed: ``{"attributes.value": {"<": -2.9}}`` must compare
numbers with numbers and skip a ``Str`` whose value is ``"abc"``, on SQLite and PostgreSQL alike.
A ``JsonPath`` therefore builds a comparison per kind of value (number, string, boolean, null),
each guarded by the JSON type of the stored value, and never casts text that might not be a
number (PostgreSQL would raise). Paths with one key render exactly as the expression indices of
migration 0002 (``json_extract(attributes, '$.process_state')``, ``attributes ->> 'process_state'``)
so that the planner can use them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from provenance.errors import QueryError

_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: How ``order_by`` ranks attribute values of different JSON kinds, smallest first: PostgreSQL
#: jsonb's order, kept on SQLite too (where booleans would be the integers 0 and 1).
JSON_ORDER = ("null", "string", "number", "boolean", "array", "object")
#: An ``ORDER BY`` expression and whether it sorts descending.
SortKey = tuple[ColumnElement[Any], bool]
ORDERED_OPERATORS = {"==": "__eq__", ">": "__gt__", "<": "__lt__", ">=": "__ge__", "<=": "__le__"}


def sql_string(text: str) -> str:
    """``text`` as a SQL string literal (quotes doubled): keys are rendered, not bound, so that
    an expression index on the same path matches the query."""
    if "\x00" in text:
        raise QueryError(f"attribute key {text!r} holds a NUL character")
    return "'" + text.replace("'", "''") + "'"


def value_kind(value: Any, where: str) -> str:
    """``number``, ``string``, ``boolean`` or ``null``: how a JSON value compares.

    Raises:
        QueryError: for lists, dicts and anything that is not a JSON scalar.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    raise QueryError(
        f"{where}: cannot compare an attribute with {value!r} ({type(value).__name__}); compare "
        "JSON scalars (str, int, float, bool, None), or a nested key such as attributes.a.b"
    )


@dataclass(frozen=True, slots=True)
class Column:
    """A plain column; ``python_type`` is what its filter values must be."""

    column: ColumnElement[Any]
    python_type: type | tuple[type, ...]
    type_name: str

    def check(self, value: Any, where: str) -> Any:
        """``value`` if it fits the column (a naive datetime is taken as UTC).

        Raises:
            QueryError: naming the key and the type it takes.
        """
        if isinstance(value, bool) or not isinstance(value, self.python_type):
            raise QueryError(f"{where}: {value!r} is not a {self.type_name}")
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value

    def compare(self, op: str, value: Any, where: str, dialect: str) -> ColumnElement[bool]:
        """``column <op> value`` for ``==``, ``>``, ``<``, ``>=``, ``<=``."""
        value = self.check(value, where)
        result: ColumnElement[bool] = getattr(self.column, ORDERED_OPERATORS[op])(value)
        return result

    def within(self, values: Sequence[Any], where: str, dialect: str) -> ColumnElement[bool]:
        """``column IN values``."""
        return self.column.in_([self.check(value, where) for value in values])

    def like(
        self, pattern: Any, where: str, dialect: str, *, sensitive: bool
    ) -> ColumnElement[bool]:
        """``column LIKE pattern``, case-sensitive or not, on every backend."""
        if self.type_name != "str":
            raise QueryError(
                f"{where}: like/ilike compare text, and this key is a {self.type_name}"
            )
        return text_like(self.column, self.check(pattern, where), dialect, sensitive=sensitive)

    def project(self, dialect: str) -> ColumnElement[Any]:
        """The column, for ``project``."""
        return self.column

    def order(self, dialect: str, *, descending: bool) -> list[SortKey]:
        """The column, for ``order_by``: text by Unicode code point and NULL (a node without
        a hash) last, on both backends."""
        column = self.column
        if dialect != "sqlite" and self.type_name == "str":
            column = column.collate("C")  # the database's collation may not be code points
        if not getattr(self.column, "nullable", False):
            return [(column, descending)]
        return [(sa.case((self.column.is_(None), 1), else_=0), False), (column, descending)]


def text_like(
    column: ColumnElement[Any], pattern: str, dialect: str, *, sensitive: bool
) -> ColumnElement[bool]:
    """SQL LIKE with ``%`` and ``_`` as wildcards and ``\\`` escaping the next character
    (``50\\%`` matches "50%"), case-sensitive (``like``) or not (``ilike``, Unicode case
    folding), alike on SQLite and PostgreSQL. SQLite's LIKE ignores ASCII case only and knows
    no escape by default, so a sensitive match there is a GLOB and an insensitive one compares
    lowered text."""
    trailing = len(pattern) - len(pattern.rstrip("\\"))
    if trailing % 2:
        raise QueryError(
            f"the like pattern {pattern!r} ends with a lone backslash, which escapes the next "
            "character: write two backslashes for one"
        )
    if dialect != "sqlite":
        return (column.like if sensitive else column.ilike)(pattern, escape="\\")
    if not sensitive:
        lowered = sa.func.workactors_lower(column)
        return lowered.like(pattern.lower(), escape="\\")
    return column.op("GLOB", is_comparison=True)(_glob(pattern))


def _glob(pattern: str) -> str:
    """A LIKE pattern (``%``, ``_``, ``\\`` escapes) as a GLOB pattern."""
    parts: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            parts.append(_GLOB_LITERAL.get(char, char))
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            parts.append({"%": "*", "_": "?"}.get(char, _GLOB_LITERAL.get(char, char)))
    return "".join(parts)


#: Characters GLOB reads as wildcards, written so that it reads them literally.
_GLOB_LITERAL = {"*": "[*]", "?": "[?]", "[": "[[]"}


@dataclass(frozen=True, slots=True)
class JsonPath:
    """A path of keys into a JSON column (``attributes.a.b`` -> ``("a", "b")``)."""

    column: ColumnElement[Any]
    keys: tuple[str, ...]

    def _sqlite_path(self) -> str:
        parts = ["$"]
        for key in self.keys:
            if key.isdigit():
                parts.append(f"[{key}]")
            elif _SIMPLE_KEY.match(key):
                parts.append(f".{key}")
            elif '"' in key:
                raise QueryError(
                    f"attribute key {key!r} holds a double quote, which SQLite paths refuse"
                )
            else:
                parts.append(f'."{key}"')
        return sql_string("".join(parts))

    def _pg_path(self) -> str:
        return "ARRAY[" + ", ".join(sql_string(key) for key in self.keys) + "]::text[]"

    def _pg(self, *, text: bool) -> ColumnElement[Any]:
        if len(self.keys) == 1:
            operator, path = ("->>" if text else "->"), sql_string(self.keys[0])
        else:
            operator, path = ("#>>" if text else "#>"), self._pg_path()
        if text:
            return self.column.op(operator, return_type=sa.Text)(sa.literal_column(path))
        return self.column.op(operator)(sa.literal_column(path))

    def _sqlite_value(self) -> ColumnElement[Any]:
        return sa.func.json_extract(self.column, sa.literal_column(self._sqlite_path()))

    def _sqlite_type(self) -> ColumnElement[Any]:
        return sa.func.json_type(self.column, sa.literal_column(self._sqlite_path()))

    def _pg_type(self) -> ColumnElement[Any]:
        return sa.func.jsonb_typeof(self._pg(text=False))

    def _is_kind(self, kind: str, dialect: str) -> ColumnElement[bool]:
        if dialect == "sqlite":
            names = {
                "number": ("integer", "real"),
                "string": ("text",),
                "boolean": ("true", "false"),
                "null": ("null",),
                "array": ("array",),
                "object": ("object",),
            }[kind]
            return self._sqlite_type().in_(names)
        return self._pg_type() == kind

    def _typed(self, kind: str, dialect: str) -> ColumnElement[Any]:
        """The stored value as SQL comparable with Python values of ``kind`` (guarded apart)."""
        if dialect == "sqlite":
            return self._sqlite_value()
        if kind == "string":
            return self._pg(text=True)
        return self._pg(text=False)

    @staticmethod
    def _bind(kind: str, value: Any, dialect: str) -> Any:
        if dialect == "sqlite" or kind == "string":
            return value
        from sqlalchemy.dialects.postgresql import JSONB  # only a PostgreSQL query gets here

        # PostgreSQL compares jsonb with jsonb: never a cast that could fail on other rows.
        return sa.cast(sa.literal(json.dumps(value)), JSONB)

    def compare(self, op: str, value: Any, where: str, dialect: str) -> ColumnElement[bool]:
        """The stored value ``<op> value``, for stored values of the same JSON kind only."""
        if not self.keys:
            raise QueryError(f"{where}: filter on attributes.<key>, not on the whole attributes")
        kind = value_kind(value, where)
        if kind == "null":
            if op != "==":
                raise QueryError(f"{where}: None compares with == (or its negation) only")
            return self._is_kind("null", dialect)
        if kind == "boolean" and op != "==":
            raise QueryError(f"{where}: booleans compare with == (or its negation) only")
        if kind == "boolean" and dialect == "sqlite":
            return self._sqlite_type() == ("true" if value else "false")
        stored = self._typed(kind, dialect)
        bound = self._bind(kind, value, dialect)
        comparison: ColumnElement[bool] = getattr(stored, ORDERED_OPERATORS[op])(bound)
        return sa.and_(self._is_kind(kind, dialect), comparison)

    def within(self, values: Sequence[Any], where: str, dialect: str) -> ColumnElement[bool]:
        """The stored value is one of ``values`` (of any JSON scalar kinds)."""
        if not self.keys:
            raise QueryError(f"{where}: filter on attributes.<key>, not on the whole attributes")
        by_kind: dict[str, list[Any]] = {}
        for value in values:
            by_kind.setdefault(value_kind(value, where), []).append(value)
        clauses: list[ColumnElement[bool]] = []
        for kind, group in by_kind.items():
            if kind in {"null", "boolean"}:
                clauses.extend(self.compare("==", value, where, dialect) for value in group)
            else:
                stored = self._typed(kind, dialect)
                bound = [self._bind(kind, value, dialect) for value in group]
                clauses.append(sa.and_(self._is_kind(kind, dialect), stored.in_(bound)))
        return sa.or_(*clauses) if clauses else sa.false()

    def like(
        self, pattern: Any, where: str, dialect: str, *, sensitive: bool
    ) -> ColumnElement[bool]:
        """The stored string matches ``pattern``; non-strings never match."""
        if not self.keys:
            raise QueryError(f"{where}: filter on attributes.<key>, not on the whole attributes")
        if not isinstance(pattern, str):
            raise QueryError(f"{where}: like/ilike take a str pattern, not {pattern!r}")
        stored = self._typed("string", dialect)
        return sa.and_(
            self._is_kind("string", dialect),
            text_like(stored, pattern, dialect, sensitive=sensitive),
        )

    def project(self, dialect: str) -> ColumnElement[Any]:
        """The stored value as JSON text (None if absent); the query builder decodes it."""
        if not self.keys:
            return self.column
        if dialect == "sqlite":
            return self.column.op("->", return_type=sa.Text)(sa.literal_column(self._sqlite_path()))
        return sa.cast(self._pg(text=False), sa.Text)

    def order(self, dialect: str, *, descending: bool) -> list[SortKey]:
        """Sort keys giving one order on every backend (``JSON_ORDER``): by kind, then by value
        within numbers, strings (Unicode code points) and booleans; arrays and objects tie
        among themselves; a node without the key comes last in both directions."""
        # Simple CASEs over the type name: the type is read once per key.
        if dialect == "sqlite":
            type_name = self._sqlite_type()
            names = {"null": ["null"], "string": ["text"], "number": ["integer", "real"]}
            names |= {"boolean": ["false", "true"], "array": ["array"], "object": ["object"]}
            scalar: ColumnElement[Any] = self._sqlite_value()  # false and true: 0 and 1
            text: ColumnElement[Any] = self._sqlite_value()
        else:
            type_name = self._pg_type()
            names = {kind: [kind] for kind in JSON_ORDER}
            scalar = self._pg(text=False)  # jsonb: numbers by value, false before true
            text = self._pg(text=True).collate("C")
        ranks = {name: rank for rank, kind in enumerate(JSON_ORDER) for name in names[kind]}
        scalars = dict.fromkeys((*names["number"], *names["boolean"]), scalar)
        return [
            (sa.case((type_name.is_(None), 1), else_=0), False),
            (sa.case(ranks, value=type_name), descending),
            # Numbers and booleans never meet here: their ranks told them apart already.
            (sa.case(scalars, value=type_name), descending),
            (sa.case(dict.fromkeys(names["string"], text), value=type_name), descending),
        ]


@dataclass(frozen=True, slots=True)
class TextPath:
    """A JSON path whose value is text by contract (``process_type``): behaves as a str column."""

    path: JsonPath

    def compare(self, op: str, value: Any, where: str, dialect: str) -> ColumnElement[bool]:
        """As ``JsonPath.compare``, for str values only."""
        if not isinstance(value, str):
            raise QueryError(f"{where}: {value!r} is not a str")
        return self.path.compare(op, value, where, dialect)

    def within(self, values: Sequence[Any], where: str, dialect: str) -> ColumnElement[bool]:
        """As ``JsonPath.within``, for str values only."""
        for value in values:
            if not isinstance(value, str):
                raise QueryError(f"{where}: {value!r} is not a str")
        return self.path.within(values, where, dialect)

    def like(
        self, pattern: Any, where: str, dialect: str, *, sensitive: bool
    ) -> ColumnElement[bool]:
        """As ``JsonPath.like``."""
        return self.path.like(pattern, where, dialect, sensitive=sensitive)

    def project(self, dialect: str) -> ColumnElement[Any]:
        """The text itself."""
        if dialect == "sqlite":
            return self.path._sqlite_value()
        return self.path._pg(text=True)

    def order(self, dialect: str, *, descending: bool) -> list[SortKey]:
        """As ``JsonPath.order``: by code point, nodes without it last."""
        return self.path.order(dialect, descending=descending)


Field = Column | JsonPath | TextPath

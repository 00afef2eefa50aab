"""Filters of a ``QueryBuilder`` vertex, in aiida-core 2's shape, turned into one SQL condition.

A filter dict maps keys to a value (``==``) or to a dict of operators::

    {"label": "relax", "ctime": {">": week_ago}, "attributes.value": {"<": -2.9}}
    {"id": {"in": [1, 2]}, "uuid": {"like": "3f2a%"}, "label": {"~ilike": "tmp%"}}
    {"or": [{"label": "a"}, {"attributes.x": {">": 3}}]}
    {"attributes.x": {"or": [{"<": 0}, {">": 10}]}}

Operators: ``==``, ``!=``, ``>``, ``<``, ``>=``, ``<=``, ``in``, ``!in``, ``like`` (case-sensitive),
``ilike``, ``and``, ``or``, and ``~`` in front of any operator (or as a key holding operators)
to negate it. A negation matches every row the condition does not match, rows without the
attribute included; ``!=`` and ``!in`` are the negations of ``==`` and ``in``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from provenance.errors import QueryError
from provenance.query_fields import ORDERED_OPERATORS, Column, Field
from provenance.values import INT_MAX

OPERATORS = ("==", "!=", ">", "<", ">=", "<=", "in", "!in", "like", "ilike", "and", "or", "~")
_NEGATED = {"!=": "==", "!==": "==", "!in": "in", "!like": "like", "!ilike": "ilike"}

Resolve = Callable[[str], Field]


def check_number(field: Field, value: Any, where: str, dialect: str) -> None:
    """Refuse a number the database cannot bind or compare, before the driver raises.

    An integer column takes what its SQL type holds: SQLite's INTEGER is 64 bits, PostgreSQL's
    32 (the ids); an attribute holds integers of 64 bits (``check_int``) and finite floats.

    Raises:
        QueryError: naming the key and the accepted range.
    """
    if isinstance(value, float) and not math.isfinite(value):
        raise QueryError(f"{where}: {value!r} is not a finite number")
    if type(value) is not int:
        return
    if isinstance(field, Column) and not isinstance(field.column.type, sa.BigInteger):
        # One message on both backends: a query that fails on one says why it may on the other.
        high = 2**31 - 1 if dialect == "postgresql" else INT_MAX
        accepted = "from -2**63 to 2**63 - 1 on SQLite, from -2**31 to 2**31 - 1 on PostgreSQL"
    else:
        high, accepted = INT_MAX, "from -2**63 to 2**63 - 1 (64 bits)"
    if not -high - 1 <= value <= high:
        raise QueryError(f"{where}: {value} is out of range; it takes integers {accepted}")


def negate(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """Every row ``condition`` does not hold for, rows where it is NULL (missing keys) included."""
    return sa.not_(sa.func.coalesce(condition, sa.false()))


class FilterCompiler:
    """Turns the filter dict of one vertex into SQL; ``where`` names the vertex in errors."""

    def __init__(self, resolve: Resolve, where: str, dialect: str) -> None:
        self._resolve = resolve
        self._where = where
        self._dialect = dialect

    def compile(self, filters: Any) -> ColumnElement[bool]:
        """The condition of a whole filter dict (keys ANDed).

        Raises:
            QueryError: naming the vertex and the key or operator that is wrong.
        """
        if not isinstance(filters, Mapping):
            raise QueryError(
                f"{self._where}: filters must be a dict of keys to values or operators, "
                f"not {filters!r}"
            )
        clauses: list[ColumnElement[bool]] = []
        for key, spec in filters.items():
            if key in {"and", "or"}:
                parts = [self.compile(part) for part in self._list_of(key, spec, "filter dicts")]
                clauses.append(sa.and_(*parts) if key == "and" else sa.or_(*parts))
            elif key == "~":
                clauses.append(negate(self.compile(spec)))
            else:
                if not isinstance(key, str):
                    raise QueryError(f"{self._where}: filter key {key!r} is not a str")
                clauses.append(self._key(key, self._resolve(key), spec))
        return sa.and_(sa.true(), *clauses)

    def _list_of(self, operator: str, spec: Any, what: str) -> list[Any]:
        if not isinstance(spec, list | tuple) or not spec:
            raise QueryError(
                f"{self._where}: {operator!r} takes a non-empty list of {what}, not {spec!r}"
            )
        return list(spec)

    def _key(self, key: str, field: Field, spec: Any) -> ColumnElement[bool]:
        where = f"{self._where}, filter on {key!r}"
        if not isinstance(spec, Mapping):
            return self._operator(field, "==", spec, where)
        if not spec:
            raise QueryError(f"{where}: an empty operator dict; give e.g. {{'==': value}}")
        clauses: list[ColumnElement[bool]] = []
        for operator, value in spec.items():
            if not isinstance(operator, str):
                raise QueryError(f"{where}: operator {operator!r} is not a str")
            if operator in {"and", "or"}:
                parts = [
                    self._key(key, field, part)
                    for part in self._list_of(operator, value, "operator dicts")
                ]
                clauses.append(sa.and_(*parts) if operator == "and" else sa.or_(*parts))
            elif operator == "~":
                clauses.append(negate(self._key(key, field, value)))
            elif operator.startswith("~"):
                clauses.append(negate(self._key(key, field, {operator[1:]: value})))
            elif operator in _NEGATED:
                clauses.append(negate(self._operator(field, _NEGATED[operator], value, where)))
            else:
                clauses.append(self._operator(field, operator, value, where))
        return sa.and_(*clauses)

    def _operator(self, field: Field, operator: str, value: Any, where: str) -> ColumnElement[bool]:
        if operator in ORDERED_OPERATORS:
            if value is None and not hasattr(field, "keys"):
                raise QueryError(f"{where}: columns are never None; compare with a value")
            check_number(field, value, where, self._dialect)
            return field.compare(operator, value, where, self._dialect)
        if operator == "in":
            if not isinstance(value, list | tuple | set | frozenset):
                raise QueryError(f"{where}: 'in' takes a list of values, not {value!r}")
            if not value:
                return sa.false()
            for item in value:
                check_number(field, item, where, self._dialect)
            return field.within(list(value), where, self._dialect)
        if operator in {"like", "ilike"}:
            return field.like(value, where, self._dialect, sensitive=operator == "like")
        raise QueryError(
            f"{where}: unknown operator {operator!r}; the operators are {', '.join(OPERATORS)} "
            "(and ~ in front of any of them)"
        )

"""Numbers a query cannot bind are ``QueryError``s naming the argument and the range, on both
backends, never a driver's OverflowError or NumericValueOutOfRange."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from actors import Runtime
from provenance import Int, Node, QueryBuilder, QueryError

Query = Callable[[], Any]
CASES: list[tuple[str, Query, str]] = [
    (
        "id 2**64",
        lambda: QueryBuilder().append(Node, filters={"id": 2**64}).all(),
        "filter on 'id': 18446744073709551616 is out of range; it takes integers from -2\\*\\*63",
    ),
    (
        "id in -2**64",
        lambda: QueryBuilder().append(Node, filters={"id": {"in": [1, -(2**64)]}}).all(),
        "filter on 'id': -18446744073709551616 is out of range",
    ),
    (
        "attribute 2**70",
        lambda: QueryBuilder().append(Node, filters={"attributes.value": {">": 2**70}}).all(),
        "filter on 'attributes.value': 1180591620717411303424 is out of range",
    ),
    (
        "attribute infinity",
        lambda: QueryBuilder().append(Node, filters={"attributes.value": float("inf")}).all(),
        "filter on 'attributes.value': inf is not a finite number",
    ),
    (
        "limit 10**30",
        lambda: QueryBuilder().append(Node).limit(10**30).all(),
        "limit takes an int from 0 to 9223372036854775807, not 10{30}",
    ),
    (
        "offset 10**30",
        lambda: QueryBuilder().append(Node).offset(10**30).all(),
        "offset takes an int from 0 to 9223372036854775807",
    ),
    (
        "batch_size 'x'",
        lambda: list(QueryBuilder().append(Node).iterall(batch_size="x")),  # type: ignore[arg-type]
        "batch_size takes an int from 1 to 2147483647 \\(or None\\), not 'x'",
    ),
    (
        "batch_size 10**30",
        lambda: QueryBuilder().append(Node).all(batch_size=10**30),
        "batch_size takes an int from 1 to 2147483647",
    ),
    ("batch_size 0", lambda: list(QueryBuilder().append(Node).iterall(batch_size=0)), "not 0"),
    ("batch_size -1", lambda: QueryBuilder().append(Node).dict(batch_size=-1), "not -1"),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def any_runtime(request: pytest.FixtureRequest) -> Runtime:
    """A runtime on each backend, holding one node."""
    runtime: Runtime = request.getfixturevalue(
        "runtime" if request.param == "sqlite" else "pg_runtime"
    )
    Int(7).store()
    return runtime


@pytest.mark.parametrize(
    ("query", "message"),
    [(query, message) for _name, query, message in CASES],
    ids=[name for name, _query, _message in CASES],
)
def test_a_number_out_of_range_is_a_query_error(
    any_runtime: Runtime, query: Query, message: str
) -> None:
    with pytest.raises(QueryError, match=message):
        query()


def test_an_id_postgresql_cannot_hold_is_refused_there_and_matches_nothing_on_sqlite(
    any_runtime: Runtime,
) -> None:
    query = QueryBuilder().append(Node, filters={"id": 2**40})
    if any_runtime.storage.dialect == "postgresql":
        with pytest.raises(QueryError, match="from -2\\*\\*31 to 2\\*\\*31 - 1 on PostgreSQL"):
            query.all()
    else:
        assert query.all() == []


def test_the_largest_accepted_numbers_run(any_runtime: Runtime) -> None:
    assert QueryBuilder().append(Node).limit(2**63 - 1).offset(2**63 - 1).all() == []
    assert len(list(QueryBuilder().append(Node).iterall(batch_size=2**31 - 1))) == 1
    attribute = {"attributes.value": {"<": 2**63 - 1}}
    assert len(QueryBuilder().append(Node, filters=attribute).all()) == 1

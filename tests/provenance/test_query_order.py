"""``order_by`` gives one order on SQLite and PostgreSQL, whatever the JSON kinds of the values.

The documented order (``provenance.query_fields.JSON_ORDER``): null < strings (by Unicode code
point) < numbers (by value, ints and floats together) < false < true < arrays < objects, and a
node without the key last, ascending or descending. Left to themselves, SQLite would put null
and a missing key first and mix booleans with numbers as 0 and 1, and PostgreSQL would sort a
missing key last ascending but first descending.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from actors import Runtime
from provenance import Calculation, Dict, Int, Node, QueryBuilder
from tests.helpers import POSTGRES_SERVER_URL

#: Ascending, as documented; stored shuffled.
ASCENDING: list[Any] = [
    None,
    "",
    "B",
    "a",
    "b",
    "é",
    -1,
    2.5,
    3,
    10**18,
    False,
    True,
    [1],
    {"a": 1},
]
MISSING = "no such key"


def _store_mixed() -> dict[str, int]:
    """One Dict per value (and one without the key), by the repr of its value."""
    stored: dict[str, int] = {}
    for value in [*ASCENDING[7:], MISSING, *reversed(ASCENDING[:7])]:
        node = Dict({"other": 1} if value == MISSING else {"k": value}).store()
        assert node.pk is not None
        stored[repr(value)] = node.pk
    return stored


def _ordered(order: Any) -> list[int]:
    qb = QueryBuilder().append(Dict, tag="d", project="id")
    return list(qb.order_by({"d": [order, "id"]}).all(flat=True))


def test_mixed_json_kinds_sort_alike_on_both_backends(any_runtime: Runtime) -> None:
    stored = _store_mixed()
    ascending = [stored[repr(value)] for value in ASCENDING]
    descending = list(reversed(ascending))
    missing = stored[repr(MISSING)]

    assert _ordered("attributes.dict.k") == [*ascending, missing]
    assert _ordered({"attributes.dict.k": {"order": "asc"}}) == [*ascending, missing]
    assert _ordered({"attributes.dict.k": {"order": "desc"}}) == [*descending, missing]


def test_a_distinct_query_orders_by_keys_it_does_not_project(any_runtime: Runtime) -> None:
    stored = _store_mixed()
    qb = QueryBuilder().append(Dict, tag="d", project="id").distinct()
    rows = qb.order_by({"d": [{"attributes.dict.k": "desc"}, "id"]}).all(flat=True)
    assert rows == [stored[repr(value)] for value in reversed(ASCENDING)] + [stored[repr(MISSING)]]
    assert qb.count() == len(stored)


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_text_columns_sort_by_code_point_and_missing_hashes_last(
    any_runtime: Runtime, direction: str
) -> None:
    labels = ["b", "B", "a", "é", "A"]
    for label in labels:
        Int(1, label=label).store()
    by_label = QueryBuilder().append(Int, project="label").order_by({"Int": {"label": direction}})
    assert by_label.all(flat=True) == sorted(labels, reverse=direction == "desc")

    unhashed = Calculation().store()
    [last_pk] = (
        QueryBuilder()
        .append(Node, project="id")
        .order_by({"Node": [{"node_hash": direction}, "id"]})
        .all(flat=True)[-1:]
    )
    assert unhashed.node_hash is None
    assert last_pk == unhashed.pk


def test_process_type_sorts_nodes_without_one_last(any_runtime: Runtime) -> None:
    data = Int(5).store()
    process = Calculation()
    process.set_process_attributes(process_class="pkg.Job")
    process.store()
    for direction in ("asc", "desc"):
        qb = QueryBuilder().append(Node, project="id")
        order = {"Node": [{"process_type": direction}, "id"]}
        assert qb.order_by(order).all(flat=True) == [process.pk, data.pk]


@pytest.fixture
def language_collated_url() -> Iterator[str]:
    """A new PostgreSQL database whose default collation is English's (ICU), where "a" sorts
    before "B"; dropped afterwards."""
    name = f"test_icu_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(
                f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu "
                "ICU_LOCALE 'en' LOCALE 'C.UTF-8'"
            )
        yield (
            sa.make_url(POSTGRES_SERVER_URL)
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


@pytest.mark.postgres
def test_text_sorts_by_code_point_whatever_the_database_collation(
    language_collated_url: str, tmp_path: Path
) -> None:
    texts = ["b", "B", "a", "é", "A"]
    with Runtime(tmp_path / "home", database_url=language_collated_url):
        for text in texts:
            Int(1, label=text).store()
            Dict({"k": text}).store()
        labels = QueryBuilder().append(Int, project="label").order_by({"Int": "label"})
        values = QueryBuilder().append(Dict, tag="d", project="attributes.dict.k")
        assert labels.all(flat=True) == sorted(texts) == ["A", "B", "a", "b", "é"]
        assert values.order_by({"d": "attributes.dict.k"}).all(flat=True) == sorted(texts)

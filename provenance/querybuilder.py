"""``QueryBuilder``: find nodes and groups by their columns, attributes and relationships.

The shape is aiida-core 2's, so that habits and snippets carry over::

    qb = QueryBuilder()
    qb.append(ProcessNode, tag="p", filters={"attributes.exit_status": 300}, project=["id"])
    qb.append(Float, with_incoming="p", filters={"attributes.value": {"<": -2.9}}, project="*")
    qb.all()

Whatever is appended, a query is ONE SQL statement: vertices are joins, ancestors and
descendants a recursive common table expression seeded by the filters of the vertex they start
from, ``count()`` a ``SELECT count(*)`` around it and ``iterall`` one streamed cursor. Mistakes
(an unknown key, operator or tag) raise ``QueryError`` naming them, never a database error.

This module is the public face; its parts each have their own: ``query_arguments`` checks what
is given, ``query_relationships`` ties vertices together, ``query_vertices`` resolves keys,
``query_filters`` and ``query_fields`` turn filters into SQL, ``query_joins`` builds the FROM
clause and ``query_statement`` the SELECT and the values of its rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Self

import sqlalchemy as sa

from provenance.errors import MultipleObjectsError, NotExistentError, QueryError
from provenance.groups import Group
from provenance.models import DbGroup, DbNode
from provenance.query_arguments import (
    MAX_BATCH_SIZE,
    check_batch_size,
    count_argument,
    keys_argument,
    mapping_argument,
    new_tag,
    order_keys,
)
from provenance.query_relationships import attach_link, find_vertex, relate
from provenance.query_statement import Layout, Ordering, row_values, select_statement
from provenance.query_vertices import RELATIONSHIPS, Vertex, node_types_of
from provenance.reading import read_storage, sync_open_backend
from provenance.storage import Storage

__all__ = ["MAX_BATCH_SIZE", "QueryBuilder", "Row"]

Row = list[Any]


class QueryBuilder:
    """Build a query by appending vertices; run it with ``all``, ``first``, ``one``, ``count``,
    ``iterall`` or ``dict``.

    Args:
        limit: at most this many rows.
        offset: skip this many rows first.
        order_by: as for ``order_by``.
        storage: the database to query; default the open runtime's, else the default home's.
    """

    def __init__(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        order_by: Any = None,
        storage: Storage | None = None,
    ) -> None:
        self._vertices: list[Vertex] = []
        self._limit: int | None = None
        self._offset: int | None = None
        self._order: list[Ordering] = []
        self._distinct = False
        self._storage = storage
        if limit is not None:
            self.limit(limit)
        if offset is not None:
            self.offset(offset)
        if order_by is not None:
            self.order_by(order_by)

    # Building.

    def append(
        self,
        cls: Any = None,
        *,
        tag: str | None = None,
        filters: Mapping[str, Any] | None = None,
        project: str | Sequence[str] | None = None,
        with_incoming: Any = None,
        with_outgoing: Any = None,
        with_ancestors: Any = None,
        with_descendants: Any = None,
        with_group: Any = None,
        with_node: Any = None,
        edge_filters: Mapping[str, Any] | None = None,
        edge_project: str | Sequence[str] | None = None,
    ) -> Self:
        """Add a vertex: nodes of ``cls`` (or groups, with ``cls=Group``), related to an
        earlier vertex by at most one relationship.

        ``with_incoming="p"``: nodes with a link from ``p``; ``with_outgoing="p"``: with a link
        to ``p``; ``with_ancestors="p"``: nodes ``p`` leads to through any chain of links;
        ``with_descendants="p"``: nodes that lead to ``p``; ``with_group="g"``: members of group
        ``g``; on a group vertex, ``with_node="n"``: groups holding ``n``. ``edge_filters``
        (keys ``type``/``link_type``, ``label``, ``id``) and ``edge_project`` apply to the link
        of ``with_incoming``/``with_outgoing``.

        Raises:
            QueryError: for a bad class, a taken or unknown tag, several relationships, or a
                vertex after the first without one.
        """
        kind = "group" if cls is Group else "node"
        if cls is None:
            from provenance.nodes import Node

            cls = Node
        node_types, process_class = ((), None) if kind == "group" else node_types_of(cls)
        tag = new_tag(tag, cls, {vertex.tag for vertex in self._vertices})
        table = (DbGroup.__table__ if kind == "group" else DbNode.__table__).alias(
            f"v{len(self._vertices)}"
        )
        vertex = Vertex(
            tag=tag,
            kind=kind,
            cls=cls,
            table=table,
            filters=dict(mapping_argument(filters, tag, "filters")),
            project=keys_argument(project, tag, "project"),
            node_types=node_types,
            process_class=process_class,
        )
        given = {
            name: value
            for name, value in zip(
                RELATIONSHIPS,
                (
                    with_incoming,
                    with_outgoing,
                    with_ancestors,
                    with_descendants,
                    with_group,
                    with_node,
                ),
                strict=True,
            )
            if value is not None
        }
        relate(vertex, given, self._vertices)
        attach_link(vertex, edge_filters, edge_project)
        self._vertices.append(vertex)
        # Validate keys now, so that the mistake points at this call.
        vertex.check_keys()
        return self

    def limit(self, count: int) -> Self:
        """Return at most ``count`` rows."""
        self._limit = count_argument(count, "limit")
        return self

    def offset(self, count: int) -> Self:
        """Skip the first ``count`` rows."""
        self._offset = count_argument(count, "offset")
        return self

    def distinct(self) -> Self:
        """Drop duplicate rows (two links between the same nodes give two rows otherwise).

        Rows are distinct over what they project and the keys ``order_by`` sorts them by (as
        PostgreSQL requires of a DISTINCT select): order by keys of the projected vertices.
        """
        self._distinct = True
        return self

    def order_by(self, order: Any) -> Self:
        """Order rows: ``{tag: [{key: {"order": "asc"|"desc"}}]}``, or ``{tag: key}``,
        ``{tag: [key, ...]}``, ``{tag: {key: "desc"}}``; a list of such dicts; replaces any
        earlier ordering.

        Raises:
            QueryError: for an unknown tag or key, or an order that is not asc/desc.
        """
        entries: list[Ordering] = []
        for spec in order if isinstance(order, list | tuple) else [order]:
            if not isinstance(spec, Mapping):
                raise QueryError(
                    f"order_by takes {{tag: [{{key: {{'order': 'asc'}}}}]}}, not {spec!r}"
                )
            for reference, keys in spec.items():
                vertex = find_vertex(self._vertices, reference, "order_by")
                entries.extend((vertex.tag, key, direction) for key, direction in order_keys(keys))
        for tag, key, _direction in entries:
            find_vertex(self._vertices, tag, "order_by").field(key)
        self._order = entries
        return self

    # Compiling.

    def _dialect(self, *, reads: bool = True) -> tuple[Storage, str]:
        if self._storage is not None:
            return self._storage, self._storage.dialect
        if reads:  # read-your-writes, as ``load_node``: a step finds the child it launched
            sync_open_backend()
        storage = read_storage()
        return storage, storage.dialect

    def _select(self, dialect: str) -> tuple[sa.Select[Any], Layout]:
        if not self._vertices:
            raise QueryError("the query has no vertex; call append(cls, ...) first")
        return select_statement(
            self._vertices,
            self._order,
            distinct=self._distinct,
            limit=self._limit,
            offset=self._offset,
            dialect=dialect,
        )

    def as_sql(self, *, inline: bool = False) -> str:
        """The SQL statement the query runs, for reading or ``EXPLAIN``; ``inline`` renders
        the parameters into it (for values SQL can spell: numbers and text)."""
        storage, dialect = self._dialect(reads=False)  # compiled, not run: nothing to sync
        statement, _layout = self._select(dialect)
        compile_kwargs = {"literal_binds": True} if inline else {}
        return str(statement.compile(storage.read_engine, compile_kwargs=compile_kwargs))

    # Running.

    def _rows(self, batch_size: int | None = None) -> Iterator[tuple[Layout, Any]]:
        check_batch_size(batch_size)
        storage, dialect = self._dialect()
        statement, layout = self._select(dialect)
        if batch_size is not None:
            statement = statement.execution_options(yield_per=batch_size)
        with storage.read_session() as session:
            for row in session.execute(statement):
                yield layout, row

    def iterall(self, batch_size: int | None = 100) -> Iterator[Row]:
        """Yield the rows one by one, fetched ``batch_size`` at a time from one cursor."""
        for layout, row in self._rows(batch_size):
            yield [value for _tag, _key, value in row_values(layout, row)]

    def all(self, batch_size: int | None = None, flat: bool = False) -> list[Any]:
        """Every row, as a list of the projected values; ``flat``: one list of all values."""
        rows = list(self.iterall(batch_size))
        if flat:
            return [value for row in rows for value in row]
        return rows

    def iterdict(self, batch_size: int | None = 100) -> Iterator[dict[str, dict[str, Any]]]:
        """Yield each row as ``{tag: {key: value}}`` (edges under ``"<tag>--<tag>"``)."""
        for layout, row in self._rows(batch_size):
            result: dict[str, dict[str, Any]] = {}
            for tag, key, value in row_values(layout, row):
                result.setdefault(tag, {})[key] = value
            yield result

    def dict(self, batch_size: int | None = None) -> list[dict[str, dict[str, Any]]]:
        """Every row as ``{tag: {key: value}}``."""
        return list(self.iterdict(batch_size))

    def first(self, flat: bool = False) -> Any:
        """The first row (a list; ``flat``: its only value), or None if there is none."""
        saved = self._limit
        self._limit = 1
        try:
            rows = self.all()
        finally:
            self._limit = saved
        if not rows:
            return None
        return rows[0][0] if flat and len(rows[0]) == 1 else rows[0]

    def one(self) -> Row:
        """The only row.

        Raises:
            NotExistentError: if there is none.
            MultipleObjectsError: if there are several.
        """
        saved = self._limit
        self._limit = 2 if saved is None else min(saved, 2)
        try:
            rows = self.all()
        finally:
            self._limit = saved
        if not rows:
            raise NotExistentError("the query found no row; one() expects exactly one")
        if len(rows) > 1:
            raise MultipleObjectsError("the query found several rows; one() expects exactly one")
        row: Row = rows[0]
        return row

    def count(self) -> int:
        """How many rows the query gives, counted by the database."""
        storage, dialect = self._dialect()
        statement, _layout = self._select(dialect)
        counting = sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
        with storage.read_session() as session:
            return int(session.execute(counting).scalar_one())

    def __repr__(self) -> str:
        tags = ", ".join(vertex.tag for vertex in self._vertices)
        return f"<QueryBuilder [{tags}]>"

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
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from provenance.errors import MultipleObjectsError, NotExistentError, QueryError
from provenance.groups import Group
from provenance.models import DbGroup, DbNode
from provenance.query_joins import from_clause
from provenance.query_vertices import (
    RELATIONSHIPS,
    Vertex,
    decode_projected,
    group_from_values,
    link_alias,
    node_from_values,
    node_types_of,
)
from provenance.reading import read_storage, sync_open_backend
from provenance.storage import Storage
from provenance.values import INT_MAX

Row = list[Any]
#: The most rows one fetch may ask for: PostgreSQL's ``FETCH`` and the drivers count in 32 bits.
MAX_BATCH_SIZE = 2**31 - 1


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
        self._order: list[tuple[str, str, str]] = []
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
        tag = self._new_tag(tag, cls)
        table = (DbGroup.__table__ if kind == "group" else DbNode.__table__).alias(
            f"v{len(self._vertices)}"
        )
        vertex = Vertex(
            tag=tag,
            kind=kind,
            cls=cls,
            table=table,
            filters=dict(self._mapping(filters, tag, "filters")),
            project=self._keys(project, tag, "project"),
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
        if len(given) > 1:
            raise QueryError(
                f"tag {tag!r}: give one relationship, not {', '.join(given)}; append another "
                "vertex for each further relationship"
            )
        if given:
            [(relationship, target)] = given.items()
            other = self._vertex(target, f"{relationship} of tag {tag!r}")
            self._check_relationship(relationship, vertex, other)
            vertex.relationship = (relationship, other.tag)
        elif self._vertices:
            raise QueryError(
                f"tag {tag!r}: every vertex after the first needs a relationship to an earlier "
                f"one ({', '.join(RELATIONSHIPS)})"
            )
        if edge_filters is not None or edge_project is not None:
            if vertex.relationship is None or vertex.relationship[0] not in {
                "with_incoming",
                "with_outgoing",
            }:
                raise QueryError(
                    f"tag {tag!r}: edge_filters and edge_project apply to with_incoming or "
                    "with_outgoing, the relationships that follow one link"
                )
            vertex.edge_filters = dict(self._mapping(edge_filters, tag, "edge_filters"))
            vertex.edge_project = self._keys(edge_project, tag, "edge_project")
        if vertex.relationship is not None and vertex.relationship[0] in {
            "with_incoming",
            "with_outgoing",
        }:
            vertex.edge_table = link_alias()
        self._vertices.append(vertex)
        # Validate keys now, so that the mistake points at this call.
        self._check_keys(vertex)
        return self

    def _new_tag(self, tag: str | None, cls: Any) -> str:
        taken = {vertex.tag for vertex in self._vertices}
        if tag is None:
            base = getattr(cls, "__name__", "node")
            tag, number = base, 1
            while tag in taken:
                number += 1
                tag = f"{base}_{number}"
            return tag
        if not isinstance(tag, str) or not tag:
            raise QueryError(f"a tag must be a non-empty str, not {tag!r}")
        if tag in taken:
            raise QueryError(f"tag {tag!r} is already used by another vertex; pick another")
        return tag

    @staticmethod
    def _mapping(value: Any, tag: str, what: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise QueryError(f"tag {tag!r}: {what} must be a dict, not {value!r}")
        return value

    @staticmethod
    def _keys(value: Any, tag: str, what: str) -> list[str]:
        if value is None:
            return []
        keys = [value] if isinstance(value, str) else value
        if not isinstance(keys, list | tuple) or not all(isinstance(key, str) for key in keys):
            raise QueryError(f"tag {tag!r}: {what} takes a key or a list of keys, not {value!r}")
        return list(keys)

    def _vertex(self, reference: Any, where: str) -> Vertex:
        """The vertex a tag (or a class appended once) names."""
        if isinstance(reference, str):
            for vertex in self._vertices:
                if vertex.tag == reference:
                    return vertex
        else:
            matches = [vertex for vertex in self._vertices if vertex.cls is reference]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise QueryError(
                    f"{where}: {reference!r} was appended {len(matches)} times; name it by tag"
                )
        known = ", ".join(repr(vertex.tag) for vertex in self._vertices) or "none yet"
        raise QueryError(f"{where}: unknown tag {reference!r}; the tags are {known}")

    @staticmethod
    def _check_relationship(relationship: str, vertex: Vertex, other: Vertex) -> None:
        wants_group = relationship == "with_group"
        if relationship == "with_node":
            if vertex.kind != "group" or other.kind != "node":
                raise QueryError(
                    f"tag {vertex.tag!r}: with_node relates a Group vertex to a node vertex"
                )
            return
        if vertex.kind == "group":
            raise QueryError(f"tag {vertex.tag!r}: a Group vertex relates to nodes with with_node")
        if wants_group != (other.kind == "group"):
            raise QueryError(
                f"tag {vertex.tag!r}: {relationship} needs a "
                f"{'Group' if wants_group else 'node'} vertex, and {other.tag!r} is not one"
            )

    def _check_keys(self, vertex: Vertex) -> None:
        dialect = "sqlite"  # key resolution is the same on every backend
        vertex.condition(dialect)
        vertex.columns(dialect)
        if vertex.edge_table is not None:
            vertex.edge_condition(dialect)

    def limit(self, count: int) -> Self:
        """Return at most ``count`` rows."""
        self._limit = self._count_argument(count, "limit")
        return self

    def offset(self, count: int) -> Self:
        """Skip the first ``count`` rows."""
        self._offset = self._count_argument(count, "offset")
        return self

    @staticmethod
    def _count_argument(count: Any, what: str) -> int:
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= INT_MAX:
            raise QueryError(f"{what} takes an int from 0 to {INT_MAX}, not {count!r}")
        return count

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
        entries: list[tuple[str, str, str]] = []
        for spec in order if isinstance(order, list | tuple) else [order]:
            if not isinstance(spec, Mapping):
                raise QueryError(
                    f"order_by takes {{tag: [{{key: {{'order': 'asc'}}}}]}}, not {spec!r}"
                )
            for reference, keys in spec.items():
                vertex = self._vertex(reference, "order_by")
                entries.extend((vertex.tag, key, direction) for key, direction in _order_keys(keys))
        for tag, key, _direction in entries:
            self._vertex(tag, "order_by").field(key)
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

    def _require_vertices(self) -> None:
        if not self._vertices:
            raise QueryError("the query has no vertex; call append(cls, ...) first")

    def _projected(self) -> list[Vertex]:
        if any(vertex.project or vertex.edge_project for vertex in self._vertices):
            return self._vertices
        self._vertices[-1].project = ["*"]
        return self._vertices

    def _select(self, dialect: str) -> tuple[Select[Any], list[tuple[Vertex, list[str]]]]:
        self._require_vertices()
        vertices = self._projected()
        layout: list[tuple[Vertex, list[str]]] = []
        columns: list[ColumnElement[Any]] = []
        for vertex in vertices:
            keys: list[str] = []
            for key, column in vertex.columns(dialect):
                keys.append(key)
                columns.append(column.label(f"c{len(columns)}"))
            layout.append((vertex, keys))
        joined, conditions = from_clause(self._vertices, dialect)
        by_tag = {vertex.tag: vertex for vertex in self._vertices}
        ordering: list[ColumnElement[Any]] = []
        for tag, key, direction in self._order:
            field = by_tag[tag].field(key)
            for expression, descending in field.order(dialect, descending=direction == "desc"):
                sort_key: ColumnElement[Any] = expression
                if self._distinct:
                    # PostgreSQL orders a DISTINCT select by its own columns only: the sort
                    # keys go after the projections (rows are built from the projections).
                    sort_key = expression.label(f"c{len(columns)}")
                    columns.append(sort_key)
                ordering.append(sort_key.desc() if descending else sort_key.asc())
        statement = sa.select(*columns).select_from(joined).where(*conditions)
        if self._distinct:
            statement = statement.distinct()
        statement = statement.order_by(*ordering)
        if self._limit is not None:
            statement = statement.limit(self._limit)
        if self._offset is not None:
            statement = statement.offset(self._offset)
        return statement, layout

    def as_sql(self, *, inline: bool = False) -> str:
        """The SQL statement the query runs, for reading or ``EXPLAIN``; ``inline`` renders
        the parameters into it (for values SQL can spell: numbers and text)."""
        storage, dialect = self._dialect(reads=False)  # compiled, not run: nothing to sync
        statement, _layout = self._select(dialect)
        compile_kwargs = {"literal_binds": True} if inline else {}
        return str(statement.compile(storage.read_engine, compile_kwargs=compile_kwargs))

    # Running.

    def _rows(
        self, batch_size: int | None = None
    ) -> Iterator[tuple[list[tuple[Vertex, list[str]]], Any]]:
        if batch_size is not None and (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, int)
            or not 1 <= batch_size <= MAX_BATCH_SIZE
        ):
            raise QueryError(
                f"batch_size takes an int from 1 to {MAX_BATCH_SIZE} (or None), not {batch_size!r}"
            )
        storage, dialect = self._dialect()
        statement, layout = self._select(dialect)
        if batch_size is not None:
            statement = statement.execution_options(yield_per=batch_size)
        with storage.read_session() as session:
            for row in session.execute(statement):
                yield layout, row

    @staticmethod
    def _convert(
        layout: list[tuple[Vertex, list[str]]], row: Sequence[Any]
    ) -> list[tuple[str, str, Any]]:
        """``(tag, key, value)`` per projection of a raw row, entities built from their columns."""
        values: list[tuple[str, str, Any]] = []
        index = 0
        for vertex, keys in layout:
            entity: dict[str, Any] = {}
            for key in keys:
                value = row[index]
                index += 1
                if key.startswith("*"):
                    entity[key[1:]] = value
                    if len(entity) == (
                        len(DbNode.__table__.c)
                        if vertex.kind == "node"
                        else len(DbGroup.__table__.c)
                    ):
                        built = (
                            node_from_values(entity)
                            if vertex.kind == "node"
                            else group_from_values(entity)
                        )
                        values.append((vertex.tag, "*", built))
                        entity = {}
                elif key.startswith("edge:"):
                    values.append((vertex.edge_tag, key[5:], value))
                else:
                    values.append((vertex.tag, key, decode_projected(key, value)))
        return values

    def iterall(self, batch_size: int | None = 100) -> Iterator[Row]:
        """Yield the rows one by one, fetched ``batch_size`` at a time from one cursor."""
        for layout, row in self._rows(batch_size):
            yield [value for _tag, _key, value in self._convert(layout, row)]

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
            for tag, key, value in self._convert(layout, row):
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


def _order_keys(keys: Any) -> list[tuple[str, str]]:
    """``(key, "asc"|"desc")`` pairs from the forms ``order_by`` takes."""
    if isinstance(keys, str):
        return [(keys, "asc")]
    if isinstance(keys, Mapping):
        keys = [keys]
    if not isinstance(keys, list | tuple):
        raise QueryError(f"order_by: {keys!r} is not a key, a list of keys or {{key: order}}")
    result: list[tuple[str, str]] = []
    for item in keys:
        if isinstance(item, str):
            result.append((item, "asc"))
            continue
        if not isinstance(item, Mapping):
            raise QueryError(f"order_by: {item!r} is not a key or {{key: order}}")
        for key, spec in item.items():
            direction = spec.get("order", "asc") if isinstance(spec, Mapping) else spec
            if direction not in {"asc", "desc"}:
                raise QueryError(
                    f"order_by: the order of {key!r} is 'asc' or 'desc', not {direction!r}"
                )
            result.append((key, direction))
    return result

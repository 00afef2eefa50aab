"""The vertices a ``QueryBuilder`` joins: nodes (of a class), groups, and the links between.

Each vertex owns an alias of its table, knows which keys it takes (for filters, projections and
ordering) and how to turn a result column back into a Python value.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from provenance.errors import QueryError
from provenance.groups import Group
from provenance.models import DbGroup, DbLink, DbNode, group_node
from provenance.nodes import Node
from provenance.query_fields import Column, Field, JsonPath, TextPath
from provenance.query_filters import FilterCompiler
from provenance.records import LinkType

NODE_KEYS = (
    "id",
    "pk",
    "uuid",
    "label",
    "description",
    "ctime",
    "mtime",
    "node_type",
    "node_hash",
    "process_type",
    "attributes",
    "attributes.<key>[.<key>...]",
)
GROUP_KEYS = ("id", "pk", "uuid", "label", "type_string", "description", "time")
EDGE_KEYS = ("id", "pk", "label", "type", "link_type", "input_id", "output_id")
RELATIONSHIPS = (
    "with_incoming",
    "with_outgoing",
    "with_ancestors",
    "with_descendants",
    "with_group",
    "with_node",
)

_NODE_COLUMNS = tuple(DbNode.__table__.c.keys())


def node_types_of(cls: Any) -> tuple[tuple[str, ...], str | None]:
    """The node types a class stands for (itself and its subtypes), and a process class path.

    ``cls`` is a ``Node`` subclass, a ``Process`` subclass (duck-typed: ``class_path`` and
    ``node_class``; its nodes are those with that class path) or a ``@workfunction``.

    Raises:
        QueryError: for anything else.
    """
    process_class = getattr(cls, "process_class", None)
    if process_class is not None and hasattr(process_class, "class_path"):
        cls = process_class  # a @workfunction: the class it runs
    if isinstance(cls, type) and hasattr(cls, "class_path") and hasattr(cls, "node_class"):
        return (cls.node_class.node_type,), cls.class_path()
    if isinstance(cls, type) and issubclass(cls, Node):
        return ((), None) if cls is Node else ((cls.node_type,), None)
    raise QueryError(
        f"QueryBuilder.append takes a node class (Node, Data, Int, ProcessNode, ...), a Process "
        f"class, a workfunction or Group, not {cls!r}"
    )


@dataclass(slots=True)
class Vertex:
    """One appended entity: its tag, table alias, filters, projections and relationship."""

    tag: str
    kind: str  # "node" or "group"
    cls: Any
    table: FromClause
    filters: dict[str, Any]
    project: list[str]
    node_types: tuple[str, ...] = ()
    process_class: str | None = None
    relationship: tuple[str, str] | None = None
    edge_table: FromClause | None = None
    edge_filters: dict[str, Any] = field(default_factory=dict)
    edge_project: list[str] = field(default_factory=list)

    @property
    def edge_tag(self) -> str:
        """The tag of the link joining this vertex: ``"<other>--<tag>"``, as aiida names it."""
        assert self.relationship is not None
        return f"{self.relationship[1]}--{self.tag}"

    def field(self, key: str, table: FromClause | None = None) -> Field:
        """The SQL behind ``key`` on this vertex (on ``table``, another alias, if given).

        Raises:
            QueryError: naming the tag, the key and the keys this vertex takes.
        """
        columns = (table if table is not None else self.table).c
        if self.kind == "group":
            return _group_field(columns, key, self.tag)
        return node_field(columns, key, self.tag)

    def edge_field(self, key: str) -> Field:
        """The SQL behind ``key`` on the link that joins this vertex.

        Raises:
            QueryError: if this vertex is not joined by a link, or for an unknown key.
        """
        if self.edge_table is None:
            raise QueryError(
                f"tag {self.tag!r}: edge filters and projections need with_incoming or "
                "with_outgoing (a link joins only those)"
            )
        columns = self.edge_table.c
        name = "id" if key == "pk" else "link_type" if key == "type" else key
        if name in {"id", "input_id", "output_id"}:
            return Column(columns[name], int, "int")
        if name in {"label", "link_type"}:
            return Column(columns[name], str, "str")
        raise QueryError(
            f"edge of tag {self.tag!r}: unknown key {key!r}; edges take {', '.join(EDGE_KEYS)}"
        )

    def condition(self, dialect: str, table: FromClause | None = None) -> ColumnElement[bool]:
        """Its filters and its class, as one condition (on ``table`` if given)."""
        target = table if table is not None else self.table
        compiler = FilterCompiler(lambda key: self.field(key, target), f"tag {self.tag!r}", dialect)
        clauses = [compiler.compile(self.filters)]
        if self.node_types:
            column = target.c.node_type
            clauses.append(
                sa.or_(
                    *(
                        sa.or_(
                            column == node_type, column.startswith(f"{node_type}.", autoescape=True)
                        )
                        for node_type in self.node_types
                    )
                )
            )
        if self.process_class is not None:
            clauses.append(
                node_field(target.c, "process_type", self.tag).compare(
                    "==", self.process_class, f"tag {self.tag!r}", dialect
                )
            )
        return sa.and_(*clauses)

    def check_keys(self) -> None:
        """Resolve every key of its filters and projections, so that a mistake raises when the
        vertex is appended, naming it, not when the query runs.

        Raises:
            QueryError: for an unknown key, operator or value.
        """
        dialect = "sqlite"  # key resolution is the same on every backend
        self.condition(dialect)
        self.columns(dialect)
        if self.edge_table is not None:
            self.edge_condition(dialect)

    def edge_condition(self, dialect: str) -> ColumnElement[bool]:
        """The edge filters, with link types given as ``LinkType`` or their values."""
        filters = {key: _link_type_values(key, spec) for key, spec in self.edge_filters.items()}
        compiler = FilterCompiler(self.edge_field, f"edge of tag {self.tag!r}", dialect)
        return compiler.compile(filters)

    def columns(self, dialect: str) -> list[tuple[str, ColumnElement[Any]]]:
        """``(key, column)`` per projection, ``*`` expanded to every column of the row."""
        result: list[tuple[str, ColumnElement[Any]]] = []
        for key in self.project:
            if key == "*":
                names = _NODE_COLUMNS if self.kind == "node" else tuple(DbGroup.__table__.c.keys())
                result.extend((f"*{name}", self.table.c[name]) for name in names)
            else:
                result.append((key, self.field(key).project(dialect)))
        for key in self.edge_project:
            result.append((f"edge:{key}", self.edge_field(key).project(dialect)))
        return result


def _link_type_values(key: str, spec: Any) -> Any:
    """Edge filter values with ``LinkType`` members replaced by their stored values."""
    if key not in {"type", "link_type"}:
        return spec
    if isinstance(spec, LinkType):
        return spec.value
    if isinstance(spec, dict):
        return {op: _link_type_values(key, value) for op, value in spec.items()}
    if isinstance(spec, list | tuple):
        return [_link_type_values(key, value) for value in spec]
    return spec


def node_field(columns: Any, key: str, tag: str) -> Field:
    """The SQL behind a node key.

    Raises:
        QueryError: for an unknown key.
    """
    if key in {"id", "pk"}:
        return Column(columns.id, int, "int")
    if key in {"uuid", "label", "description", "node_type", "node_hash"}:
        return Column(columns[key], str, "str")
    if key in {"ctime", "mtime"}:
        return Column(columns[key], dt.datetime, "datetime")
    if key == "process_type":
        return TextPath(JsonPath(columns.attributes, ("process_class",)))
    if key == "attributes":
        return JsonPath(columns.attributes, ())
    if key.startswith("attributes."):
        path = tuple(key.split(".")[1:])
        if not all(path):
            raise QueryError(f"tag {tag!r}: {key!r} has an empty attribute key between dots")
        return JsonPath(columns.attributes, path)
    raise QueryError(f"tag {tag!r}: unknown key {key!r}; nodes take {', '.join(NODE_KEYS)}")


def _group_field(columns: Any, key: str, tag: str) -> Field:
    if key in {"id", "pk"}:
        return Column(columns.id, int, "int")
    if key in {"uuid", "label", "type_string", "description"}:
        return Column(columns[key], str, "str")
    if key == "time":
        return Column(columns.time, dt.datetime, "datetime")
    raise QueryError(f"tag {tag!r}: unknown key {key!r}; groups take {', '.join(GROUP_KEYS)}")


def node_from_values(values: dict[str, Any]) -> Node:
    """A ``Node`` (of its stored class) from the columns of its row."""
    row = DbNode(**{name: values[name] for name in _NODE_COLUMNS})
    return Node._from_row(row)


def group_from_values(values: dict[str, Any]) -> Group:
    """A ``Group`` from the columns of its row."""
    return Group(values["label"], values["type_string"])


def decode_projected(key: str, value: Any) -> Any:
    """A projected value as Python: attribute paths arrive as JSON text."""
    if (key == "attributes" or key.startswith("attributes.")) and isinstance(value, str):
        return json.loads(value)
    return value


def group_membership() -> FromClause:
    """A new alias of the group membership table."""
    return group_node.alias()


def link_alias() -> FromClause:
    """A new alias of the link table."""
    return DbLink.__table__.alias()

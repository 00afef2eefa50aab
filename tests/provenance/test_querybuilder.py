"""QueryBuilder on SQLite and PostgreSQL: every key, operator, relationship and mistake.

One small provenance graph is built per backend by real processes; each test asks a question a
user would and checks the exact answer, and that it cost one SQL statement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from actors import ExitCode, Process, ProcessSpec, Runtime, workfunction
from provenance import (
    Bool,
    Data,
    Dict,
    Float,
    Group,
    Int,
    LinkType,
    MultipleObjectsError,
    Node,
    NotExistentError,
    ProcessNode,
    QueryBuilder,
    QueryError,
    Str,
    WorkCalculation,
)
from provenance.storage import Storage


@workfunction
def add(a: Int, b: Int) -> Int:
    """Sum."""
    return Int(a.value + b.value)


@workfunction
def negate_more(x: Int) -> Float:
    """A negative float: -(x + 3)."""
    return Float(-(x.value + 3.0))


class Square(Process):
    """Squares a non-negative Int; refuses a negative one with exit status 300."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """One Int in, its square out; 300 for a negative input."""
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.output("y", valid_type=Int, required=False)
        spec.exit_code(300, "ERROR_NEGATIVE", "the value was negative")

    def run(self) -> ExitCode | None:
        """Square, or refuse."""
        if self.inputs.x.value < 0:
            return self.exit_codes.ERROR_NEGATIVE
        self.out("y", Int(self.inputs.x.value**2))
        return None


@dataclass(frozen=True)
class Graph:
    """What was stored, by role."""

    storage: Storage
    one: Int
    two: Int
    three: Int
    add: ProcessNode
    negate: ProcessNode
    minus_six: Float
    square_ok: ProcessNode
    square_failed: ProcessNode
    text: Str
    upper: Str
    nested: Dict
    flag: Bool
    start: dt.datetime


def _stored_process(node: Node) -> ProcessNode:
    assert isinstance(node, ProcessNode)
    return node


def _build(rt: Runtime) -> Graph:
    start = dt.datetime.now(dt.UTC)
    one, two = Int(1, label="one"), Int(2, label="two", description="the second")
    three, add_node = rt.run_get_node(add, one, two)
    minus_six, negate_node = rt.run_get_node(negate_more, three)
    _out, ok = rt.run_get_node(Square, x=Int(4))
    _out, failed = rt.run_get_node(Square, x=Int(-4))
    text = Str("abc", label="lower").store()
    upper = Str("ABC", label="upper").store()
    nested = Dict({"a": {"b": 5, "c": "x"}, "n": None}).store()
    flag = Bool(True).store()
    group, _created = Group.get_or_create("favourites")
    group.add_nodes([one, text])
    return Graph(
        storage=rt.storage,
        one=one,
        two=two,
        three=three,
        add=_stored_process(add_node),
        negate=_stored_process(negate_node),
        minus_six=minus_six,
        square_ok=_stored_process(ok),
        square_failed=_stored_process(failed),
        text=text,
        upper=upper,
        nested=nested,
        flag=flag,
        start=start,
    )


@pytest.fixture
def graph(any_runtime: Runtime) -> Graph:
    """The graph, on each backend, with its runtime open."""
    return _build(any_runtime)


@contextmanager
def statements(storage: Storage) -> Iterator[list[str]]:
    """Collect the queries (not BEGIN or PRAGMA) run on the read engine in the block."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        if args[2].lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append(args[2])

    sa.event.listen(storage.read_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(storage.read_engine, "before_cursor_execute", record)


def pks(qb: QueryBuilder) -> set[int]:
    """The pks of the nodes a one-vertex query finds."""
    return {node.pk for node in qb.all(flat=True)}


def pk(node: Node) -> int:
    assert node.pk is not None
    return node.pk


# Keys.


def test_id_pk_and_uuid_find_one_node(graph: Graph) -> None:
    for key, value in [("id", pk(graph.one)), ("pk", pk(graph.one)), ("uuid", graph.one.uuid)]:
        assert pks(QueryBuilder().append(Node, filters={key: value})) == {pk(graph.one)}


def test_label_description_and_node_type_are_columns(graph: Graph) -> None:
    assert pks(QueryBuilder().append(Int, filters={"label": "one"})) == {pk(graph.one)}
    assert pks(QueryBuilder().append(Node, filters={"description": "the second"})) == {
        pk(graph.two)
    }
    assert pks(QueryBuilder().append(Node, filters={"node_type": "data.str"})) == {
        pk(graph.text),
        pk(graph.upper),
    }


def test_ctime_and_mtime_compare_with_aware_and_naive_datetimes(graph: Graph) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    everything = QueryBuilder().append(Node).count()
    assert QueryBuilder().append(Node, filters={"ctime": {">=": graph.start}}).count() == everything
    assert QueryBuilder().append(Node, filters={"ctime": {">": later}}).count() == 0
    naive_later = later.replace(tzinfo=None)
    assert QueryBuilder().append(Node, filters={"mtime": {"<": naive_later}}).count() == everything


def test_process_type_is_the_class_path(graph: Graph) -> None:
    found = QueryBuilder().append(ProcessNode, filters={"process_type": Square.class_path()})
    assert pks(found) == {pk(graph.square_ok), pk(graph.square_failed)}
    by_class = QueryBuilder().append(Square)
    assert pks(by_class) == {pk(graph.square_ok), pk(graph.square_failed)}
    assert pks(QueryBuilder().append(add)) == {pk(graph.add)}


def test_attributes_filter_by_value_and_by_nested_keys(graph: Graph) -> None:
    failed = QueryBuilder().append(ProcessNode, filters={"attributes.exit_status": 300})
    assert pks(failed) == {pk(graph.square_failed)}
    nested = QueryBuilder().append(Dict, filters={"attributes.dict.a.b": 5})
    assert pks(nested) == {pk(graph.nested)}
    assert pks(QueryBuilder().append(Dict, filters={"attributes.dict.a.c": "x"})) == {
        pk(graph.nested)
    }
    assert pks(QueryBuilder().append(Dict, filters={"attributes.dict.n": None})) == {
        pk(graph.nested)
    }
    assert pks(QueryBuilder().append(Node, filters={"attributes.value": True})) == {pk(graph.flag)}


def test_a_number_filter_skips_values_of_other_json_types(graph: Graph) -> None:
    # Str("abc") has an attribute "value" too: it must neither match nor make the cast fail.
    below = QueryBuilder().append(Node, filters={"attributes.value": {"<": -4.5}})
    assert pks(below) == {pk(graph.minus_six)}
    assert pks(QueryBuilder().append(Data, filters={"attributes.value": {">": 100}})) == set()


# Operators.


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"==": 2}, {"two"}),
        ({"!=": 2}, {"one", "three", "four", "minus_four", "sixteen"}),
        ({">": 3}, {"four", "sixteen"}),
        ({"<": 1}, {"minus_four"}),
        ({">=": 3}, {"three", "four", "sixteen"}),
        ({"<=": 1}, {"one", "minus_four"}),
        ({"in": [1, 16, 99]}, {"one", "sixteen"}),
        ({"!in": [1, 2, 3]}, {"four", "minus_four", "sixteen"}),
        ({"and": [{">": 1}, {"<": 4}]}, {"two", "three"}),
        ({"or": [{"<": 0}, {">": 10}]}, {"minus_four", "sixteen"}),
        ({"~": {">": 1}}, {"one", "minus_four"}),
        ({"~in": [1, 2]}, {"three", "four", "minus_four", "sixteen"}),
        ({">": 0, "<": 3}, {"one", "two"}),
    ],
    ids=str,
)
def test_each_operator_on_an_attribute(
    graph: Graph, spec: dict[str, Any], expected: set[str]
) -> None:
    names = {
        pk(graph.one): "one",
        pk(graph.two): "two",
        pk(graph.three): "three",
    }
    others = {4: "four", -4: "minus_four", 16: "sixteen"}
    for node in QueryBuilder().append(Int).all(flat=True):
        if node.pk not in names:
            names[node.pk] = others[node.value]
    found = QueryBuilder().append(Int, filters={"attributes.value": spec}).all(flat=True)
    assert {names[node.pk] for node in found} == expected


def test_like_is_case_sensitive_and_ilike_is_not(graph: Graph) -> None:
    assert pks(QueryBuilder().append(Str, filters={"attributes.value": {"like": "a%"}})) == {
        pk(graph.text)
    }
    assert pks(QueryBuilder().append(Str, filters={"attributes.value": {"ilike": "a_c"}})) == {
        pk(graph.text),
        pk(graph.upper),
    }
    assert pks(QueryBuilder().append(Str, filters={"label": {"like": "UP%"}})) == set()
    assert pks(QueryBuilder().append(Str, filters={"label": {"ilike": "UP%"}})) == {pk(graph.upper)}
    assert pks(QueryBuilder().append(Str, filters={"label": {"!like": "up%"}})) == {pk(graph.text)}
    assert pks(QueryBuilder().append(Str, filters={"label": {"~ilike": "UP%"}})) == {pk(graph.text)}


def test_top_level_or_and_negation_combine_keys(graph: Graph) -> None:
    either = QueryBuilder().append(
        Node, filters={"or": [{"label": "one"}, {"attributes.value": "ABC"}]}
    )
    assert pks(either) == {pk(graph.one), pk(graph.upper)}
    neither = QueryBuilder().append(Str, filters={"~": {"label": "upper"}})
    assert pks(neither) == {pk(graph.text)}
    both = QueryBuilder().append(Int, filters={"and": [{"label": "one"}, {"id": pk(graph.one)}]})
    assert pks(both) == {pk(graph.one)}


def test_a_negation_matches_nodes_without_the_attribute(graph: Graph) -> None:
    not_failed = QueryBuilder().append(ProcessNode, filters={"attributes.exit_status": {"!=": 300}})
    assert pk(graph.square_failed) not in pks(not_failed)
    assert pks(not_failed) == {pk(graph.add), pk(graph.negate), pk(graph.square_ok)}


# Relationships.


def test_the_issue_example_outputs_of_processes_below_a_value(graph: Graph) -> None:
    qb = QueryBuilder()
    qb.append(ProcessNode, tag="p", filters={"ctime": {">": graph.start}}, project=["id", "label"])
    qb.append(Float, with_incoming="p", filters={"attributes.value": {"<": -2.9}}, project="*")
    [[process_pk, label, node]] = qb.all()
    assert (process_pk, label) == (pk(graph.negate), "")
    assert isinstance(node, Float)
    assert node.value == -6.0


def test_with_incoming_and_with_outgoing_follow_one_link(graph: Graph) -> None:
    inputs = QueryBuilder().append(WorkCalculation, tag="p", filters={"id": pk(graph.add)})
    inputs.append(Int, with_outgoing="p", project="id")
    assert set(inputs.all(flat=True)) == {pk(graph.one), pk(graph.two)}
    outputs = QueryBuilder().append(Node, tag="n", filters={"id": pk(graph.three)})
    outputs.append(ProcessNode, with_incoming="n", project="id")
    assert outputs.all(flat=True) == [pk(graph.negate)]


def test_edge_filters_on_link_type_and_label_and_edge_projections(graph: Graph) -> None:
    qb = QueryBuilder().append(WorkCalculation, tag="p", filters={"id": pk(graph.add)})
    qb.append(
        Int,
        with_outgoing="p",
        edge_filters={"type": LinkType.INPUT, "label": "b"},
        project="id",
        edge_project=["label", "type"],
    )
    assert qb.all() == [[pk(graph.two), "b", "input"]]
    created = QueryBuilder().append(ProcessNode, tag="p")
    created.append(Node, with_incoming="p", edge_filters={"link_type": {"in": ["create"]}})
    assert pk(graph.three) in pks_of_last(created)
    assert pk(graph.one) not in pks_of_last(created)
    assert created.dict()[0].keys() == {"Node"}


def pks_of_last(qb: QueryBuilder) -> set[int]:
    """The pks of the nodes in the last column."""
    return {row[-1].pk for row in qb.all()}


def test_with_ancestors_and_with_descendants_walk_the_whole_graph(graph: Graph) -> None:
    descendants = QueryBuilder().append(Int, tag="start", filters={"id": pk(graph.one)})
    descendants.append(Node, with_ancestors="start", project="id")
    assert set(descendants.all(flat=True)) == {
        pk(graph.add),
        pk(graph.three),
        pk(graph.negate),
        pk(graph.minus_six),
    }
    ancestors = QueryBuilder().append(Float, tag="end", filters={"id": pk(graph.minus_six)})
    ancestors.append(Node, with_descendants="end", project="id")
    assert set(ancestors.all(flat=True)) == {
        pk(graph.negate),
        pk(graph.three),
        pk(graph.add),
        pk(graph.one),
        pk(graph.two),
    }


def test_with_group_and_with_node_go_through_memberships(graph: Graph) -> None:
    members = QueryBuilder().append(Group, tag="g", filters={"label": "favourites"})
    members.append(Node, with_group="g", project="id")
    assert set(members.all(flat=True)) == {pk(graph.one), pk(graph.text)}
    holding = QueryBuilder().append(Str, tag="s", filters={"id": pk(graph.text)})
    holding.append(Group, with_node="s", project=["label", "*"])
    [[label, group]] = holding.all()
    assert label == "favourites"
    assert isinstance(group, Group)
    assert group.label == "favourites"


# Results.


def test_first_one_count_limit_offset_and_order(graph: Graph) -> None:
    ints = QueryBuilder().append(Int, project="id").order_by({"Int": [{"id": {"order": "desc"}}]})
    every = ints.all(flat=True)
    assert every == sorted(every, reverse=True)
    assert ints.count() == len(every)
    assert ints.first() == [every[0]]
    assert ints.first(flat=True) == every[0]
    assert (
        QueryBuilder()
        .append(Int, project="id")
        .order_by({"Int": "id"})
        .limit(2)
        .offset(1)
        .all(flat=True)
        == sorted(every)[1:3]
    )
    assert QueryBuilder().append(Int, filters={"label": "one"}, project="id").one() == [
        pk(graph.one)
    ]
    with pytest.raises(NotExistentError, match="found no row"):
        QueryBuilder().append(Int, filters={"label": "nobody"}).one()
    with pytest.raises(MultipleObjectsError, match="found several rows"):
        QueryBuilder().append(Int).one()
    assert QueryBuilder().append(Int, filters={"label": "nobody"}).first() is None


def test_iterall_streams_every_row_in_batches(graph: Graph) -> None:
    qb = QueryBuilder().append(Node, project=["id", "uuid"]).order_by({"Node": "id"})
    assert list(qb.iterall(batch_size=2)) == qb.all()


def test_projections_are_typed(graph: Graph) -> None:
    qb = QueryBuilder().append(
        Dict,
        project=["id", "uuid", "ctime", "attributes", "attributes.dict.a", "attributes.dict.a.c"],
    )
    [[node_pk, uuid, ctime, attributes, inner, text]] = qb.all()
    assert (node_pk, uuid) == (pk(graph.nested), graph.nested.uuid)
    assert isinstance(ctime, dt.datetime)
    assert ctime.utcoffset() == dt.timedelta(0)
    assert attributes == {"dict": {"a": {"b": 5, "c": "x"}, "n": None}}
    assert (inner, text) == ({"b": 5, "c": "x"}, "x")
    [[process_type]] = QueryBuilder().append(add, project="process_type").all()
    assert process_type == add.process_class.class_path()


def test_every_query_is_one_sql_statement(graph: Graph) -> None:
    qb = QueryBuilder().append(Int, tag="start", filters={"label": {"in": ["one", "two"]}})
    qb.append(Node, with_ancestors="start", tag="d", project="*")
    qb.append(Node, with_incoming="d", project="id")
    with statements(graph.storage) as seen:
        rows = qb.all()
        count = qb.count()
        first = qb.first()
        streamed = list(qb.iterall(batch_size=1))
    assert len(rows) == count == len(streamed) > 0
    assert first is not None
    assert len(seen) == 4, seen


# Mistakes.


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda qb: qb.append(Node, filters={"colour": 1}), r"tag 'Node': unknown key 'colour'"),
        (
            lambda qb: qb.append(Node, filters={"id": {"<>": 1}}),
            r"filter on 'id': unknown operator '<>'",
        ),
        (lambda qb: qb.append(Node, filters={"id": "seven"}), r"'seven' is not a int"),
        (lambda qb: qb.append(Node, filters={"ctime": {">": "yesterday"}}), "not a datetime"),
        (lambda qb: qb.append(Node, filters={"attributes.x": {"<": [1]}}), "cannot compare"),
        (lambda qb: qb.append(Node, filters={"attributes.x": {"in": 3}}), "takes a list"),
        (lambda qb: qb.append(Node, filters={"attributes.x": {"like": 3}}), "str pattern"),
        (lambda qb: qb.append(Node, filters={"attributes.x": {">": True}}), "booleans compare"),
        (lambda qb: qb.append(Node, filters={"id": {"or": []}}), "non-empty list"),
        (lambda qb: qb.append(Node, filters=["id"]), "filters must be a dict"),
        (lambda qb: qb.append(Node, project=["nope"]), "unknown key 'nope'"),
        (lambda qb: qb.append(Node, tag="a").append(Int, tag="a"), "tag 'a' is already used"),
        (lambda qb: qb.append(Node).append(Int, with_incoming="zz"), "unknown tag 'zz'"),
        (lambda qb: qb.append(Node).append(Int), "needs a relationship"),
        (lambda qb: qb.append(int), "takes a node class"),
        (
            lambda qb: qb.append(Node, tag="n").append(Int, with_group="n"),
            "with_group needs a Group vertex",
        ),
        (
            lambda qb: qb.append(Node, tag="n").append(Int, with_ancestors="n", edge_filters={}),
            "edge_filters and edge_project apply",
        ),
        (
            lambda qb: qb.append(Node, tag="n").append(
                Int, with_incoming="n", edge_filters={"colour": "red"}
            ),
            "unknown key 'colour'; edges take",
        ),
        (lambda qb: qb.append(Node).order_by({"nope": "id"}), "order_by: unknown tag 'nope'"),
        (lambda qb: qb.append(Node).order_by({"Node": {"id": "up"}}), "'asc' or 'desc'"),
        (lambda qb: qb.limit(-1), "limit takes an int from 0 to 9223372036854775807, not -1"),
        (lambda qb: qb.all(), "the query has no vertex"),
    ],
)
def test_mistakes_raise_a_query_error_naming_them(graph: Graph, build: Any, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        build(QueryBuilder())

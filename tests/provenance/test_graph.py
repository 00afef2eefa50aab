"""The provenance graph around a node: breadth-first neighbourhood and its dot rendering."""

from __future__ import annotations

import pytest

from actors import Runtime, workfunction
from provenance import Int, NotExistentError
from provenance.graph import neighbourhood, to_dot


@workfunction
def add(a: Int, b: Int) -> Int:
    return Int(a.value + b.value)


@workfunction
def add_twice(a: Int, b: Int) -> Int:
    result: Int = add(add(a, b), b)
    return result


def test_depth_one_holds_a_process_with_its_inputs_and_outputs(runtime: Runtime) -> None:
    result, node = add.run_get_node(Int(1), Int(2))
    with runtime.storage.read_session() as session:
        graph = neighbourhood(session, node.pk or 0, depth=1)
    assert set(graph.nodes) == {node.pk, result.pk, *(n.pk for n in node.get_inputs())}
    assert {(edge.link_type, edge.label) for edge in graph.edges} == {
        ("input", "a"),
        ("input", "b"),
        ("create", "_return"),
    }


def test_depth_zero_is_the_node_alone_and_more_depth_reaches_further(runtime: Runtime) -> None:
    _result, outer = add_twice.run_get_node(Int(1), Int(2))
    with runtime.storage.read_session() as session:
        alone = neighbourhood(session, outer.pk or 0, depth=0)
        near = neighbourhood(session, outer.pk or 0, depth=1)
        far = neighbourhood(session, outer.pk or 0, depth=3)
    assert set(alone.nodes) == {outer.pk}
    assert alone.edges == []
    assert len(near.nodes) < len(far.nodes)
    called = {child.pk for child in outer.called}
    assert called <= set(far.nodes)
    assert any(edge.link_type == "call" for edge in far.edges)


def test_the_dot_text_draws_processes_as_boxes_and_data_as_ellipses(runtime: Runtime) -> None:
    _result, node = add.run_get_node(Int(4), Int(5))
    with runtime.storage.read_session() as session:
        dot = to_dot(neighbourhood(session, node.pk or 0, depth=1))
    assert dot.startswith(f"digraph provenance_{node.pk} {{")
    assert f'N{node.pk} [label="add #{node.pk}\\nfinished"' in dot
    assert "shape=box" in dot
    assert "shape=ellipse" in dot
    assert '"Int #' in dot
    assert "\\n9" in dot
    assert '[label="INPUT\\na"]' in dot
    assert dot.rstrip().endswith("}")


def test_an_unknown_pk_or_negative_depth_is_refused(runtime: Runtime) -> None:
    with runtime.storage.read_session() as session:
        with pytest.raises(NotExistentError, match="no node with pk 4242"):
            neighbourhood(session, 4242)
        with pytest.raises(ValueError, match="depth must be 0 or more"):
            neighbourhood(session, 1, depth=-1)

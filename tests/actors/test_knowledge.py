"""DefaultKnowledgeProvider answers from the database."""

from __future__ import annotations

import pytest

from actors import DefaultKnowledgeProvider, Runtime, workfunction
from actors.test_utils import DummyProcess
from provenance import Int, NotExistentError


@workfunction
def product(a, b):
    return a * b


def test_questions_about_a_finished_process_are_answered(runtime: Runtime) -> None:
    _result, node = product.run_get_node(Int(3), Int(4))
    knowledge = DefaultKnowledgeProvider()

    assert knowledge.has_finished(node.pk)
    assert knowledge.get_inputs(node.pk) == {"a": 3, "b": 4}
    assert knowledge.get_input(node.pk, "b") == 4
    assert knowledge.get_outputs(node.pk) == {"_return": 12}
    assert knowledge.get_output(node.pk, "_return") == 12


def test_pids_are_found_by_class_name_or_path(runtime: Runtime) -> None:
    pids = [product.run_get_node(Int(i), Int(1))[1].pk for i in range(3)]
    dummy = runtime.run_get_node(DummyProcess)[1].pk
    knowledge = DefaultKnowledgeProvider()

    assert knowledge.get_pids_from_classname("product") == pids
    assert knowledge.get_pids_from_classname("actors.test_utils.DummyProcess") == [dummy]
    assert knowledge.get_pids_from_classname("Nothing") == []


def test_unknown_pids_and_ports_raise_not_existent(runtime: Runtime) -> None:
    _result, node = product.run_get_node(Int(3), Int(4))
    knowledge = DefaultKnowledgeProvider()

    with pytest.raises(NotExistentError, match="no node with pk 99999"):
        knowledge.has_finished(99999)
    with pytest.raises(NotExistentError, match="has no input 'c'"):
        knowledge.get_input(node.pk, "c")
    with pytest.raises(NotExistentError, match="has no output 'nope'"):
        knowledge.get_output(node.pk, "nope")
    data_pk = node.get_inputs()[0].pk
    with pytest.raises(NotExistentError, match="is a Int, not a process"):
        knowledge.get_inputs(data_pk)

"""aiida-core's launcher tests, translated to workactors.

Origin: github.com/aiidateam/aiida-core, tests/engine/test_launch.py. workactors has no
process builders, ``run_get_pk``, ``await_processes``, dry runs or calculation jobs: those
tests are listed in tests/peers/README.md. The seed's ``run(..., _attributes=...)`` is tested
here beside them.
"""

from __future__ import annotations

import pytest

from actors import Process, Runtime, WorkChain, run, run_async, run_get_node, workfunction
from actors.spec import ProcessSpec
from actors.workchain import WorkChainSpec
from provenance import Int, ProcessState, WorkCalculation


@workfunction
def add(term_a, term_b):
    return term_a + term_b


class AddWorkChain(WorkChain):
    """aiida's work chain that adds two numbers."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.input("term_a", valid_type=Int)
        spec.input("term_b", valid_type=Int)
        spec.outline(cls.add)
        spec.output("result", valid_type=Int)

    def add(self) -> None:
        self.out("result", Int(self.inputs.term_a + self.inputs.term_b).store())


def test_calcfunction_run(runtime: Runtime) -> None:
    """TestLaunchers.test_calcfunction_run."""
    assert run(add, term_a=Int(1), term_b=Int(2)) == 3


def test_calcfunction_run_get_node(runtime: Runtime) -> None:
    """TestLaunchers.test_calcfunction_run_get_node (and test_calcfunction_run_get_pk: the
    pk is ``node.pk``)."""
    result, node = run_get_node(add, term_a=Int(1), term_b=Int(2))

    assert result == 3
    assert isinstance(node, WorkCalculation)
    assert isinstance(node.pk, int)


def test_workchain_run(runtime: Runtime) -> None:
    """TestLaunchers.test_workchain_run."""
    assert run(AddWorkChain, term_a=Int(1), term_b=Int(2))["result"] == 3


def test_workchain_run_get_node(runtime: Runtime) -> None:
    """TestLaunchers.test_workchain_run_get_node (and test_workchain_run_get_pk)."""
    result, node = run_get_node(AddWorkChain, term_a=Int(1), term_b=Int(2))

    assert result["result"] == 3
    assert isinstance(node, WorkCalculation)
    assert isinstance(node.pk, int)


def test_workchain_run_async(runtime: Runtime) -> None:
    """The future of ``run_async`` gives what ``run`` returns (aiida's runner.submit +
    future)."""
    assert run_async(AddWorkChain, term_a=Int(1), term_b=Int(2)).result(timeout=30)["result"] == 3


def test_submit_without_daemon(runtime: Runtime) -> None:
    """test_submit_without_daemon: aiida refuses to submit when no daemon runs; workactors
    queues the process (its node CREATED, its checkpoint in the running folder) for whichever
    daemon starts next, a deliberate difference that lets a script submit before
    `workactors daemon start`."""
    node = runtime.submit(AddWorkChain, term_a=Int(1), term_b=Int(2))

    assert node.process_state is ProcessState.CREATED
    assert any(str(node.pk) in path.name for path in runtime.running_directory.iterdir())


class Plain(Process):
    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.input("x", valid_type=Int)

    def run(self) -> None:
        pass


def test_run_with_attributes(runtime: Runtime) -> None:
    """The seed's ``run(process_class, *args, _attributes=None, **inputs)``: the attributes are
    stored on the process node ("only for process")."""
    _, node = run_get_node(Plain, x=Int(1), _attributes={"origin": "seed"})

    assert node.attributes["origin"] == "seed"
    assert node.get_inputs_dict() == {"x": Int(1)}


def test_run_with_attributes_for_a_workfunction_is_refused(runtime: Runtime) -> None:
    """``_attributes`` are for process classes only (the seed)."""
    with pytest.raises(TypeError, match="Process class only"):
        run(add, Int(1), Int(2), _attributes={"origin": "seed"})

"""The state machine is a table: every allowed move works, every other one raises."""

from __future__ import annotations

import itertools

import pytest

from actors import TRANSITIONS, ProcessState, TransitionError
from actors.states import StateMachine


@pytest.mark.parametrize(("source", "target"), list(itertools.product(ProcessState, ProcessState)))
def test_a_transition_is_allowed_exactly_when_the_table_lists_it(
    source: ProcessState, target: ProcessState
) -> None:
    machine = StateMachine(source)

    if target in TRANSITIONS[source]:
        machine.transition_to(target)
        assert machine.state is target
    else:
        with pytest.raises(TransitionError, match=f"{source.name} cannot become {target.name}"):
            machine.transition_to(target)
        assert machine.state is source


def test_terminal_states_are_those_without_transitions() -> None:
    terminal = {state for state in ProcessState if StateMachine(state).is_terminal}

    assert terminal == {ProcessState.FINISHED, ProcessState.EXCEPTED, ProcessState.KILLED}
    assert all(state.is_terminal for state in terminal)


def test_a_new_machine_starts_created() -> None:
    assert StateMachine().state is ProcessState.CREATED

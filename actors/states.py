"""The process state machine as data: one table of allowed transitions."""

from __future__ import annotations

from types import MappingProxyType

from actors.errors import TransitionError
from provenance.process_state import ProcessState

_S = ProcessState

#: Which states may follow each state; a state with none is terminal.
TRANSITIONS: MappingProxyType[ProcessState, frozenset[ProcessState]] = MappingProxyType(
    {
        _S.CREATED: frozenset({_S.RUNNING, _S.EXCEPTED, _S.KILLED}),
        _S.RUNNING: frozenset({_S.RUNNING, _S.WAITING, _S.FINISHED, _S.EXCEPTED, _S.KILLED}),
        _S.WAITING: frozenset({_S.RUNNING, _S.EXCEPTED, _S.KILLED}),
        _S.FINISHED: frozenset(),
        _S.EXCEPTED: frozenset(),
        _S.KILLED: frozenset(),
    }
)


class StateMachine:
    """The current state of one process; moves only along ``TRANSITIONS``."""

    __slots__ = ("_state",)

    def __init__(self, state: ProcessState = ProcessState.CREATED) -> None:
        self._state = state

    @property
    def state(self) -> ProcessState:
        """The current state."""
        return self._state

    @property
    def is_terminal(self) -> bool:
        """True once no transition is left."""
        return not TRANSITIONS[self._state]

    def transition_to(self, target: ProcessState) -> None:
        """Move to ``target``.

        Raises:
            TransitionError: if ``target`` may not follow the current state.
        """
        if target not in TRANSITIONS[self._state]:
            raise TransitionError(
                f"a process in state {self._state.name} cannot become {target.name}"
            )
        self._state = target

"""``CheckpointStore``: all the engine asks of wherever durable processes' checkpoints live.

The engine (``actors``) speaks to this protocol only, so a store that keeps checkpoints in files
(``PicklePersistence``), in memory (``InMemoryStore``) or in a database plugs in without a change
there. One store object is one *holder*: a process it holds (launched and held, or loaded) is
loaded by no other store object, in this OS process or another, until it is released or retired.

A ``Notifier`` is how whoever adopts checkpoints learns that one was submitted: the daemon's
sockets for a home, a database NOTIFY for a shared database, a callback in tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from provenance.fencing import Fence

if TYPE_CHECKING:
    from persistence.messages import Intent  # msgpack: not imported by a runtime without a store

T = TypeVar("T")

#: Called with the pid and the reason when a checkpoint is refused on load (e.g. to mark the node).
UnreadableHook = Callable[[int, str], None]


class CheckpointStore(Protocol):
    """Saves, claims, hands over and retires process checkpoints, and keeps control intents."""

    #: Told about every checkpoint refused on load; set by the runtime that owns the store.
    on_unreadable: UnreadableHook | None

    def save_state(self, pid: int, class_path: str, state: Mapping[str, Any]) -> str:
        """Write the checkpoint of ``pid`` (under its hold, or a brief one); a terminal state
        retires it to finished or failed and ends the hold. Return where it is.

        Raises:
            CheckpointEncodeError: the state cannot be serialised; the old checkpoint stays.
            CheckpointWriteError: the write failed; the old checkpoint stays.
            LockTimeoutError: another holder kept ``pid`` too long.
        """

    def save_states(
        self, items: Sequence[tuple[int, str, Mapping[str, Any]]]
    ) -> list[str | Exception]:
        """``save_state`` of each ``(pid, class_path, state)`` (each pid once), as one group
        commit where the store can; per item, where it is or the error ``save_state`` would
        have raised. An item that succeeded is exactly as durable as after ``save_state``."""

    def save_new_states(self, items: Sequence[tuple[int, str, Mapping[str, Any]]]) -> list[str]:
        """Write the first checkpoints of new processes nobody holds (each pid once), all or
        none: no adopter loads one of them before all are durable. Per item, where it is.

        Raises:
            CheckpointEncodeError: a state cannot be serialised; nothing was written.
            CheckpointWriteError: a write failed; none of the checkpoints is left.
            LockTimeoutError: another holder kept a pid too long; none is left.
        """

    def hold(self, pid: int) -> None:
        """Claim ``pid``, launched here, as if it had been loaded.

        Raises:
            LockedError: if this store holds it already.
            LockTimeoutError: if another holder still has it after the store's timeout.
        """

    def release(self, pid: int) -> bool:
        """End the hold of ``pid``, leaving its checkpoint for another holder; False if not held."""

    def release_all(self) -> None:
        """End every hold of this store (a worker shutting down)."""

    def has_checkpoint(self, pid: int) -> bool:
        """True if ``pid`` has a checkpoint that has not been retired."""

    def take_over(self, pid: int) -> Any:
        """Load and hold the process of ``pid``'s running checkpoint.

        Raises:
            CheckpointMissingError: if it has none (it ended, or never had one).
            LockedError: if a holder (this store included) has it.
            CheckpointError: if the checkpoint is refused; it stays where it is.
        """

    def load_all_processes(self) -> list[Any]:
        """Load and hold the process of every running checkpoint nobody holds (adoption).

        A refused checkpoint is retired as failed and reported to ``on_unreadable``; one left
        terminal by a crash is retired, not returned; one that fails on a database error is
        left for a later attempt.
        """

    def mark_finished(self, pid: int) -> str:
        """Retire ``pid``'s running checkpoint as finished and end its hold.

        Raises:
            CheckpointMissingError: if it has no running checkpoint.
        """

    def mark_failed(self, pid: int, reason: str) -> str:
        """Retire ``pid``'s running checkpoint as failed, with ``reason``, and end its hold.

        Raises:
            CheckpointMissingError: if it has no running checkpoint.
        """

    def record_intent(self, pid: int, intent: Intent) -> None:
        """Keep ``intent`` for whoever next adopts ``pid`` (the last one recorded wins)."""

    def take_intent(self, pid: int) -> Intent | None:
        """Remove and return the intent kept for ``pid``, if any."""

    def fence(self, pid: int) -> Fence | None:
        """The check that this store still holds ``pid``, for provenance writes made for it in
        the provenance database's transaction; None where holds cannot end behind the holder's
        back (files, memory)."""


class Notifier(Protocol):
    """Wakes whoever adopts the checkpoints of a store."""

    def submitted(self, pid: int) -> None:
        """A checkpoint nobody holds was written for ``pid``: adopt it. Never raises.

        Woken, an adopter adopts every checkpoint nobody holds, so one call stands for all
        the checkpoints written together (``Runtime.queue_up_many`` names the last pid).
        """


class NoNotifier:
    """For a store nobody else watches: the runtime that submits adopts itself, or nobody."""

    def submitted(self, pid: int) -> None:
        """Nothing to wake."""

    def __repr__(self) -> str:
        return "NoNotifier()"


def outcome_of(call: Callable[[], T]) -> T | Exception:
    """What ``call`` returns, or the ``Exception`` it raised (one item of ``save_states``)."""
    try:
        return call()
    except Exception as exc:
        return exc


def unwrap(outcome: T | Exception) -> T:
    """The value of one outcome of a batch (``outcome_of``), or its error raised."""
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def save_each(
    store: CheckpointStore, items: Sequence[tuple[int, str, Mapping[str, Any]]]
) -> list[str | Exception]:
    """``save_states`` for a store without a group commit: one ``save_state`` after another."""
    return [
        outcome_of(partial(store.save_state, pid, class_path, state))
        for pid, class_path, state in items
    ]

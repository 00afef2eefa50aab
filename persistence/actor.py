"""The persistence actor: the single writer of checkpoints.

Process actors ``tell`` it a ``SaveCheckpoint`` after each step. Checkpoints of one pid that wait
in its mailbox together are coalesced: only the newest is written, and the reply of every one of
them is resolved with that write's outcome (a later state supersedes an earlier one). It writes
what it has gathered as soon as its mailbox is empty, or after ``MAX_COALESCED`` messages, so a
busy mailbox delays a checkpoint by a bounded amount. The checkpoints of all the pids gathered
are written together (``CheckpointStore.save_states``: one folder fsync, or one transaction, for
all of them), so that while one batch is being made durable the next one gathers: a group
commit, whose cost per checkpoint falls as the load rises. Errors of one write go to the replies of
that pid only (or to the log when nobody waits); the actor keeps serving other processes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import pykka

from persistence.errors import PersistenceError
from persistence.store import CheckpointStore, unwrap
from provenance.log import get_logger

log = get_logger(__name__)

T = TypeVar("T")

#: Messages absorbed into pending checkpoints before they are written even if more wait.
MAX_COALESCED = 100


@dataclass(frozen=True, slots=True)
class SaveCheckpoint:
    """Write the checkpoint of ``pid``; reply the path it is at.

    ``state`` is pickled later, on the actor's thread: send a snapshot the sender will not
    change (``save_instance_state`` builds new containers; copy mutable values it shares).
    A terminal state retires the checkpoint to ``finished/`` or ``failed/``.
    """

    pid: int
    class_path: str
    state: Mapping[str, Any]
    reply: Future[str] | None = None


@dataclass(frozen=True, slots=True)
class Release:
    """Write what is pending, then release the lock of ``pid``; reply whether it was held."""

    pid: int
    reply: Future[bool] | None = None


@dataclass(frozen=True, slots=True)
class MarkFailed:
    """Write what is pending, then retire ``pid``'s checkpoint to ``failed/`` with ``reason``."""

    pid: int
    reason: str
    reply: Future[str] | None = None


@dataclass(frozen=True, slots=True)
class Sync:
    """Reply once every checkpoint sent before this message is written."""

    reply: Future[None]


@dataclass(slots=True)
class _Pending:
    """The newest state of one pid and everyone waiting for it to be written."""

    class_path: str
    state: Mapping[str, Any]
    replies: list[Future[str]] = field(default_factory=list)


class PersistenceActor(pykka.ThreadingActor):
    """Writes checkpoints into one ``CheckpointStore``, coalescing them per pid.

    ``before_write`` is called before each batch is written and must return only once
    everything the senders wrote elsewhere before telling their checkpoints is durable (the
    runtime passes the provenance backend's ``make_durable``): one call per batch gives every
    checkpoint the order "its provenance on disk, then the checkpoint written" that each
    sender would otherwise have to wait for on its own. If it raises, the whole batch fails
    with its error and nothing is written.
    """

    #: Daemon threads let the interpreter reach atexit, where the runtime shuts down cleanly.
    use_daemon_thread = True

    def __init__(
        self, store: CheckpointStore, *, before_write: Callable[[], None] | None = None
    ) -> None:
        super().__init__()
        self._store = store
        self._before_write = before_write
        self._pending: dict[int, _Pending] = {}
        self._absorbed = 0

    def on_stop(self) -> None:
        """Write what is pending (runs on the actor's thread)."""
        self._write_pending()

    def on_failure(self, *_exc_info: object) -> None:
        """Fail every waiting caller rather than leave it hanging (runs on the actor's thread)."""
        pending, self._pending = self._pending, {}
        error = PersistenceError("the persistence actor stopped after an unexpected error")
        for entry in pending.values():
            for reply in entry.replies:
                _fail(reply, error)

    def on_receive(self, message: Any) -> None:
        """Gather checkpoints; write them when the mailbox is empty or enough have gathered."""
        match message:
            case SaveCheckpoint(pid=pid, class_path=class_path, state=state, reply=reply):
                self._gather(pid, class_path, state, reply)
            case Release(pid=pid, reply=reply):
                self._write_pending()
                _deliver(_replies(reply), partial(self._store.release, pid), pid, "release")
            case MarkFailed(pid=pid, reason=reason, reply=reply):
                self._write_pending()
                _deliver(
                    _replies(reply), partial(self._store.mark_failed, pid, reason), pid, "fail"
                )
            case Sync(reply=reply):
                self._write_pending()
                _succeed(reply, None)
            case _:
                log.warning("persistence.unknown_message", message=repr(message))
        if self._pending and (self.actor_inbox.empty() or self._absorbed >= MAX_COALESCED):
            self._write_pending()

    def _gather(
        self, pid: int, class_path: str, state: Mapping[str, Any], reply: Future[str] | None
    ) -> None:
        entry = self._pending.get(pid)
        if entry is None:
            entry = self._pending[pid] = _Pending(class_path, state)
        else:
            entry.class_path, entry.state = class_path, state
        if reply is not None:
            entry.replies.append(reply)
        self._absorbed += 1

    def _write_pending(self) -> None:
        """Write every pending checkpoint as one group commit (``save_states``), then answer
        each pid's callers with its own outcome: nobody is told before their write is durable."""
        pending, self._pending = self._pending, {}
        self._absorbed = 0
        if not pending:
            return
        items = [(pid, entry.class_path, entry.state) for pid, entry in pending.items()]
        try:
            if self._before_write is not None:
                self._before_write()
            outcomes = self._store.save_states(items)
        except Exception as exc:  # not one write's failure: everyone in the batch hears of it
            outcomes = [exc] * len(items)
        for (pid, entry), outcome in zip(pending.items(), outcomes, strict=True):
            _deliver(entry.replies, partial(unwrap, outcome), pid, "save")


def _replies(reply: Future[T] | None) -> list[Future[T]]:
    return [] if reply is None else [reply]


def _deliver(replies: Sequence[Future[T]], call: Callable[[], T], pid: int, action: str) -> None:
    """Run ``call`` and give its result or error to ``replies``; log the error if none waits."""
    try:
        value = call()
    except Exception as exc:
        if not replies:
            log.error("persistence.action_failed", pid=pid, action=action, error=str(exc))
        for reply in replies:
            _fail(reply, exc)
        return
    for reply in replies:
        _succeed(reply, value)


def _succeed(reply: Future[T], value: T) -> None:
    if not reply.done():
        reply.set_result(value)


def _fail(reply: Future[Any], error: BaseException) -> None:
    if not reply.done():
        reply.set_exception(error)

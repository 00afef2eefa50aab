"""The messages a ``ProvenanceActor`` handles, and what it shares with its backend."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from provenance.fencing import Fence
from provenance.records import WriteOp
from provenance.runtime_rows import Heartbeat

if TYPE_CHECKING:
    from provenance.actor import ProvenanceActor
    from provenance.wal_durability import WalDurability

T = TypeVar("T")


class Reply(Generic[T]):
    """The one answer a writer waits for: a value or an error, set once by the actor.

    A ``concurrent.futures.Future`` would do, but it builds a condition, a callback list and a
    waiter list that a reply never uses, and a blocking run waits for two replies: that cost
    about as much as one of its inserts. Here a lock, held from creation until the answer is
    set, is all the waiting. Only the actor sets answers, under its own lock; ``done`` reads a
    flag, not the lock, which a waiter holds for an instant while it reads the answer.
    """

    __slots__ = ("_answered", "_done", "_error", "_value")

    def __init__(self) -> None:
        self._answered = threading.Lock()
        self._answered.acquire()
        self._done = False
        self._value: Any = None
        self._error: BaseException | None = None

    def done(self) -> bool:
        """True once answered."""
        return self._done

    def set_result(self, value: T) -> None:
        """Answer with ``value``.

        Raises:
            RuntimeError: if it was answered already.
        """
        self._answer(value, None)

    def set_exception(self, error: BaseException) -> None:
        """Answer with ``error``, raised to the waiter.

        Raises:
            RuntimeError: if it was answered already.
        """
        self._answer(None, error)

    def _answer(self, value: Any, error: BaseException | None) -> None:
        if self._done:
            raise RuntimeError("this reply was answered already")
        self._value, self._error = value, error
        self._done = True
        self._answered.release()

    def result(self, timeout: float | None = None) -> T:
        """Wait for the answer (``timeout`` seconds at most, if given).

        Raises:
            TimeoutError: if no answer came in time.
            BaseException: the error the actor answered with.
        """
        if not self._done:
            if not self._answered.acquire(timeout=-1 if timeout is None else timeout):
                raise TimeoutError(f"the provenance actor did not answer within {timeout} s")
            self._answered.release()  # answered for good: another waiter returns at once too
        if self._error is not None:
            raise self._error
        value: T = self._value
        return value


@dataclass(frozen=True, slots=True)
class Write:
    """Apply ``ops`` in order, all or nothing; reply ``{uuid: pk}`` of the new nodes.

    The reply comes once committed, or with ``durable=False`` as soon as the ops are applied
    (a later commit failure then surfaces to whoever waits on a durable write).
    """

    ops: tuple[WriteOp, ...]
    reply: Reply[dict[str, int]] | None = None
    durable: bool = True
    #: The claim the write is made under: checked (and locked) in the write's transaction.
    fence: Fence | None = None
    #: Its place in what the backend sent (``Watermark``); 0 for a write sent by hand.
    seq: int = 0


@dataclass(frozen=True, slots=True)
class Flush:
    """Commit what waited ``COMMIT_DELAY`` for company."""


@dataclass(frozen=True, slots=True)
class Sync:
    """Reply once everything sent before this message is committed."""

    reply: Reply[None]
    seq: int = 0


@dataclass(frozen=True, slots=True)
class RuntimeBeat:
    """Write a runtime's row of ``wa_runtime`` (``provenance.runtime_rows``), committing what
    was applied before it first; reply None once committed."""

    heartbeat: Heartbeat
    reply: Reply[None] | None = None
    seq: int = 0


class Watermark:
    """What a ``ProvenanceActor`` shares with its backend: how far the messages the backend
    sent in order (``seq``) are committed and whether anything applied is not, so that a
    reader with nothing to wait for needs no ``Sync`` round trip to read its writes; and the
    actor itself, which serves a waiting writer on the writer's thread (``serve_now``); and,
    on SQLite, the counter of its commits that makes them durable before a checkpoint."""

    def __init__(self) -> None:
        self.committed = 0
        self.dirty = False
        self.actor: ProvenanceActor | None = None
        self.durability: WalDurability | None = None


__all__ = ["Flush", "Reply", "RuntimeBeat", "Sync", "Watermark", "Write"]

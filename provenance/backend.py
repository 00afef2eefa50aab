"""How nodes reach the provenance store without knowing which runtime runs them.

``provenance`` does not import ``actors``: the runtime installs a provider here, and nodes ask
it for the backend of the runtime in use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import pykka

from provenance.actor_messages import Reply, RuntimeBeat, Sync, Watermark, Write
from provenance.errors import NoBackendError, StorageError
from provenance.fencing import Fence
from provenance.records import WriteOp
from provenance.runtime_rows import Heartbeat
from provenance.storage import Storage

WRITE_TIMEOUT = 120.0


class ProvenanceBackend(Protocol):
    """What nodes need: a storage to read from and a way to write through the provenance actor."""

    @property
    def storage(self) -> Storage:
        """The database to read from."""
        ...

    def write(self, ops: Sequence[WriteOp]) -> Mapping[str, int]:
        """Write ``ops`` and return ``{uuid: pk}`` of the new nodes once committed."""
        ...

    def write_nowait(self, ops: Sequence[WriteOp]) -> None:
        """Queue ``ops``; errors are logged by the provenance actor."""
        ...

    def sync(self) -> None:
        """Return once everything written before is committed."""
        ...


class ActorBackend:
    """The calling side of a ``ProvenanceActor`` (given the same ``watermark``, if any)."""

    def __init__(
        self,
        storage: Storage,
        actor: pykka.ActorRef[pykka.ThreadingActor],
        watermark: Watermark | None = None,
    ) -> None:
        self._storage = storage
        self._actor = actor
        self._watermark = watermark
        self._sent = 0
        self._order = threading.Lock()

    @property
    def storage(self) -> Storage:
        """The database to read from."""
        return self._storage

    def write(self, ops: Sequence[WriteOp], fence: Fence | None = None) -> Mapping[str, int]:
        """Write ``ops`` (if ``fence`` holds) and wait until they are committed.

        Raises:
            FencedError: if ``fence`` no longer holds; nothing was written.
        """
        reply: Reply[dict[str, int]] = Reply()
        self._send(lambda seq: Write(tuple(ops), reply, fence=fence, seq=seq))
        return reply.result(timeout=WRITE_TIMEOUT)

    def write_applied(self, ops: Sequence[WriteOp]) -> Mapping[str, int]:
        """Write ``ops`` and wait until they are applied, not committed: for new pks."""
        reply: Reply[dict[str, int]] = Reply()
        self._send(lambda seq: Write(tuple(ops), reply, durable=False, seq=seq))
        return reply.result(timeout=WRITE_TIMEOUT)

    def write_nowait(self, ops: Sequence[WriteOp], fence: Fence | None = None) -> None:
        """Queue ``ops`` (to be written if ``fence`` holds) without waiting for them."""
        self._tell(lambda seq: Write(tuple(ops), fence=fence, seq=seq))

    def sync(self) -> None:
        """Return once everything sent before is committed (at once if it is already)."""
        watermark = self._watermark
        if watermark is not None and not watermark.dirty and watermark.committed >= self._sent:
            return
        reply: Reply[None] = Reply()
        self._send(lambda seq: Sync(reply, seq=seq))
        reply.result(timeout=WRITE_TIMEOUT)

    def beat(self, heartbeat: Heartbeat, *, timeout: float | None = None) -> None:
        """Write a runtime's row (``provenance.runtime_rows``) after everything sent before;
        with ``timeout``, wait that long for it to be committed, else only send it.

        Raises:
            StorageError: if it was not written (with ``timeout``).
            TimeoutError: if it was not written within ``timeout``.
        """
        reply: Reply[None] | None = None if timeout is None else Reply()
        self._tell(lambda seq: RuntimeBeat(heartbeat, reply, seq=seq))
        if reply is not None:
            reply.result(timeout=timeout)

    def make_durable(self, *, others_too: bool = False) -> None:
        """Return once everything sent before is committed and on disk, so that it survives a
        crash of the machine: what a checkpoint that names it needs (on SQLite one fsync of
        the WAL covers every commit before it; a PostgreSQL commit is durable already).
        ``others_too``: and what other programs committed to the database (an end another
        worker stored before it died, whose checkpoint is retired on the strength of it).

        Raises:
            StorageError: if the commit or the fsync failed.
        """
        self.sync()
        durability = None if self._watermark is None else self._watermark.durability
        if durability is not None:
            durability.flush(others_too=others_too)

    def _send(self, message: Callable[[int], Write | Sync]) -> None:
        """Have the actor serve the message on this thread if it can (the caller waits for it
        anyway), else send it.

        It can only once it has handled every message anyone sent before: one process's
        writes may come from several threads (its steps run on pooled threads), so a write
        served ahead of an older one still in the mailbox could be overwritten by it (a
        process's end replaced by the RUNNING state queued before it).
        """
        actor = self._watermark.actor if self._watermark is not None else None
        if actor is None or not actor.serve_now(message(0), self._sent):
            self._tell(message)

    def _tell(self, message: Callable[[int], Write | Sync | RuntimeBeat]) -> None:
        """Send the message numbered next; numbers follow the order of the mailbox."""
        try:
            with self._order:
                self._sent += 1
                self._actor.tell(message(self._sent))
        except pykka.ActorDeadError as exc:
            raise StorageError(
                "the provenance actor has stopped (was the runtime shut down?); start a new Runtime"
            ) from exc


class FencedBackend:
    """A backend whose writes all carry one fence: what code in a step of a process held
    under a claim gets, so that a node the user stores there after another worker took the
    process over is refused (``FencedError``) like the engine's own writes for it."""

    def __init__(self, backend: ActorBackend, fence: Fence) -> None:
        self._backend = backend
        self._fence = fence

    @property
    def storage(self) -> Storage:
        """The database to read from."""
        return self._backend.storage

    def write(self, ops: Sequence[WriteOp]) -> Mapping[str, int]:
        """Write ``ops`` if the fence holds and wait until they are committed.

        Raises:
            FencedError: if the claim was taken over; nothing was written.
        """
        return self._backend.write(ops, self._fence)

    def write_nowait(self, ops: Sequence[WriteOp]) -> None:
        """Queue ``ops``, to be written only if the fence still holds then."""
        self._backend.write_nowait(ops, self._fence)

    def sync(self) -> None:
        """Return once everything sent before is committed."""
        self._backend.sync()


_provider: Callable[[], ProvenanceBackend] | None = None
_open_provider: Callable[[], ProvenanceBackend | None] | None = None


def set_backend_provider(provider: Callable[[], ProvenanceBackend] | None) -> None:
    """Install the function that returns the backend in use (the runtime does this)."""
    global _provider  # noqa: PLW0603 - one process-wide hook, set by the runtime
    _provider = provider


def get_backend() -> ProvenanceBackend:
    """The backend of the runtime in use.

    Raises:
        NoBackendError: if no runtime installed a provider.
    """
    if _provider is None:
        raise NoBackendError(
            "no provenance backend: import actors and use a Runtime (actors.get_runtime()) "
            "before storing or loading nodes"
        )
    return _provider()


def set_open_backend_provider(provider: Callable[[], ProvenanceBackend | None] | None) -> None:
    """Install the function that returns the backend of a runtime already open, or None.

    Unlike ``get_backend``, asking it never creates a runtime: readers (``load_node``, the
    ``QueryBuilder``) fall back to the default home's database when nothing is open.
    """
    global _open_provider  # noqa: PLW0603 - one process-wide hook, set by the runtime
    _open_provider = provider


def open_backend() -> ProvenanceBackend | None:
    """The backend of the runtime in use if one is open, else None (never creates one)."""
    return None if _open_provider is None else _open_provider()

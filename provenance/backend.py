"""How nodes reach the provenance store without knowing which runtime runs them.

``provenance`` does not import ``actors``: the runtime installs a provider here, and nodes ask
it for the backend of the runtime in use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from typing import Protocol

import pykka

from provenance.actor import Sync, Write
from provenance.errors import NoBackendError, StorageError
from provenance.fencing import Fence
from provenance.records import WriteOp
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
    """The calling side of a ``ProvenanceActor``."""

    def __init__(self, storage: Storage, actor: pykka.ActorRef[pykka.ThreadingActor]) -> None:
        self._storage = storage
        self._actor = actor

    @property
    def storage(self) -> Storage:
        """The database to read from."""
        return self._storage

    def write(self, ops: Sequence[WriteOp], fence: Fence | None = None) -> Mapping[str, int]:
        """Write ``ops`` (if ``fence`` holds) and wait until they are committed.

        Raises:
            FencedError: if ``fence`` no longer holds; nothing was written.
        """
        reply: Future[dict[str, int]] = Future()
        self._tell(Write(tuple(ops), reply, fence=fence))
        return reply.result(timeout=WRITE_TIMEOUT)

    def write_applied(self, ops: Sequence[WriteOp]) -> Mapping[str, int]:
        """Write ``ops`` and wait until they are applied, not committed: for new pks."""
        reply: Future[dict[str, int]] = Future()
        self._tell(Write(tuple(ops), reply, durable=False))
        return reply.result(timeout=WRITE_TIMEOUT)

    def write_nowait(self, ops: Sequence[WriteOp], fence: Fence | None = None) -> None:
        """Queue ``ops`` (to be written if ``fence`` holds) without waiting for them."""
        self._tell(Write(tuple(ops), fence=fence))

    def sync(self) -> None:
        """Return once everything sent before is committed."""
        reply: Future[None] = Future()
        self._tell(Sync(reply))
        reply.result(timeout=WRITE_TIMEOUT)

    def _tell(self, message: Write | Sync) -> None:
        try:
            self._actor.tell(message)
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

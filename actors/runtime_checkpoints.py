"""The durable half of ``Runtime``: where its checkpoints live and how it uses them.

A runtime's durability policy (``Ephemeral`` or ``Checkpointed(store)``) is chosen once; this
mixin turns it into a ``CheckpointStore`` (the policy's, the shared database's, or the home's
files) and a ``Checkpoints`` use of it, and answers the engine's questions about claims
(``fence_of``) and the queue (``adopt_checkpoints``).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actors.assembly import database_store, home_file_store
from actors.durability import Checkpointed, Durability
from actors.errors import ActorError, RuntimeClosedError
from actors.home import running_directory
from actors.process_messages import Suspend
from actors.registry import ExternalTerminated, Forget, GetActor, ask
from provenance.log import get_logger

if TYPE_CHECKING:
    import pykka

    from actors.durable import Checkpoints
    from actors.launcher import Launcher
    from actors.process import Process
    from persistence import PicklePersistence
    from persistence.store import CheckpointStore
    from provenance.fencing import Fence
    from provenance.storage import Storage

log = get_logger(__name__)


class RuntimeCheckpoints:
    """Mixed into ``Runtime``: its checkpoint store, claims and queue."""

    home: Path
    storage: Storage
    durability: Durability
    shared_database: bool
    registry: pykka.ActorRef[Any]
    launcher: Launcher
    _lock: threading.Lock
    _closed: bool
    _home_store: PicklePersistence | None
    _database_store: CheckpointStore | None
    _checkpoints: Checkpoints | None

    @property
    def durable(self) -> bool:
        """True if processes run here are held and checkpointed (``Checkpointed``)."""
        return isinstance(self.durability, Checkpointed)

    @property
    def running_directory(self) -> Path:
        """Checkpoints of processes that have not terminated."""
        return running_directory(self.home)

    @property
    def finished_directory(self) -> Path:
        """Checkpoints of processes that finished."""
        return self.running_directory / "finished"

    @property
    def failed_directory(self) -> Path:
        """Checkpoints of processes that excepted, and unreadable ones."""
        return self.running_directory / "failed"

    @property
    def home_store(self) -> PicklePersistence:
        """The file store of this home (``<home>/running``), created on first use."""
        with self._lock:
            if self._home_store is None:
                self._home_store = home_file_store(self.home)
            return self._home_store

    def _store(self) -> CheckpointStore:
        """The policy's store, else the database's (shared database), else the home's files."""
        chosen = self.durability.store if isinstance(self.durability, Checkpointed) else None
        if chosen is not None:
            return chosen
        if not self.shared_database:
            return self.home_store
        with self._lock:
            if self._database_store is None:
                self._database_store = database_store(
                    self.home, self.storage.url, worker=self.durable, on_lease_lost=self._lost
                )
            return self._database_store

    @property
    def checkpoints(self) -> Checkpoints:
        """This runtime's use of its checkpoint store (created on first use)."""
        if self._checkpoints is None:
            from actors.durable import Checkpoints

            store = self._store()
            with self._lock:
                if self._checkpoints is None:
                    self._checkpoints = Checkpoints(self, store, writer=False)  # type: ignore[arg-type]
        return self._checkpoints

    def adopt_checkpoints(self) -> list[int]:
        """Resume every checkpoint in the running folder that no other worker holds; return
        the pids adopted. Each resumes where its last checkpoint left it.

        Raises:
            RuntimeClosedError: after ``shutdown``.
            ActorError: unless the runtime is durable (it must hold what it runs).
        """
        if self._closed:
            raise RuntimeClosedError(f"{self!r} is shut down; create a new Runtime")
        if not self.durable:
            raise ActorError("only a durable runtime adopts checkpoints: Runtime(durable=True)")
        return self.checkpoints.adopt(self.launcher.resume)

    def notice_terminated(self, pid: int) -> None:
        """Process ``pid`` ended in another worker: release the work chains here waiting on it."""
        state = self.checkpoints.stored_state(pid)
        if state is not None and state.is_terminal:
            self.registry.tell(ExternalTerminated(pid, state))

    def save_checkpoint(self, process: Process) -> None:
        """Write the checkpoint of a process run here and wait for it (durable runtimes)."""
        self.checkpoints.save(process)

    def release_checkpoint(self, pid: int) -> None:
        """Release the lock of ``pid``'s checkpoint without moving it."""
        self.checkpoints.release(pid)

    def _lost(self, pid: int) -> None:
        """Another worker took ``pid`` over after our lease ran out (on the lease keeper's
        thread): stop running it here after its current step; its writes are refused anyway."""
        if self._closed:
            return
        actor = ask(self.registry, GetActor(pid))
        self.registry.tell(Forget(pid))
        self.launcher.forget(pid)
        if actor is not None:
            with contextlib.suppress(Exception):  # it ended meanwhile
                actor.tell(Suspend())
        log.warning("runtime.claim_lost", pid=pid)

    def fence_of(self, pid: int | None) -> Fence | None:
        """The fence provenance writes for process ``pid`` are made under: a durable
        runtime's claim on it in a shared database; None elsewhere."""
        if pid is None or self._checkpoints is None or not self.durable:
            return None
        return self._checkpoints.fence(pid)

    def fence_of_stack(self, pids: Sequence[int]) -> Fence | None:
        """The fence of the innermost process of a call stack (outermost first) that this
        runtime holds under a claim: a workfunction called in a step writes under the claim
        of the work chain whose step calls it."""
        if self._checkpoints is None or not self.durable:
            return None
        for pid in reversed(pids):
            fence = self._checkpoints.fence(pid)
            if fence is not None:
                return fence
        return None

"""The runtime's side of durable processes: checkpoints written after every step, submission
into a checkpoint store, and adoption of checkpoints by a worker.

A ``Checkpointed`` runtime (a daemon worker) holds every process it runs in its store, so that no
other worker runs it too, and writes its checkpoint after every step through the persistence
actor. Everything here goes through ``persistence.store.CheckpointStore`` and ``Notifier``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import pykka
import sqlalchemy as sa

from actors.errors import ActorError, ProcessSuspendedError
from actors.process_messages import Suspend
from actors.registry import Forget, GetActor, ask
from actors.threads import ROOM, THREADS
from persistence import PersistenceActor, Release, SaveCheckpoint, Sync
from persistence.messages import Action
from persistence.store import CheckpointStore
from provenance.errors import NotExistentError
from provenance.fencing import Fence
from provenance.log import get_logger
from provenance.models import DbNode
from provenance.process_nodes import ProcessNode
from provenance.process_state import ProcessState

if TYPE_CHECKING:
    from actors.process import Process
    from actors.runtime import Runtime

log = get_logger(__name__)

CHECKPOINT_TIMEOUT = 60.0
#: The longest adoption waits for a thread to come free before it starts a process anyway.
ADOPTION_ROOM_TIMEOUT = 1.0


class NotImportableError(ActorError, TypeError):
    """A process class that a daemon worker could not import again was submitted."""


def check_importable(process_class: type[Process]) -> None:
    """Refuse a class that another OS process cannot import by its path.

    Raises:
        NotImportableError: for classes defined in a function, a notebook or ``__main__``.
    """
    from actors.utils import load_class  # utils imports the runtime, which imports this module

    path = process_class.class_path()
    problem = None
    if "<locals>" in path:
        problem = "it is defined inside a function"
    elif process_class.__module__ == "__main__":
        problem = "it is defined in the __main__ script (or a notebook)"
    else:
        try:
            found = load_class(path)
        except Exception as exc:
            problem = f"importing {path} fails: {exc}"
        else:
            if getattr(found, "process_class", found) is not process_class:
                problem = f"{path} names another object"
    if problem is not None:
        raise NotImportableError(
            f"cannot submit {process_class.process_label()}: {problem}, so a daemon worker could "
            "not load it. Move it to an importable module, or run it blockingly with run(...)"
        )


class Checkpoints:
    """A runtime's use of its checkpoint store: the writer actor, holds, submissions, adoption.

    ``writer``: start the persistence actor (a ``Checkpointed`` runtime saves after each step);
    without it, the store only receives submissions and answers questions.
    """

    def __init__(self, runtime: Runtime, store: CheckpointStore, *, writer: bool) -> None:
        self._runtime = runtime
        self.store = store
        if store.on_unreadable is None:
            store.on_unreadable = self._mark_unreadable
        # The writer makes the provenance durable before each batch it writes: every
        # checkpoint comes after the provenance its process recorded is on disk, without a
        # round trip (or an fsync) per step.
        self._writer: pykka.ActorRef[Any] | None = (
            PersistenceActor.start(store, before_write=runtime.backend.make_durable)
            if writer
            else None
        )
        self._adopting = threading.Lock()

    # Writing.

    def save(self, process: Process) -> None:
        """Write the checkpoint of ``process`` and wait for it (a terminal one retires it).

        The provenance the process sent before is committed and on disk first (the writer
        makes it durable before each batch), so the checkpoint never refers to a row a crash,
        even of the machine, could still undo.

        Raises:
            PersistenceError: if the write failed; the previous checkpoint is intact.
        """
        pid = process.pid
        assert pid is not None
        assert self._writer is not None
        reply: Future[str] = Future()
        state = process.save_instance_state()
        self._writer.tell(SaveCheckpoint(pid, process.class_path(), state, reply))
        reply.result(timeout=CHECKPOINT_TIMEOUT)

    def hold(self, process: Process) -> None:
        """Lock the checkpoint of a process launched here and write its first checkpoint.

        A first checkpoint that fails lets go of the lock again: the caller's step runs again
        and starts this child on its node (``actors.reattach``), which needs the lock.
        """
        pid = process.pid
        assert pid is not None
        self.store.hold(pid)
        try:
            self.save(process)
        except BaseException:
            try:
                self.release(pid)
            except Exception as exc:  # a shared store retries it; a lease ends by itself
                log.warning("durable.hold_release_failed", pid=pid, error=repr(exc))
            raise

    def fence(self, pid: int) -> Fence | None:
        """The store's fence of its hold on ``pid`` for provenance writes, if it has one."""
        return self.store.fence(pid)

    def release(self, pid: int) -> None:
        """Release ``pid``'s lock, leaving its checkpoint for another worker (or a restart)."""
        if self._writer is None:
            self.store.release(pid)
            return
        reply: Future[bool] = Future()
        self._writer.tell(Release(pid, reply))
        reply.result(timeout=CHECKPOINT_TIMEOUT)

    def write_submitted(
        self, processes: Sequence[Process], store: CheckpointStore | None = None
    ) -> list[str]:
        """Write the first checkpoints of submitted processes, all or none, as one group
        (``CheckpointStore.save_new_states``), once their nodes are on disk; a worker adopts
        them."""
        self._runtime.backend.make_durable()
        items = []
        for process in processes:
            assert process.pid is not None
            items.append((process.pid, process.class_path(), process.save_instance_state()))
        return (self.store if store is None else store).save_new_states(items)

    # Adopting.

    def adopt(self, start: Callable[[Process, bool], None]) -> list[int]:
        """Load every checkpoint nobody holds and start it with ``start(process, paused)``.

        A checkpoint whose node already ended (a crash between the end and the checkpoint
        move) is retired instead of run again; an intent recorded meanwhile is applied.
        """
        adopted: list[int] = []
        with self._adopting:
            loaded = self.store.load_all_processes()
            unstarted = {process.pid for process in loaded}
            try:
                # One query for the batch: a look per process cost a quarter of a worker's CPU.
                recorded = self._recorded([process.pid for process in loaded])
                if any(state is not None and state.is_terminal for state, _ in recorded.values()):
                    # Ends committed by workers that died before retiring their checkpoints:
                    # on disk before a checkpoint, the only other record of a process, moves.
                    # One fsync for the batch.
                    self._runtime.backend.make_durable(others_too=True)
                for process in loaded:
                    pid = process.pid
                    assert pid is not None
                    stored, was_paused = recorded.get(pid, (None, False))
                    if stored is not None and stored.is_terminal:
                        self._retire_ended(pid, stored)
                        unstarted.discard(pid)
                        continue
                    intent = self.store.take_intent(pid)
                    # A process paused when its worker stopped stays paused (its node says so)
                    # until someone plays it; an intent recorded since decides otherwise.
                    paused = was_paused if intent is None else intent.action is Action.PAUSE
                    if intent is not None and intent.action is Action.KILL:
                        paused = True  # so that no step runs before the kill lands
                    # Thousands adopted at once must not take a thread each: let those started
                    # reach their first wait (where they stop holding one) before starting more.
                    THREADS.wait_for_room(ROOM, ADOPTION_ROOM_TIMEOUT)
                    start(process, paused)
                    unstarted.discard(pid)
                    if intent is not None and intent.action is Action.KILL:
                        self._runtime.kill(pid, intent.message)
                    adopted.append(pid)
            except BaseException:
                # Claimed but not started (the database failed a read in between): held here
                # with nobody running them, they would wait for this worker to stop. Let them
                # go, for the next adoption here or elsewhere. Those started run on.
                if adopted:
                    log.info("durable.adopted", pids=adopted)
                self._let_go(unstarted)
                raise
        if adopted:
            log.info("durable.adopted", pids=adopted)
        return adopted

    def _let_go(self, pids: set[int | None]) -> None:
        released: list[int] = []
        for pid in sorted(pid for pid in pids if pid is not None):
            if self._runtime.holds(pid):
                continue  # its actor started before the failure: it is running
            try:
                self.store.release(pid)
            except Exception as exc:  # its lease ends with this worker's anyway
                log.error("durable.release_failed", pid=pid, error=repr(exc))
            released.append(pid)
        log.warning("durable.adoption_cut_off", released=released)

    def stored_state(self, pid: int) -> ProcessState | None:
        """The state recorded on process ``pid``'s node; None if there is no such process."""
        return self.stored_states([pid]).get(pid)

    def stored_states(self, pids: Sequence[int | None]) -> dict[int, ProcessState | None]:
        """The state recorded on the node of each process in ``pids``, read in one query; a
        pid with no process node (or no state yet) is missing or None."""
        return {pid: state for pid, (state, _paused) in self._recorded(pids).items()}

    def _recorded(self, pids: Sequence[int | None]) -> dict[int, tuple[ProcessState | None, bool]]:
        """The state and pause recorded on the node of each process in ``pids``, one query."""
        wanted = [pid for pid in pids if pid is not None]
        if not wanted:
            return {}
        attributes = DbNode.attributes
        query = sa.select(
            DbNode.id,
            attributes["process_state"].as_string(),
            attributes["paused"].as_boolean(),
        ).where(DbNode.id.in_(wanted), DbNode.node_type.startswith(ProcessNode.node_type))
        with self._runtime.storage.read_session() as session:
            rows = session.execute(query).all()
        return {
            pk: (None if value is None else ProcessState(value), bool(paused))
            for pk, value, paused in rows
        }

    def _retire_ended(self, pid: int, state: ProcessState) -> None:
        if state is ProcessState.EXCEPTED:
            self.store.mark_failed(pid, f"process {pid} excepted before its checkpoint moved")
        else:
            self.store.mark_finished(pid)
        log.info("durable.retired_ended", pid=pid, state=state.name)

    def _mark_unreadable(self, pid: int, reason: str) -> None:
        """Record on the node that its checkpoint was refused, so the process shows EXCEPTED."""
        try:
            node = self._runtime.load_node(pid)
        except NotExistentError:
            return
        if not isinstance(node, ProcessNode) or (
            node.process_state is not None and node.process_state.is_terminal
        ):
            return
        update = node.set_process_attributes(
            process_state=ProcessState.EXCEPTED.value,
            exception=f"its checkpoint was refused and moved to failed/: {reason}",
        )
        self._runtime.backend.write([update])

    # Stopping.

    def stop(self) -> None:
        """Write what is pending, stop the writer and release every lock."""
        if self._writer is not None:
            reply: Future[None] = Future()
            try:
                self._writer.tell(Sync(reply))
                reply.result(timeout=CHECKPOINT_TIMEOUT)
            finally:
                self._writer.stop(block=True)
        self.store.release_all()


def suspend_all(runtime: Runtime, timeout: float) -> None:
    """Stop every process actor of ``runtime`` after its current step, leaving the processes
    to their checkpoints (a durable runtime shutting down)."""
    answers: list[pykka.Future[Any]] = []
    for pid in runtime.live_pids():
        actor = ask(runtime.registry, GetActor(pid))
        runtime.registry.tell(Forget(pid))
        if actor is None:
            continue  # passivated: its checkpoint was written before it was
        try:
            answers.append(actor.ask(Suspend(), block=False))
        except pykka.ActorDeadError:
            continue  # it ended meanwhile
    deadline = time.monotonic() + timeout
    for answer in answers:
        # An actor that stops before it reads Suspend fails the answer: that is fine too.
        with contextlib.suppress(pykka.ActorDeadError, pykka.Timeout):
            answer.get(timeout=max(0.0, deadline - time.monotonic()))
    for pid, done in runtime.launcher.forget_all():
        if not done.done():
            done.set_exception(ProcessSuspendedError(f"process {pid} was left to its checkpoint"))

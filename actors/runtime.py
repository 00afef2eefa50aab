"""``Runtime``: one actor system and the database it records into.

A runtime starts the registry and provenance actors, one ``ProcessActor`` per launched process,
and stops them all on ``shutdown``. Which runtime is in use is ``actors.runtimes``' business
(``get_runtime`` is re-exported here).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import logging
import os
import pickle
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from actors import call_stack, holders
from actors.durable import Checkpoints, queue, suspend_all
from actors.errors import ActorError, RuntimeClosedError
from actors.holders import HOLDER, Holder
from actors.home_folder import make_home
from actors.launch_checks import refuse_inside_step, user_attributes
from actors.process import REPORT_LOGGER_NAME, Process
from actors.process_actor import ProcessActor
from actors.process_messages import Resume, Start
from actors.reattach import CALL_KEY, launched_before, reattach
from actors.registry import (
    Control,
    ExternalTerminated,
    KillProcess,
    Listen,
    Listener,
    LivePids,
    PassivatedProcess,
    Register,
    RegistryActor,
    Sizes,
    ask,
)
from actors.runtimes import closed, get_runtime, opened, runtime_holding, step_runtime
from provenance.actor import ProvenanceActor
from provenance.backend import ActorBackend
from provenance.log import get_logger
from provenance.logs import DbLogHandler, RuntimeFilter
from provenance.nodes import Node, load_node
from provenance.process_nodes import ProcessNode
from provenance.process_state import ProcessState
from provenance.storage import Storage, sqlite_url

log = get_logger(__name__)

HOME_ENV = "WORKACTORS_HOME"
DATABASE_URL_ENV = "WORKACTORS_DATABASE_URL"


def default_home() -> Path:
    """``$WORKACTORS_HOME``, else ``~/.workactors``."""
    env = os.environ.get(HOME_ENV)
    return Path(env).expanduser() if env else Path.home() / ".workactors"


ProcessLike = type[Process] | Callable[..., Any]


class Runtime:
    """One actor system: registry, provenance and one actor per live process.

    Args:
        home: folder of the embedded database and checkpoints; default ``default_home()``.
        database_url: SQLAlchemy URL of the provenance database (PostgreSQL for servers);
            default ``$WORKACTORS_DATABASE_URL``, else SQLite at ``<home>/provenance.sqlite``.
        passivation: write waiting processes out and stop their actors, so that waiting costs
            no thread; they are revived when what they wait for arrives.
        durable: hold the lock of every process run here and checkpoint it after every step,
            so that another worker or a restart resumes it (what a daemon worker runs).

    Raises:
        StorageError: if the database is corrupt, foreign or of a newer version.
    """

    def __init__(
        self,
        home: str | os.PathLike[str] | None = None,
        *,
        database_url: str | None = None,
        passivation: bool = True,
        durable: bool = False,
    ) -> None:
        self.home = Path(home).expanduser() if home is not None else default_home()
        make_home(
            self.home, (self.running_directory, self.finished_directory, self.failed_directory)
        )
        url = (
            database_url
            or os.environ.get(DATABASE_URL_ENV)
            or sqlite_url(self.home / "provenance.sqlite")
        )
        self.storage = Storage(url)
        self._provenance_ref = ProvenanceActor.start(self.storage)
        self.backend: ActorBackend = ActorBackend(self.storage, self._provenance_ref)  # type: ignore[arg-type]
        self.passivation = passivation
        self.registry = RegistryActor.start(reviver=self._revive)
        self._log_handler = DbLogHandler(self.backend)
        self._log_handler.addFilter(RuntimeFilter(id(self)))
        report_logger = logging.getLogger(REPORT_LOGGER_NAME)
        report_logger.addHandler(self._log_handler)
        if report_logger.level == logging.NOTSET:
            report_logger.setLevel(logging.INFO)
        self._lock = threading.Lock()
        self._live: dict[int, tuple[ProcessNode, Future[Any]]] = {}
        self._closed = False
        self.durable = durable
        self._checkpoints: Checkpoints | None = Checkpoints(self, writer=True) if durable else None
        self._holder = Holder.of_this_process(self.home).as_attribute()
        opened(self)
        #: The processes this runtime ended at open because their runtime had died.
        self.repaired: tuple[int, ...] = ()
        try:
            self.repaired = tuple(self.repair())
        except Exception as exc:  # a busy or read-only database must not stop a runtime opening
            log.warning("runtime.repair_failed", error=repr(exc))

    def repair(self) -> list[int]:
        """End KILLED every process of this home whose runtime died without ending it (and
        that left no checkpoint to resume from); return their pids. Runs at every open."""
        return holders.repair(self)

    @property
    def running_directory(self) -> Path:
        """Checkpoints of processes that have not terminated."""
        return self.home / "running"

    @property
    def finished_directory(self) -> Path:
        """Checkpoints of processes that finished."""
        return self.running_directory / "finished"

    @property
    def failed_directory(self) -> Path:
        """Checkpoints of processes that excepted, and unreadable ones."""
        return self.running_directory / "failed"

    @property
    def checkpoints(self) -> Checkpoints:
        """The checkpoint store of this home (created on first use)."""
        with self._lock:
            if self._checkpoints is None:
                self._checkpoints = Checkpoints(self, writer=False)
            return self._checkpoints

    @property
    def is_closed(self) -> bool:
        """True once ``shutdown`` began."""
        return self._closed

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        return f"<Runtime home={str(self.home)!r} db={self.storage.location!r}>"

    # Launching.

    def launch(
        self,
        process_class: type[Process],
        inputs: Mapping[str, Any],
        *,
        caller: Process | None = None,
        detached: bool = False,
        attributes: Mapping[str, Any] | None = None,
    ) -> tuple[Process, Future[Any]]:
        """Validate, store and start a process; return it and the future of its result.

        The new process is linked (CALL) from ``caller`` if given (a work chain's
        ``self.submit``, which does not wait: ``detached``), else from the process whose step
        runs in this context. ``attributes`` are stored on the new process's node. A caller
        replaying a step after a crash gets the child it had launched there instead of a
        second one (``actors.reattach``).

        Raises:
            InputValidationError: if the inputs do not fit; nothing is stored then.
            RuntimeClosedError: after ``shutdown``.
        """
        # While a runtime shuts down, its running processes may still launch children (it waits
        # for them to end), unless it is durable: it then stops them after their current step.
        if self._closed and (self.durable or step_runtime.get() is not self):
            raise RuntimeClosedError(f"{self!r} is shut down; create a new Runtime")
        frame = call_stack.current()
        if caller is None and frame is not None and frame.process._runtime is self:
            caller = frame.process
        caller_stack = (
            caller._call_stack or (frame.pids if frame is not None else ())
            if caller is not None
            else ()
        )
        key = caller._next_call_key() if caller is not None else None
        if caller is not None and key is not None:
            found = launched_before(caller, key)
            if found is not None:
                return reattach(self, process_class, caller, found, detached=detached)
        process = process_class(inputs)
        process._runtime = self
        # It starts at once, so the node is stored RUNNING: one write fewer than CREATED, then
        # RUNNING a moment later.
        process.node.set_process_attributes(
            process_state=ProcessState.RUNNING.value, **{HOLDER: self._holder}
        )
        if key is not None:
            process.node.set_process_attributes(**{CALL_KEY: key})
        if attributes:
            process.node.set_process_attributes(**attributes)
        ops = process._launch_ops(caller.node.uuid if caller is not None else None)
        if self.durable:
            # Committed before its checkpoint is written: a checkpoint never names a row that a
            # crash could still roll back.
            process._mark_launched(self.backend.write(ops))
            self.checkpoints.hold(process)
        else:
            process._mark_launched(self.backend.write_applied(ops))
        parent_pid = caller.pid if caller is not None else None
        assert process.pid is not None
        return process, self._start(process, (*caller_stack, process.pid), parent_pid, Start())

    def _start(
        self,
        process: Process,
        stack: tuple[int | None, ...],
        parent_pid: int | None,
        first: object,
        *,
        paused: bool = False,
    ) -> Future[Any]:
        pid = process.pid
        assert pid is not None
        done: Future[Any] = Future()
        actor = ProcessActor.start(process, self, stack, done, paused=paused)
        self.registry.tell(Register(pid, process, actor, parent_pid))
        with self._lock:
            self._live[pid] = (process.node, done)
        actor.tell(first)
        return done

    def submit(self, process: ProcessLike, *args: Any, **inputs: Any) -> ProcessNode:
        """Store a new process and checkpoint it into the running folder for a daemon worker;
        return its node at once.

        Raises:
            InputValidationError: if the inputs do not fit; nothing is stored then.
            NotImportableError: if a worker could not import the class; nothing is stored.
        """
        refuse_inside_step("submit")
        process_class, resolved = self._resolve(process, args, inputs)
        return queue(self, process_class, resolved).node

    def queue_up(
        self, process_class: ProcessLike, inputs: Mapping[str, Any], storage: Any = None
    ) -> int:
        """Like ``submit`` with the inputs as a mapping; return the pid. ``storage`` is a
        ``PicklePersistence`` to write the checkpoint with (default: this home's)."""
        refuse_inside_step("queue_up")
        resolved_class, resolved = self._resolve(process_class, (), dict(inputs))
        process = queue(self, resolved_class, resolved, storage)
        assert process.pid is not None
        return process.pid

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

        def start(process: Process, paused: bool) -> None:
            process._runtime = self
            process._mark_resumed()
            self.backend.write_nowait(
                [process.node.set_process_attributes(**{HOLDER: self._holder})]
            )
            self._start(process, (process.pid,), None, Resume(), paused=paused)

        return self.checkpoints.adopt(start)

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

    def _resolve(
        self, process: ProcessLike, args: tuple[Any, ...], inputs: dict[str, Any]
    ) -> tuple[type[Process], dict[str, Any]]:
        target = getattr(process, "process_class", process)
        if isinstance(target, type) and issubclass(target, Process):
            args_to_inputs = getattr(target, "args_to_inputs", None)
            if args_to_inputs is not None:
                return target, args_to_inputs(*args, **inputs)
            if args:
                raise TypeError(
                    f"{target.__name__} takes its inputs by name "
                    f"({', '.join(target.spec().inputs)}); positional arguments are for "
                    "workfunctions only"
                )
            return target, inputs
        raise TypeError(f"cannot run {process!r}: pass a Process subclass or a @workfunction")

    def run_async(
        self,
        process: ProcessLike,
        *args: Any,
        _attributes: Mapping[str, Any] | None = None,
        **inputs: Any,
    ) -> Future[Any]:
        """Start a process; the future resolves to what ``run`` would return."""
        return self._launch_resolved(process, args, inputs, _attributes)[1]

    def _launch_resolved(
        self,
        process: ProcessLike,
        args: tuple[Any, ...],
        inputs: dict[str, Any],
        attributes: Mapping[str, Any] | None,
    ) -> tuple[Process, Future[Any]]:
        process_class, resolved = self._resolve(process, args, inputs)
        checked = user_attributes(
            attributes,
            process_class.process_label(),
            is_workfunction=hasattr(process_class, "args_to_inputs"),
        )
        return self.launch(process_class, resolved, attributes=checked)

    def run_get_node(
        self,
        process: ProcessLike,
        *args: Any,
        _attributes: Mapping[str, Any] | None = None,
        **inputs: Any,
    ) -> tuple[Any, Node]:
        """Run blockingly; return the result and the process node. ``_attributes`` (a Process
        class only) are stored on its node.

        Raises:
            InputValidationError: bad inputs (nothing stored).
            ProcessKilledError: the process was killed.
            Exception: whatever the process raised (its node is EXCEPTED).
        """
        instance, done = self._launch_resolved(process, args, inputs, _attributes)
        return done.result(), instance.node

    def run(
        self,
        process: ProcessLike,
        *args: Any,
        _attributes: Mapping[str, Any] | None = None,
        **inputs: Any,
    ) -> Any:
        """Run blockingly: a Process returns its outputs, a workfunction what it returned.
        ``_attributes`` (a Process class only) are stored on the process node."""
        return self.run_get_node(process, *args, _attributes=_attributes, **inputs)[0]

    # Control.

    def kill(self, pid: int, message: str | None = None) -> bool:
        """Ask live process ``pid`` to end KILLED before its next step, and its running
        children with it; False if it is not live here."""
        killed: bool = ask(self.registry, KillProcess(pid, message))
        return killed

    def pause(self, pid: int) -> bool:
        """Run no further step of live process ``pid`` until ``play``; False if not live here."""
        paused: bool = ask(self.registry, Control(pid, pause=True))
        return paused

    def play(self, pid: int) -> bool:
        """Let a paused process go on; False if it is not live here."""
        played: bool = ask(self.registry, Control(pid, pause=False))
        return played

    def wait(self, pid: int, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds (None: no limit) for live process ``pid`` to
        terminate; True if it has (or was not live here)."""
        with self._lock:
            entry = self._live.get(pid)
        if entry is None:
            return True
        done = concurrent.futures.wait([entry[1]], timeout=timeout).done
        return bool(done)

    def live_pids(self) -> tuple[int, ...]:
        """Pids of the processes running in this runtime."""
        pids: tuple[int, ...] = ask(self.registry, LivePids())
        return pids

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(LifecycleEvent)`` when a process is registered, passivated, revived
        or terminated. It runs on the registry's thread, so it must be quick and not block."""
        ask(self.registry, Listen(listener))

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling ``listener``."""
        ask(self.registry, Listen(listener, remove=True))

    def registry_sizes(self) -> dict[str, int]:
        """How many entries the registry's tables hold (0 everywhere when idle)."""
        sizes: dict[str, int] = ask(self.registry, Sizes())
        return sizes

    # Engine hooks.

    def _enter_step(self) -> contextvars.Token[Runtime | None]:
        return step_runtime.set(self)

    def _leave_step(self, token: contextvars.Token[Runtime | None]) -> None:
        step_runtime.reset(token)

    @contextlib.contextmanager
    def bound(self) -> Iterator[None]:
        """Make this the runtime in use in this context, so that node reads (``load_node``)
        go to its database even on threads that serve no step (actor hooks, the registry)."""
        token = self._enter_step()
        try:
            yield
        finally:
            self._leave_step(token)

    def load_node(self, pk: int) -> Node:
        """``load_node(pk)`` from this runtime's database.

        Raises:
            NotExistentError: if no node has that pk.
        """
        with self.bound():
            return load_node(pk)

    def _revive(self, entry: PassivatedProcess) -> tuple[Process, Any]:
        """Recreate a passivated process and start its actor (runs on the registry's thread)."""
        with self.bound():  # node reads, if any, go to this runtime's database
            process = entry.process_class.load_instance_state(pickle.loads(entry.state))
        process._runtime = self
        with self._lock:
            done = self._live[entry.pid][1]
        actor = ProcessActor.start(process, self, entry.stack, done, paused=entry.paused)
        return process, actor

    def holds(self, pid: int) -> bool:
        """True if process ``pid`` is live in this runtime."""
        with self._lock:
            return pid in self._live

    def _forget_all(self) -> list[tuple[int, Future[Any]]]:
        """Drop every live entry; return their pids and result futures."""
        with self._lock:
            entries = [(pid, done) for pid, (_node, done) in self._live.items()]
            self._live.clear()
        return entries

    def _forget(self, pid: int) -> None:
        with self._lock:
            self._live.pop(pid, None)

    # Shutdown.

    def shutdown(self, timeout: float = 60.0) -> None:
        """Let running processes end (killing those that outlast ``timeout``), then stop every
        actor after the provenance actor committed all it holds. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pending = [done for _process, done in self._live.values()]
        if self.durable:
            suspend_all(self, timeout)
        else:
            not_done = concurrent.futures.wait(pending, timeout=timeout).not_done
            if not_done:
                for pid in list(self._live):
                    self.kill(pid, "the runtime shut down")
                concurrent.futures.wait(not_done)
        if self._checkpoints is not None:
            self._checkpoints.stop()
        self.registry.stop(block=True)
        self._provenance_ref.stop(block=True)
        logging.getLogger(REPORT_LOGGER_NAME).removeHandler(self._log_handler)
        self.storage.dispose()
        closed(self)


__all__ = [
    "DATABASE_URL_ENV",
    "HOME_ENV",
    "ProcessLike",
    "Runtime",
    "default_home",
    "get_runtime",
    "runtime_holding",
]

"""Blocking runs of one-step processes on the caller's thread, without an actor.

A blocking ``run`` of a workfunction or of a plain ``Process`` has one step, and its caller only
waits for it. An actor would add a thread, its handoffs and its registration to what is a
function call with two database writes. So when
nothing can reach the process between its start and its end, the caller's thread drives it:
the same ``ProcessDriver`` decides, and this module carries out its commands in order.

Nothing can reach it when the runtime does not checkpoint (no other worker waits on it, no
checkpoint to adopt) and the class cannot wait on children (its step is ``Process``'s or a
workfunction's). A kill or a pause lands between steps only, so one sent during the step would
have changed nothing with an actor either; the process is not in the registry, so it is not
sent at all (``kill`` answers False, as for a process that ended). The node, its links, its
logs, the call stack seen by what the step calls, its end state and the result or exception
the caller gets are those of an actor-driven run; the launcher's table holds it while it runs,
so ``shutdown`` waits for it.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import Future
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from actors import registry_messages as to_registry
from actors.driver import ProcessDriver
from actors.driver_messages import Checkpoint, Command, End, KillChildren, Record, RequestStep
from actors.errors import ActorError
from actors.process import Process
from actors.process_messages import Continue, Start
from actors.process_records import mark_terminated, termination_ops
from actors.runtimes import step_scope
from actors.workfunction import FunctionProcess
from provenance.errors import StorageError
from provenance.log import get_logger
from provenance.process_state import ProcessState

if TYPE_CHECKING:
    from actors.runtime import Runtime

log = get_logger(__name__)

#: The steps that end the process in one go: never a wait, never a checkpoint to write.
_ONE_STEP = (Process._step, FunctionProcess._step)


def runs_inline(runtime: Runtime, process_class: type[Process]) -> bool:
    """True if a blocking run of ``process_class`` in ``runtime`` needs no actor."""
    return not runtime.durable and process_class._step in _ONE_STEP


class InlineRun:
    """Drives one launched process to its end on the calling thread.

    Args:
        runtime: the runtime the process was launched in.
        process: the launched (stored) process.
        stack: the pids from the outermost caller down to the process.
    """

    def __init__(self, runtime: Runtime, process: Process, stack: tuple[int, ...]) -> None:
        self._runtime = runtime
        self._process = process
        self._stack = stack
        process._call_stack = stack
        pid = process.pid
        assert pid is not None, "only a launched process runs"
        self._pid = pid
        self._done: Future[Any] = Future()
        self._driver = ProcessDriver(process, self._step_context, durable=False, paused=False)

    def run(self) -> Future[Any]:
        """Run the process to its end; return its (resolved) result future."""
        self._runtime.launcher.track(self._pid, self._process.node, self._done)
        try:
            self._execute(self._driver.handle(Start()))
        except BaseException as exc:
            # A KeyboardInterrupt (or SystemExit) in the caller's thread: the process ends
            # EXCEPTED with it if its end is not stored yet, and the caller gets it.
            if not self._driver.over:
                with contextlib.suppress(Exception):
                    self._execute(self._driver.interrupted(exc))
            self._runtime.launcher.forget(self._pid)
            if not self._done.done():
                self._done.set_exception(exc)
            raise
        return self._done

    def _step_context(self) -> AbstractContextManager[None]:
        """As a process actor's (the caller's frames come back once the step is over)."""
        return step_scope(self._runtime, self._process, self._stack)

    def _execute(self, commands: list[Command]) -> None:
        """Carry out ``commands`` in order, as ``ProcessActor._execute`` does."""
        pending = list(commands)
        while pending:
            command = pending.pop(0)
            match command:
                case Record(ops=ops):
                    self._runtime.backend.write_nowait(ops)
                case Checkpoint():
                    pass  # the runtime does not checkpoint
                case RequestStep():
                    pending = self._driver.handle(Continue())
                case KillChildren(message=text):
                    self._runtime.live_registry.handle(to_registry.KillChildren(self._pid, text))
                case End(state=state, error=error):
                    self._end(state, error)
                case _:  # a wait: ``runs_inline`` lets no class that waits through
                    raise ActorError(f"process {self._pid} cannot run inline: {command!r}")

    def _end(self, state: ProcessState, error: BaseException | None) -> None:
        """Store the end (committed: the caller reads its writes), then resolve the future."""
        process = self._process
        try:
            pks = self._runtime.backend.write(termination_ops(process))
            mark_terminated(process, pks)
        except StorageError as exc:
            log.error("process.end_not_stored", pid=self._pid, state=state.name, error=str(exc))
            error = error or exc
        self._runtime.launcher.forget(self._pid)
        if error is not None:
            self._done.set_exception(error)
            return
        try:
            self._done.set_result(process._result())
        except Exception as exc:
            self._done.set_exception(exc)


__all__ = ["InlineRun", "runs_inline"]

"""The launching half of ``Runtime``'s public API: run, submit and their variants.

Each call resolves what the user passed (a class or a workfunction, with its arguments) and
hands it to the runtime's ``Launcher``, which stores and starts the process; ``submit``,
``queue_up`` and ``queue_up_many`` write checkpoints for a daemon worker instead
(``actors.submission``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, cast

from actors.launch_checks import refuse_inside_step, user_attributes
from actors.launcher import ProcessLike, resolve

if TYPE_CHECKING:
    from actors.launcher import Launcher
    from actors.process import Process
    from actors.runtime import Runtime
    from persistence.store import CheckpointStore
    from provenance.nodes import Node
    from provenance.process_nodes import ProcessNode


class RuntimeLaunching:
    """Mixed into ``Runtime``: how a user starts processes in it."""

    launcher: Launcher

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
        runs in this context. ``attributes`` are stored on the new process's node.

        Raises:
            InputValidationError: if the inputs do not fit; nothing is stored then.
            RuntimeClosedError: after ``shutdown``.
        """
        return self.launcher.launch(
            process_class, inputs, caller=caller, detached=detached, attributes=attributes
        )

    def submit(self, process: ProcessLike, *args: Any, **inputs: Any) -> ProcessNode:
        """Store a new process and checkpoint it into the running folder for a daemon worker;
        return its node at once.

        Raises:
            InputValidationError: if the inputs do not fit; nothing is stored then.
            NotImportableError: if a worker could not import the class; nothing is stored.
        """
        refuse_inside_step("submit")
        process_class, resolved = resolve(process, args, inputs)
        from actors.submission import queue

        return queue(cast("Runtime", self), process_class, resolved).node

    def queue_up(
        self,
        process_class: ProcessLike,
        inputs: Mapping[str, Any],
        storage: CheckpointStore | None = None,
    ) -> int:
        """Like ``submit`` with the inputs as a mapping; return the pid. ``storage`` is the
        ``CheckpointStore`` to write the checkpoint into (default: this runtime's, see
        ``Checkpointed``), e.g. a ``PicklePersistence`` on other folders."""
        refuse_inside_step("queue_up")
        resolved_class, resolved = resolve(process_class, (), dict(inputs))
        from actors.submission import queue

        process = queue(cast("Runtime", self), resolved_class, resolved, storage)
        assert process.pid is not None
        return process.pid

    def queue_up_many(
        self,
        submissions: Iterable[tuple[ProcessLike, Mapping[str, Any]]],
        storage: CheckpointStore | None = None,
    ) -> list[int]:
        """``queue_up`` of many processes at once, each given as ``(class, inputs)``; their
        pids, in order. What to call to hand a daemon a batch of work.

        All or nothing: every process is checked before any is stored; their nodes are
        stored in one transaction and their first checkpoints written as one group (one
        folder fsync, or one database transaction), and the workers are woken once, after
        every checkpoint is durable. A batch of 200 costs about what a few ``queue_up``
        calls do.

        Raises:
            InputValidationError: if the inputs of one do not fit; nothing is stored.
            NotImportableError: if a worker could not import a class; nothing is stored.
            PersistenceError: if the checkpoints could not all be written: none is left for
                a worker, and every process of the batch is stored EXCEPTED with the reason.
        """
        refuse_inside_step("queue_up_many")
        resolved = [
            resolve(process_class, (), dict(inputs)) for process_class, inputs in submissions
        ]
        from actors.submission import queue_many

        processes = queue_many(cast("Runtime", self), resolved, storage)
        return [cast(int, process.pid) for process in processes]

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
        *,
        blocking: bool = False,
    ) -> tuple[Process, Future[Any]]:
        process_class, resolved = resolve(process, args, inputs)
        checked = (
            None  # nearly every launch: nothing to check, no label to look up
            if attributes is None
            else user_attributes(
                attributes,
                process_class.process_label(),
                is_workfunction=hasattr(process_class, "args_to_inputs"),
            )
        )
        return self.launcher.launch(process_class, resolved, attributes=checked, blocking=blocking)

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
        instance, done = self._launch_resolved(process, args, inputs, _attributes, blocking=True)
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

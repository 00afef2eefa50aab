"""The runtimes open in this Python process, and which one is in use.

``get_runtime()`` returns the runtime running the current step, else the most recently started
one still open, else a default one created on first use under ``$WORKACTORS_HOME``. Every open
runtime is shut down cleanly when the interpreter exits.

Then, in a program that opened a runtime, the objects alive at exit are frozen (``gc.freeze``):
the interpreter's last collections skip them instead of traversing SQLAlchemy's and the engine's
object graph one more time to free memory the OS takes back anyway, which took about a quarter
of a short script's cold start. Everything the engine holds (database connections, checkpoint
writers, actor threads) is closed by the shutdown before; what Python leaves unfinalized at exit
it never promised to finalize (``__del__`` of objects still alive then).
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import gc
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from actors import call_stack
from provenance.backend import (
    FencedBackend,
    ProvenanceBackend,
    set_backend_provider,
    set_open_backend_provider,
)
from provenance.logs import bound_process

if TYPE_CHECKING:
    from actors.process import Process
    from actors.runtime import Runtime
    from provenance.fencing import Fence

#: Seconds each runtime gets to let its processes end when the interpreter exits.
EXIT_TIMEOUT = 30.0

#: The runtime whose process step runs in this context (set by the process actor around steps).
step_runtime: contextvars.ContextVar[Runtime | None] = contextvars.ContextVar(
    "workactors_step_runtime", default=None
)
_open: list[Runtime] = []
_lock = threading.RLock()
#: Set once a runtime opened in this Python process (see the module docstring).
_used = threading.Event()


def opened(runtime: Runtime) -> None:
    """``runtime`` started: it is the one in use from now on outside steps."""
    with _lock:
        _open.append(runtime)
    _used.set()


def closed(runtime: Runtime) -> None:
    """``runtime`` shut down."""
    with _lock:
        if runtime in _open:
            _open.remove(runtime)


@contextlib.contextmanager
def step_scope(
    runtime: Runtime, process: Process, stack: tuple[int, ...], fence: Fence | None = None
) -> Iterator[None]:
    """What a step of ``process`` runs inside, on whichever thread drives it: ``runtime`` in
    use, the process on the call stack (called through ``stack``, its writes under ``fence``),
    its pid bound to every log line."""
    token = step_runtime.set(runtime)
    try:
        with call_stack.running(process, stack, fence), bound_process(process.pid, id(runtime)):
            yield
    finally:
        step_runtime.reset(token)


def get_runtime() -> Runtime:
    """The runtime in use (see the module docstring); creates the default one if needed."""
    in_step = step_runtime.get()
    if in_step is not None:
        return in_step
    with _lock:
        if _open:
            return _open[-1]
        from actors.runtime import Runtime  # the runtime module imports this one

        return Runtime()


def open_runtime() -> Runtime | None:
    """The runtime in use if one is open (see ``get_runtime``), never creating one."""
    in_step = step_runtime.get()
    if in_step is not None:
        return in_step
    with _lock:
        return _open[-1] if _open else None


def _open_backend() -> ProvenanceBackend | None:
    runtime = open_runtime()
    return None if runtime is None else runtime.backend


def runtime_holding(pid: int) -> Runtime | None:
    """The open runtime of this Python process in which process ``pid`` is live, if any."""
    with _lock:
        runtimes = list(_open)
    return next((runtime for runtime in runtimes if runtime.holds(pid)), None)


def shutdown_all() -> None:
    """Shut every open runtime down, the newest first."""
    with _lock:
        runtimes = list(reversed(_open))
    for runtime in runtimes:
        runtime.shutdown(timeout=EXIT_TIMEOUT)


def _at_exit() -> None:
    """Shut every open runtime down; then, if this program used the engine, spare the
    interpreter's final collections the objects still alive (see the module docstring)."""
    shutdown_all()
    if _used.is_set():
        gc.freeze()


atexit.register(_at_exit)


def _backend_in_this_context() -> ProvenanceBackend:
    """The backend of the runtime in use; in a step of a process held under a claim, one
    that fences every write with it (nodes a user stores in a step included)."""
    runtime = get_runtime()
    frame = call_stack.current()
    if frame is None:
        fence = None
    elif frame.fence is not None:  # the claim its actor started under, even if lost since
        fence = frame.fence
    else:
        fence = runtime.fence_of_stack(frame.pids)
    return runtime.backend if fence is None else FencedBackend(runtime.backend, fence)


set_backend_provider(_backend_in_this_context)
set_open_backend_provider(_open_backend)

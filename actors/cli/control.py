"""``process pause|play|kill``: reach a process wherever it runs.

A runtime of this Python process (a notebook calling the CLI) is asked directly. Otherwise the
process belongs to the daemon: ``actors.daemon.request`` sends the request to the worker that
holds it, or records it as an intent for the worker that will load it.
"""

from __future__ import annotations

import threading
import time

import typer
from rich.console import Console

from actors.cli import queries, render
from actors.cli.context import fail, open_runtime
from actors.control import Action
from actors.daemon import ControlError, Delivery, Route, request
from actors.holders import end_orphan
from actors.runtime import Runtime, runtime_holding
from provenance import ProcessState
from provenance.errors import NotExistentError

#: Why ``process kill`` ended a process whose runtime died.
BY_CLI = "marked killed by `workactors process kill`"
#: Seconds between two reads of a process's state while waiting for a kill to take effect.
POLL_INTERVAL = 0.1


def control(
    ctx: typer.Context, pk: int, action: Action, message: str | None, timeout: float
) -> None:
    """Pause, play or kill process ``pk``; for a kill wait up to ``timeout`` s for its end.

    Raises:
        typer.Exit: with status 1 if the process cannot be reached, has ended, or (kill) did
            not end in time.
    """
    console = render.stdout_console()
    holder = runtime_holding(pk)
    if holder is not None and _act_here(holder, pk, action, message):
        if action is Action.KILL and timeout and not holder.wait(pk, timeout):
            fail(f"process {pk} was asked to stop but has not ended within {timeout:g} s")
        console.print(_done_here(pk, action, timeout))
        return
    with open_runtime(ctx) as runtime:
        if action is Action.KILL and (pk in runtime.repaired or _end_orphan(runtime, pk)):
            console.print(f"process {pk} was left running by a runtime that died: marked KILLED")
            return
        state = _stored_state(runtime, pk)
        if state is not None and state.is_terminal:
            fail(
                f"process {pk} has already ended: it is {state.name}; "
                f"there is nothing to {action.value}"
            )
        try:
            delivery = request(runtime.home, pk, action, message)
        except ControlError as exc:
            fail(f"process {pk} is {state.name if state else 'not started'}, but {exc}")
        console.print(_delivered(pk, action, delivery, runtime))
        if action is Action.KILL and timeout and delivery.workers:
            _wait_killed(console, runtime, pk, timeout)


def _act_here(runtime: Runtime, pk: int, action: Action, message: str | None) -> bool:
    match action:
        case Action.KILL:
            return runtime.kill(pk, message)
        case Action.PAUSE:
            return runtime.pause(pk)
        case Action.PLAY:
            return runtime.play(pk)


def _done_here(pk: int, action: Action, timeout: float) -> str:
    match action:
        case Action.KILL:
            return f"Process {pk} killed" if timeout else f"Process {pk} asked to stop"
        case Action.PAUSE:
            return f"Process {pk} paused: it runs no further step until played"
        case Action.PLAY:
            return f"Process {pk} playing"


def _delivered(pk: int, action: Action, delivery: Delivery, runtime: Runtime) -> str:
    if delivery.route is Route.SENT:
        where = (
            f"worker {delivery.holder.index} holds it"
            if delivery.holder is not None
            else f"sent to {delivery.workers} daemon worker(s)"
        )
        return f"Process {pk}: {action.value} sent to the daemon ({where}); it acts between steps"
    if delivery.workers:
        return (
            f"Process {pk}: {action.value} recorded; the daemon was woken and applies it as it "
            "loads the process"
        )
    return (
        f"Process {pk}: {action.value} recorded; it is applied when the daemon loads the process, "
        f"but no daemon runs on {runtime.home}: `workactors daemon start` starts one"
    )


def _end_orphan(runtime: Runtime, pk: int) -> bool:
    try:
        return end_orphan(runtime, pk, by=BY_CLI)
    except NotExistentError:
        return False  # said below, as for every verb


def _stored_state(runtime: Runtime, pk: int) -> ProcessState | None:
    with runtime.storage.read_session() as session:
        return queries.process_detail(session, pk).node.state


def _wait_killed(console: Console, runtime: Runtime, pk: int, timeout: float) -> None:
    """Wait for the daemon's worker to record the end (there is no event to wait on here)."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        state = _stored_state(runtime, pk)
        if state is not None and state.is_terminal:
            console.print(f"Process {pk} {state.value}")
            return
        if time.monotonic() >= deadline:
            fail(f"process {pk} was asked to stop but has not ended within {timeout:g} s")
        pause.wait(POLL_INTERVAL)

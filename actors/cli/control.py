"""``process pause|play|kill``: reach processes wherever they run.

A runtime of this Python process (a notebook calling the CLI) is asked directly. Otherwise the
process belongs to the daemon: ``actors.daemon.request`` sends the request to the worker that
holds it, or records it as an intent for the worker that will load it.

Each pk gets its own outcome: one that cannot be reached (unknown, ended, held by another
program) does not stop the others, and the command exits 1 if any failed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
import typer

from actors.cli import jsonout, queries, render
from actors.cli.context import open_runtime
from actors.cli.identifiers import resolve_pks
from actors.control import Action
from actors.daemon import ControlError, Delivery, Route, request
from actors.holders import end_orphan, live_holder
from actors.runtime import Runtime, runtime_holding
from provenance import ProcessState, WorkactorsError
from provenance.errors import NotExistentError
from provenance.models import DbNode
from provenance.process_nodes import ProcessNode

#: Why ``process kill`` ended a process whose runtime died.
BY_CLI = "marked killed by `workactors process kill`"
#: Seconds between two reads of the processes' states while waiting for kills to take effect.
POLL_INTERVAL = 0.1

_TERMINAL = [state.value for state in ProcessState if state.is_terminal]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one request: ``result`` is ``done`` (applied here), ``sent`` (to the
    daemon worker holding it), ``recorded`` (an intent for the worker that loads it), ``ended``
    (a kill that took effect) or ``failed``."""

    pk: int
    action: Action
    result: str
    message: str
    #: True if a runtime (here, or a daemon worker) will act on it, so a kill can be awaited.
    reached: bool = False

    @property
    def failed(self) -> bool:
        """True if the request could not be delivered."""
        return self.result == "failed"

    def as_json(self) -> dict[str, object]:
        """The outcome for ``--json``."""
        return {
            "pk": self.pk,
            "action": self.action.value,
            "result": self.result,
            "ok": not self.failed,
            "message": self.message,
        }


def selectable(runtime: Runtime, action: Action) -> list[int]:
    """The pks ``--all`` means: unended processes for kill and pause, paused ones for play."""
    query = sa.select(DbNode.id).where(
        sa.or_(
            DbNode.node_type == ProcessNode.node_type,
            DbNode.node_type.startswith(f"{ProcessNode.node_type}."),
        ),
        DbNode.attributes["process_state"].as_string().not_in(_TERMINAL),
    )
    with runtime.storage.read_session() as session:
        rows = session.execute(query.order_by(DbNode.id)).scalars().all()
        if action is not Action.PLAY:
            return list(rows)
        paused = session.execute(
            sa.select(DbNode.id, DbNode.attributes).where(DbNode.id.in_(list(rows)))
        ).all()
    return sorted(pk for pk, attributes in paused if (attributes or {}).get("paused"))


def run_control(
    ctx: typer.Context,
    pks: Sequence[str],
    *,
    every: bool,
    action: Action,
    message: str | None,
    timeout: float,
    as_json: bool,
) -> None:
    """Pause, play or kill ``pks`` (or, with ``every``, all that qualify) and print the outcomes.

    Raises:
        typer.Exit: with status 1 if any request failed, 2 if no pk was given.
    """
    from actors.cli.guard import fail

    if every == bool(pks):
        fail(f"give the pks to {action.value}, or --all (not both)", 2)
    with open_runtime(ctx) as runtime:
        if pks:
            with runtime.storage.read_session() as session:
                chosen = resolve_pks(session, pks)
        else:
            chosen = selectable(runtime, action)
        outcomes = [control_one(runtime, pk, action, message) for pk in chosen]
        if action is Action.KILL and timeout:
            outcomes = _wait_killed(runtime, outcomes, timeout)
    _print(outcomes, as_json=as_json, action=action)
    if any(outcome.failed for outcome in outcomes):
        raise typer.Exit(1)


def _print(outcomes: list[Outcome], *, as_json: bool, action: Action) -> None:
    if as_json:
        jsonout.emit([outcome.as_json() for outcome in outcomes])
        return
    console, errors = render.stdout_console(), render.stderr_console()
    if not outcomes:
        console.print(f"No process to {action.value}")
    for outcome in outcomes:
        if outcome.failed:
            errors.print(render.error_line(outcome.message), soft_wrap=True)
        else:
            console.print(outcome.message, soft_wrap=True, markup=False)


def control_one(runtime: Runtime, pk: int, action: Action, message: str | None) -> Outcome:
    """Pause, play or kill process ``pk`` wherever it runs, and say what became of it (the
    dashboard's buttons call this too); never raises for a pk that cannot be reached."""
    holder = runtime_holding(pk)
    if holder is not None and _act_here(holder, pk, action, message):
        return Outcome(pk, action, "done", _done_here(pk, action), reached=True)
    if action is Action.KILL and (pk in runtime.repaired or _end_orphan(runtime, pk)):
        text = f"process {pk} was left running by a runtime that died: marked KILLED"
        return Outcome(pk, action, "done", text, reached=True)
    try:
        state = _stored_state(runtime, pk)
    except WorkactorsError as exc:
        return Outcome(pk, action, "failed", str(exc))
    if state is not None and state.is_terminal:
        return Outcome(
            pk,
            action,
            "failed",
            f"process {pk} has already ended: it is {state.name}; there is nothing to "
            f"{action.value}",
        )
    try:
        delivery = _request(runtime, pk, action, message)
    except ControlError as exc:
        known = state.name if state else "not started"
        elsewhere = _held_elsewhere(runtime, pk, action)
        text = elsewhere or f"process {pk} is {known}, but {exc}"
        return Outcome(pk, action, "failed", text)
    result = "sent" if delivery.route is Route.SENT else "recorded"
    message_text = _delivered(pk, action, delivery, runtime)
    return Outcome(pk, action, result, message_text, reached=delivery.workers > 0)


def _request(runtime: Runtime, pk: int, action: Action, message: str | None) -> Delivery:
    """Through the shared database when checkpoints live there, else the home's daemon."""
    if runtime.shared_database:
        from actors.daemon.remote import request_shared
        from persistence.pg_connection import channel_of
        from persistence.postgres_store import PostgresStore

        store = runtime.checkpoints.store
        assert isinstance(store, PostgresStore)
        return request_shared(store, channel_of(runtime.storage.url), pk, action, message)
    return request(runtime.home, pk, action, message)


def _act_here(runtime: Runtime, pk: int, action: Action, message: str | None) -> bool:
    match action:
        case Action.KILL:
            return runtime.kill(pk, message)
        case Action.PAUSE:
            return runtime.pause(pk)
        case Action.PLAY:
            return runtime.play(pk)


def _done_here(pk: int, action: Action) -> str:
    match action:
        case Action.KILL:
            return f"Process {pk} asked to stop"
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


def _held_elsewhere(runtime: Runtime, pk: int, action: Action) -> str | None:
    """Why ``pk`` cannot be reached if a live program that keeps no checkpoints runs it: who
    it is (host, OS pid) and how to reach it; None if no such program holds it."""
    found = live_holder(runtime, pk)
    if found is None:
        return None
    holder, row = found
    beat = "" if row is None else f", whose runtime beat {row.silent_for:.0f} s ago"
    ran_out = " and its heartbeat has run out" if holder.elsewhere else ""
    return (
        f"process {pk} runs in a program that keeps no checkpoints: OS process "
        f"{holder.os_pid} on {holder.host} (home {holder.home}{beat}), which alone can "
        f"{action.value} it; once that program is ended (on {holder.host}: kill "
        f"{holder.os_pid}){ran_out}, `workactors process kill {pk}` marks the process KILLED"
    )


def _end_orphan(runtime: Runtime, pk: int) -> bool:
    try:
        return end_orphan(runtime, pk, by=BY_CLI)
    except NotExistentError:
        return False  # said below, as for every verb


def _stored_state(runtime: Runtime, pk: int) -> ProcessState | None:
    with runtime.storage.read_session() as session:
        return queries.process_detail(session, pk).node.state


def _wait_killed(runtime: Runtime, outcomes: list[Outcome], timeout: float) -> list[Outcome]:
    """Wait for the kills that reached a runtime to be recorded as ended (there is no event
    to wait on from here), up to ``timeout`` seconds for all of them together."""
    waiting = {outcome.pk for outcome in outcomes if outcome.reached}
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    ended: dict[int, ProcessState] = {}
    while waiting:
        for pk in list(waiting):
            holder = runtime_holding(pk)
            if holder is not None and not holder.wait(pk, 0):
                continue
            state = _stored_state(runtime, pk)
            if state is not None and state.is_terminal:
                ended[pk] = state
                waiting.discard(pk)
        if not waiting or time.monotonic() >= deadline:
            break
        pause.wait(POLL_INTERVAL)
    result: list[Outcome] = []
    for outcome in outcomes:
        state = ended.get(outcome.pk)
        if state is ProcessState.KILLED:
            result.append(
                Outcome(outcome.pk, outcome.action, "ended", f"Process {outcome.pk} killed")
            )
        elif state is not None:
            result.append(
                Outcome(
                    outcome.pk,
                    outcome.action,
                    "failed",
                    f"process {outcome.pk} ended {state.name} before the kill took effect (a "
                    "kill lands between steps; its last step was already running)",
                )
            )
        elif outcome.pk in waiting:
            result.append(
                Outcome(
                    outcome.pk,
                    outcome.action,
                    "failed",
                    f"process {outcome.pk} was asked to stop but has not ended within "
                    f"{timeout:g} s",
                )
            )
        else:
            result.append(outcome)
    return result

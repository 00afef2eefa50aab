"""``workactors process ...``: inspect processes (list, show, report, watch), control them
(pause, play, kill), end those whose runtime died (repair) and requeue checkpoints that failed
to resume."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import RenderableType

from actors.cli import jsonout, queries, render, report, watch
from actors.cli.checkpoints import checkpoint_of, database_checkpoint_of
from actors.cli.context import fail, open_runtime, read_session
from actors.cli.control import run_control
from actors.cli.guard import MAX_PK
from actors.cli.identifiers import resolve_pks
from actors.cli.listing import ProcessFilter, list_processes, state_choice
from actors.cli.options import JsonFlag, OptionalPksArgument, PkArgument, PksArgument
from actors.cli.watch import DEFAULT_INTERVAL
from actors.control import Action
from actors.daemon.requeue import failed_checkpoints, requeue
from actors.daemon.status import view
from actors.runtime import Runtime
from provenance import WorkactorsError

DEFAULT_LIMIT = 50

app = typer.Typer(
    help="Inspect processes (what ran, how it ended, what it reported), watch, pause, play "
    "and kill them.",
    no_args_is_help=True,
)

MessageOption = Annotated[
    str | None, typer.Option("--message", "-m", help="Why; it goes into the report.")
]
IntervalOption = Annotated[
    float, typer.Option("--interval", "-i", min=0.1, help="Seconds between two refreshes.")
]


@app.command("list")
def list_command(  # noqa: PLR0917 - typer passes each option as a parameter
    ctx: typer.Context,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", "-n", min=1, max=MAX_PK, help="Show at most this many, the newest."
        ),
    ] = DEFAULT_LIMIT,
    show_all: Annotated[
        bool, typer.Option("--all", "-a", help="Show every process, ignoring --limit.")
    ] = False,
    states: Annotated[
        list[str] | None,
        typer.Option(
            "--state",
            "-s",
            parser=state_choice,
            help="Only processes in this state (repeat for several; 'paused' too).",
        ),
    ] = None,
    past_days: Annotated[
        int | None,
        typer.Option(
            "--past-days",
            "-p",
            min=0,
            max=1_000_000,
            help="Only processes created in the last N days.",
        ),
    ] = None,
    process_label: Annotated[
        str | None,
        typer.Option(
            "--process-label", "-L", help="Only processes of this label (% is a wildcard)."
        ),
    ] = None,
    label: Annotated[
        str | None,
        typer.Option(
            "--label",
            help="Only processes launched with this label (metadata; % is a wildcard).",
        ),
    ] = None,
    process_class: Annotated[
        str | None,
        typer.Option(
            "--process-class", "-C", help="Only processes of this class (pkg.mod.Name, or Name)."
        ),
    ] = None,
    exit_status: Annotated[
        int | None,
        typer.Option(
            "--exit-status",
            "-E",
            min=-(2**63),
            max=2**63 - 1,
            help="Only processes that ended with this exit status.",
        ),
    ] = None,
    failed: Annotated[
        bool,
        typer.Option(
            "--failed", "-X", help="Only processes that finished with a non-zero exit status."
        ),
    ] = False,
    as_json: JsonFlag = False,
    live: Annotated[
        bool, typer.Option("--watch", "-w", help="Refresh the list live until Ctrl-C.")
    ] = False,
    interval: IntervalOption = DEFAULT_INTERVAL,
) -> None:
    """List processes: those still going first, then those that ended, each newest last; pk,
    label, state (paused ones say so), exit status, age. Filters combine."""
    where = ProcessFilter(
        states=tuple(states or ()),
        past_days=past_days,
        process_label=process_label,
        label=label,
        process_class=process_class,
        exit_status=exit_status,
        failed=failed,
    )
    page_limit = None if show_all else limit
    with open_runtime(ctx) as runtime:
        if live:

            def snapshot() -> tuple[RenderableType, bool]:
                page = list_processes(runtime.storage, limit=page_limit, where=where)
                return watch.page_view(page, dt.datetime.now(dt.UTC)), False

            watch.watch(render.stdout_console(), snapshot, interval=interval)
            return
        page = list_processes(runtime.storage, limit=page_limit, where=where)
    if as_json:
        jsonout.emit(jsonout.process_list(page))
    else:
        render.stdout_console().print(render.process_list(page, dt.datetime.now(dt.UTC)))


@app.command("show")
def show_command(ctx: typer.Context, pks: PksArgument, as_json: JsonFlag = False) -> None:
    """Show processes: state, exit status, inputs, outputs, caller, called, exception, and what
    their checkpoint says (read without loading it)."""
    with open_runtime(ctx) as runtime, runtime.storage.read_session() as session:
        details = [queries.process_detail(session, pk) for pk in resolve_pks(session, pks)]
        saved = [
            database_checkpoint_of(runtime.storage.url, runtime.home, detail.node.pk)
            if runtime.shared_database
            else checkpoint_of(runtime.home, detail.node.pk)
            for detail in details
        ]
    if as_json:
        documents = [
            {**jsonout.process_detail(detail), "checkpoint": view.as_dict() if view else None}
            for detail, view in zip(details, saved, strict=True)
        ]
        jsonout.emit(jsonout.one_or_many(documents))
        return
    now = dt.datetime.now(dt.UTC)
    views = [
        render.process_detail(detail, now, checkpoint=view)
        for detail, view in zip(details, saved, strict=True)
    ]
    render.stdout_console().print(render.separated(views))


@app.command("report")
def report_command(
    ctx: typer.Context,
    pks: PksArgument,
    levelname: Annotated[
        report.Level | None,
        typer.Option(
            "--levelname", "-l", case_sensitive=False, help="Only records at this level and above."
        ),
    ] = None,
    max_depth: Annotated[
        int | None,
        typer.Option(
            "--max-depth",
            "-m",
            min=0,
            max=MAX_PK,
            help="How many levels of called processes to include (0: only this one).",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show what a process and every process it called logged, in time order, indented by
    depth, with the traceback of an excepted process where it ended."""
    with read_session(ctx) as session:
        reports = [
            report.load_report(session, pk, levelname=levelname, max_depth=max_depth)
            for pk in resolve_pks(session, pks)
        ]
    if as_json:
        jsonout.emit(jsonout.one_or_many([jsonout.process_report(tree) for tree, _ in reports]))
        return
    views = [report.render(tree, events) for tree, events in reports]
    render.stdout_console().print(render.separated(views))


@app.command("kill")
def kill_command(  # noqa: PLR0917 - typer passes each option as a parameter
    ctx: typer.Context,
    pks: OptionalPksArgument = None,
    every: Annotated[
        bool, typer.Option("--all", "-a", help="Kill every process that has not ended.")
    ] = False,
    message: MessageOption = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", "-t", min=0, max=86_400, help="Seconds to wait for them to end; 0: do not."
        ),
    ] = 30.0,
    as_json: JsonFlag = False,
) -> None:
    """Kill processes and their running children before their next step.

    A runtime of this Python process is asked directly; a process of the daemon is killed by
    the worker holding it, or, if none holds it now, by the one that next loads it. A step that
    is running is not interrupted.
    """
    run_control(
        ctx,
        pks or [],
        every=every,
        action=Action.KILL,
        message=message,
        timeout=timeout,
        as_json=as_json,
    )


@app.command("repair")
def repair_command(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """End KILLED the processes whose runtime died without ending them (a script running them
    was killed) and that have no checkpoint to resume from, on this machine or another sharing
    the database (whose runtime's heartbeat ran out). Every runtime that opens on the home does
    this too; this command does it on demand and says which."""
    with open_runtime(ctx) as runtime:
        ended = sorted({*runtime.repaired, *runtime.repair()})
    if as_json:
        jsonout.emit(ended)
    elif ended:
        render.stdout_console().print(
            f"Marked KILLED, their runtime having died: {', '.join(map(str, ended))}",
            soft_wrap=True,
            markup=False,
        )
    else:
        render.stdout_console().print("No process was left running by a runtime that died")


@app.command("pause")
def pause_command(
    ctx: typer.Context,
    pks: OptionalPksArgument = None,
    every: Annotated[
        bool, typer.Option("--all", "-a", help="Pause every process that has not ended.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Pause processes: they run no further step until played (`process list` shows it).

    Reaches processes of this Python process and of the daemon, as `kill` does.
    """
    run_control(
        ctx,
        pks or [],
        every=every,
        action=Action.PAUSE,
        message=None,
        timeout=0,
        as_json=as_json,
    )


@app.command("play")
def play_command(
    ctx: typer.Context,
    pks: OptionalPksArgument = None,
    every: Annotated[bool, typer.Option("--all", "-a", help="Play every paused process.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Let paused processes go on."""
    run_control(
        ctx,
        pks or [],
        every=every,
        action=Action.PLAY,
        message=None,
        timeout=0,
        as_json=as_json,
    )


@app.command("watch")
def watch_command(
    ctx: typer.Context,
    pk: PkArgument,
    interval: IntervalOption = DEFAULT_INTERVAL,
    once: Annotated[bool, typer.Option("--once", help="Print the tree once and exit.")] = False,
) -> None:
    """Watch a process and every process it called, live, until it ends (Ctrl-C leaves)."""
    console = render.stdout_console()
    with open_runtime(ctx) as runtime:
        with runtime.storage.read_session() as session:
            [process_pk] = resolve_pks(session, [pk])

        def snapshot() -> tuple[RenderableType, bool]:
            with runtime.storage.read_session() as session:
                tree = queries.call_tree(session, process_pk)
            return watch.tree_view(tree, dt.datetime.now(dt.UTC)), watch.is_over(tree)

        if once:
            console.print(snapshot()[0])
        else:
            watch.watch(console, snapshot, interval=interval)


@app.command("requeue")
def requeue_command(
    ctx: typer.Context,
    pks: OptionalPksArgument = None,
    listing: Annotated[
        bool, typer.Option("--list", "-l", help="List the checkpoints in running/failed.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Put checkpoints from running/failed back in the queue, once the code that wrote them is
    back; the daemon's workers resume them. --list shows what is there and why."""
    if listing == bool(pks):
        fail("give the pks to requeue, or --list (not both)", 2)
    with open_runtime(ctx) as runtime:
        if listing:
            found = failed_checkpoints(runtime)
            if as_json:
                jsonout.emit([jsonout.failed_checkpoint(checkpoint) for checkpoint in found])
            else:
                render.stdout_console().print(render.failed_checkpoints(found))
            return
        with runtime.storage.read_session() as session:
            chosen = resolve_pks(session, pks or [])
        outcomes = [_requeue_one(runtime, pk) for pk in chosen]
    if as_json:
        jsonout.emit([{"pk": pk, "ok": ok, "message": text} for pk, ok, text in outcomes])
    else:
        console, errors = render.stdout_console(), render.stderr_console()
        for _pk, ok, text in outcomes:
            if ok:
                console.print(text, soft_wrap=True, markup=False)
            else:
                errors.print(render.error_line(text), soft_wrap=True)
    if not all(ok for _pk, ok, _text in outcomes):
        raise typer.Exit(1)


def _requeue_one(runtime: Runtime, pk: int) -> tuple[int, bool, str]:
    try:
        state = requeue(runtime, pk)
    except WorkactorsError as exc:
        return pk, False, str(exc)
    workers = view(runtime.home).running
    after = "the daemon resumes it now" if workers else "`workactors daemon start` resumes it"
    return pk, True, f"Process {pk} requeued ({state.value}); {after}"

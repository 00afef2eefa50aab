"""The root ``workactors`` command: global options and the verb groups under it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from actors.cli import archive, daemon, group, node, process, storage
from actors.cli.context import CliSettings
from actors.cli.guard import GuardedGroup
from actors.cli.web import web_command
from actors.runtime import DATABASE_URL_ENV, HOME_ENV

app = typer.Typer(
    name="workactors",
    help="Scientific workflows as actors, with full provenance: inspect what ran, run the daemon.",
    no_args_is_help=True,
    add_completion=True,
    cls=GuardedGroup,
    pretty_exceptions_show_locals=False,
)
app.add_typer(process.app, name="process")
app.add_typer(node.app, name="node")
app.add_typer(group.app, name="group")
app.add_typer(archive.app, name="archive")
app.add_typer(daemon.app, name="daemon")
app.add_typer(storage.app, name="storage")
app.command("web")(web_command)


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            envvar=HOME_ENV,
            file_okay=False,
            help="Folder of the embedded database and checkpoints.",
            show_default="~/.workactors",
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar=DATABASE_URL_ENV,
            help="SQLAlchemy URL of the provenance database (default: SQLite in the home).",
        ),
    ] = None,
) -> None:
    """Keep the global options for the verbs; they open the database only when they run."""
    ctx.obj = CliSettings(home=home, database_url=database_url)


@app.command(
    "bench",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def bench(ctx: typer.Context) -> None:
    """Run the throughput benchmarks: the same as ``python -m benchmarks`` (try ``--help``)."""
    from benchmarks.__main__ import main as bench_main  # heavy imports only when asked

    raise typer.Exit(bench_main(ctx.args))

"""What every verb shares: the global options, a read session on the database, and errors.

User errors (a pk that is not there, a database that cannot be used) end the command with one
red line on stderr and exit status 1 (``actors.cli.guard`` catches them for every verb); a Python
traceback is kept for bugs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import typer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actors.cli.guard import database_message, fail
from actors.runtime import Runtime, default_home
from provenance import WorkactorsError

__all__ = ["CliSettings", "fail", "home_of", "open_runtime", "read_session", "settings_of"]


@dataclass(frozen=True, slots=True)
class CliSettings:
    """The global options, passed from the root callback to the verbs through ``ctx.obj``.

    None means "as the Runtime decides": ``$WORKACTORS_HOME`` / ``$WORKACTORS_DATABASE_URL``,
    else ``~/.workactors`` and the SQLite file in it.
    """

    home: Path | None = None
    database_url: str | None = None


def settings_of(ctx: typer.Context) -> CliSettings:
    """The global options of this invocation (defaults if a sub-app runs on its own)."""
    settings = ctx.find_object(CliSettings)
    return settings if settings is not None else CliSettings()


def home_of(ctx: typer.Context) -> Path:
    """The home this invocation works on: ``--home``, else as the Runtime decides."""
    settings = settings_of(ctx)
    return settings.home if settings.home is not None else default_home()


@contextmanager
def open_runtime(ctx: typer.Context) -> Iterator[Runtime]:
    """A Runtime on the selected home and database, shut down after the block.

    Opening the Runtime (rather than only an engine) brings the schema up to date and refuses a
    corrupt or foreign database exactly as every other workactors program does. User and
    database errors raised in the block end the command too.

    Raises:
        typer.Exit: with status 1 after printing the reason, on any user or database error.
    """
    settings = settings_of(ctx)
    try:
        with Runtime(settings.home, database_url=settings.database_url) as runtime:
            yield runtime
    except WorkactorsError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        fail(f"cannot read the provenance database: {database_message(exc)}")
    except OSError as exc:
        fail(f"cannot use the workactors home: {exc}")


@contextmanager
def read_session(ctx: typer.Context) -> Iterator[Session]:
    """A read session on the database of the selected home (see ``open_runtime``).

    Raises:
        typer.Exit: with status 1 after printing the reason, on any user or database error.
    """
    with open_runtime(ctx) as runtime, runtime.storage.read_session() as session:
        yield session

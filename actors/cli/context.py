"""What every verb shares: the global options, a read session on the database, and errors.

User errors (a pk that is not there, a database that cannot be used) end the command with one
red line on stderr and exit status 1; a Python traceback is kept for bugs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import typer
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from actors.cli.render import error_line, stderr_console
from actors.runtime import Runtime
from provenance import WorkactorsError


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


def fail(message: str) -> NoReturn:
    """Print ``message`` as one red line on stderr and exit with status 1."""
    stderr_console().print(error_line(message), soft_wrap=True)
    raise typer.Exit(1)


def _database_message(exc: SQLAlchemyError) -> str:
    # The driver's own message says what is wrong; SQLAlchemy's wrapper adds the SQL and a URL.
    reason = exc.orig if isinstance(exc, DBAPIError) else exc
    return " ".join(str(reason).split())


@contextmanager
def read_session(ctx: typer.Context) -> Iterator[Session]:
    """A read session on the database of the selected home, inside a Runtime shut down after.

    Opening the Runtime (rather than only an engine) brings the schema up to date and refuses a
    corrupt or foreign database exactly as every other workactors program does.

    Raises:
        typer.Exit: with status 1 after printing the reason, on any user or database error.
    """
    settings = settings_of(ctx)
    try:
        with (
            Runtime(settings.home, database_url=settings.database_url) as runtime,
            runtime.storage.read_session() as session,
        ):
            yield session
    except WorkactorsError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        fail(f"cannot read the provenance database: {_database_message(exc)}")
    except OSError as exc:
        fail(f"cannot use the workactors home: {exc}")

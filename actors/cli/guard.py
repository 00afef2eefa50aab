"""One place where every verb's user errors become one line on stderr and an exit status.

The root command group catches, around whatever verb runs:

- usage errors (a bad option value, a PK out of range, a missing argument): exit status 2, with
  the command whose ``--help`` explains it;
- the project's own errors (``WorkactorsError``: a missing node, an unusable database, a daemon
  that would not start) and database errors: exit status 1;
- the operating system refusing something (a home that is a file, a folder without permission):
  exit status 1;
- a database URL whose driver is not installed (SQLAlchemy imports it lazily): exit status 1.

A bug still shows its traceback: catching ``Exception`` would hide it from whoever must fix it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

import typer
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from typer._click.core import Context
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from actors.cli.render import error_line, stderr_console
from provenance.errors import WorkactorsError

#: The largest pk there can be: SQLite's INTEGER and PostgreSQL's BIGINT are signed 64-bit.
MAX_PK = 2**63 - 1
#: Exit status of a usage error, as click and most Unix tools use it.
USAGE_STATUS = 2


def fail(message: str, status: int = 1) -> NoReturn:
    """Print ``message`` as one red line on stderr and exit with ``status``."""
    stderr_console().print(error_line(message), soft_wrap=True)
    raise typer.Exit(status)


def database_message(exc: SQLAlchemyError) -> str:
    """What the driver said, on one line (SQLAlchemy's wrapper adds the SQL and a link)."""
    reason = exc.orig if isinstance(exc, DBAPIError) else exc
    return " ".join(str(reason).split())


def _usage_message(exc: UsageError) -> str:
    where = f"; `{exc.ctx.command_path} --help` says more" if exc.ctx is not None else ""
    return " ".join(exc.format_message().split()).rstrip(".") + where


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def report_errors(run: Any, *args: Any) -> Any:
    """Call ``run(*args)``, turning user errors into one line on stderr and an exit status.

    Raises:
        typer.Exit: with status 2 for usage errors and 1 for the others.
    """
    try:
        return run(*args)
    except NoArgsIsHelpError:
        raise  # prints the help, as the user asked by giving no arguments
    except UsageError as exc:
        fail(_usage_message(exc), USAGE_STATUS)
    except WorkactorsError as exc:
        fail(_one_line(exc))
    except SQLAlchemyError as exc:
        fail(f"cannot use the provenance database: {database_message(exc)}")
    except ImportError as exc:
        fail(
            f"a module this command needs is not installed ({exc}); workactors supports "
            "SQLite (the default) and PostgreSQL (postgresql://...) database URLs"
        )
    except OSError as exc:
        fail(_one_line(exc))


class GuardedGroup(TyperGroup):
    """The root group: runs every verb through ``report_errors``."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Context | None = None,
        **extra: Any,
    ) -> Context:
        """Parse the root options (``--home``, ``--database-url``) with the same guard."""
        context: Context = report_errors(super().make_context, info_name, args, parent, **extra)
        return context

    def invoke(self, ctx: Context) -> Any:
        """Run the chosen verb with the guard."""
        return report_errors(super().invoke, ctx)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 process``, ``2 processes``."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"


def pk_list(pks: Sequence[int]) -> str:
    """``3, 4 and 5``."""
    shown = [str(pk) for pk in pks]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]

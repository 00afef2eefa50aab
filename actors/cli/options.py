"""Arguments and options several verbs share, with the bounds that keep bad input out.

A pk is checked against the range a database can hold before any query runs, so that
``process show 99999999999999999999999`` is a usage error rather than an ``OverflowError`` deep
in the database driver.
"""

from __future__ import annotations

from typing import Annotated

import typer

from actors.cli.guard import MAX_PK

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print plain JSON for scripts instead of tables.")
]
PkArgument = Annotated[
    int, typer.Argument(metavar="PK", min=1, max=MAX_PK, help="The pk (pid) of the process.")
]
PksArgument = Annotated[
    list[int],
    typer.Argument(metavar="PK...", min=1, max=MAX_PK, help="The pks (pids) of the processes."),
]
OptionalPksArgument = Annotated[
    list[int] | None,
    typer.Argument(metavar="[PK...]", min=1, max=MAX_PK, help="The pks (pids) of the processes."),
]
NodePksArgument = Annotated[
    list[int], typer.Argument(metavar="PK...", min=1, max=MAX_PK, help="The pks of the nodes.")
]

"""Arguments and options several verbs share, with the bounds that keep bad input out.

A node is named by a pk, a uuid or a uuid prefix (``actors.cli.identifiers``); a pk is checked
against the range a database can hold before any query runs, so that
``process show 99999999999999999999999`` is a usage error rather than an ``OverflowError`` deep
in the database driver.
"""

from __future__ import annotations

from typing import Annotated

import typer

from actors.cli.identifiers import node_argument

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print plain JSON for scripts instead of tables.")
]
PkArgument = Annotated[
    str,
    typer.Argument(
        metavar="PK", parser=node_argument, help="The pk (pid), uuid or uuid prefix of the process."
    ),
]
PksArgument = Annotated[
    list[str],
    typer.Argument(
        metavar="PK...",
        parser=node_argument,
        help="The pks (pids), uuids or uuid prefixes of the processes.",
    ),
]
OptionalPksArgument = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="[PK...]",
        parser=node_argument,
        help="The pks (pids), uuids or uuid prefixes of the processes.",
    ),
]
NodePksArgument = Annotated[
    list[str],
    typer.Argument(
        metavar="PK...", parser=node_argument, help="The pks, uuids or uuid prefixes of the nodes."
    ),
]

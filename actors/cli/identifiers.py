"""Node arguments: a pk, a full uuid or a uuid prefix, checked before any query runs.

``process show 12``, ``process show 3f2a9c1e`` and ``process show 3f2a9c1e-7b2d-...`` name the same
kind of thing. A pk outside the range a database holds, or a word that is neither digits nor
hexadecimal, is a usage error (exit status 2); a prefix is looked up in the database when the
verb runs, and one that matches nothing, or several nodes, is an error naming them (status 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import typer
from sqlalchemy.orm import Session

from actors.cli.guard import MAX_PK
from provenance.errors import NotExistentError
from provenance.identifiers import UUID_PREFIX, find_node_row
from provenance.models import DbNode

#: The shortest uuid prefix taken: shorter ones match too much to be meant (and ``abc`` is
#: more likely a mistyped pk).
MIN_PREFIX = 4


def node_argument(value: str) -> str:
    """Check one PK/UUID argument; return it normalised (digits, or a lowercase prefix).

    Raises:
        typer.BadParameter: for a pk out of range, or text that is neither.
    """
    text = value.strip().lower()
    if text.isascii() and text.isdigit():
        if int(text) < 1:
            raise typer.BadParameter("Input should be greater than or equal to 1")
        if int(text) > MAX_PK:
            raise typer.BadParameter(f"Input should be less than or equal to {MAX_PK}")
        return text  # as typed: "04845586" may be the start of a uuid, not pk 4845586
    if len(text.replace("-", "")) < MIN_PREFIX or not UUID_PREFIX.match(text):
        raise typer.BadParameter(
            f"{value!r} is neither a valid integer (a pk) nor a uuid or a uuid prefix of at "
            f"least {MIN_PREFIX} hexadecimal digits"
        )
    return text


def is_pk(identifier: str) -> bool:
    """True for a pk (digits), False for a uuid or prefix."""
    return identifier.isdigit()


def resolve_pks(session: Session, identifiers: Sequence[str]) -> list[int]:
    """The pks the arguments name: pks as they are, uuids and prefixes looked up (digits that
    name no pk but start a uuid name that node: a pk wins when both exist).

    Raises:
        NotExistentError: for a uuid or prefix that matches no node.
        AmbiguousIdentifierError: for a prefix that matches several (listed).
    """
    return [_pk_of(session, identifier) for identifier in identifiers]


def _pk_of(session: Session, identifier: str) -> int:
    if not is_pk(identifier):
        return find_node_row(session, identifier).id
    pk = int(identifier)
    if len(identifier) < MIN_PREFIX or session.get(DbNode, pk) is not None:
        return pk
    try:  # digits that name no pk may start a uuid that `process list` showed
        return find_node_row(session, identifier).id
    except NotExistentError:
        return pk  # the verb says there is no node with that pk

"""Finding a node by what a user types: a pk, a full uuid, or the start of a uuid.

A uuid prefix is what ``process list`` and ``git`` users copy: it must match exactly one node,
and when it matches several the error lists them, so that the user can type a longer one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from provenance.errors import AmbiguousIdentifierError, NotExistentError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from provenance.models import DbNode

#: A full uuid, or a prefix of one: hex digits, dashes where a uuid has them.
UUID_PREFIX = re.compile(r"^[0-9a-f]{1,8}(-[0-9a-f]{0,4}){0,3}(-[0-9a-f]{0,12})?$")
#: How many candidates an ambiguous prefix lists.
CANDIDATES_SHOWN = 10
MAX_PK = 2**63 - 1


def parse_identifier(identifier: int | str) -> int | str:
    """``identifier`` as a pk (int) or a lowercase uuid prefix (str).

    A str of digits only is a pk, as in ``workactors process show 12``; anything else must be
    a uuid or a prefix of one.

    Raises:
        TypeError: for anything but an int or a str (a bool included).
        ValueError: for a str that is neither (the message says what is accepted).
    """
    if isinstance(identifier, bool) or not isinstance(identifier, int | str):
        raise TypeError(
            "load_node takes a pk (int) or a uuid (str), or a unique prefix of a uuid, "
            f"not {identifier!r}"
        )
    if isinstance(identifier, int):
        return identifier
    text = identifier.strip().lower()
    if text.isdigit() and text.isascii():
        return int(text)
    if not UUID_PREFIX.match(text):
        raise ValueError(
            f"{identifier!r} is neither a pk (digits) nor a uuid or uuid prefix (hexadecimal "
            "digits with dashes where a uuid has them, e.g. 3f2a9c1e or 3f2a9c1e-7b)"
        )
    return text


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_node_row(session: Session, identifier: int | str) -> DbNode:
    """The node row named by a pk, a uuid or a unique uuid prefix, in one query.

    Raises:
        TypeError, ValueError: for an identifier that is not one (see ``parse_identifier``).
        NotExistentError: if no node matches.
        AmbiguousIdentifierError: if a prefix matches several nodes (listed, with their pks).
    """
    from provenance.models import DbNode  # on first query: not at every program's start

    parsed = parse_identifier(identifier)
    if isinstance(parsed, int):
        row = session.get(DbNode, parsed) if 0 < parsed <= MAX_PK else None
        if row is not None:
            return row
        typed = identifier.strip() if isinstance(identifier, str) else ""
        if not UUID_PREFIX.match(typed):
            raise NotExistentError(
                f"no node with pk {parsed} in the provenance database; "
                "`workactors process list` shows the stored processes"
            )
        # Typed digits that name no pk may start a uuid (one in ~400 does, for 8 characters):
        # what `process list` showed is found either way; a pk wins when both exist.
        try:
            return _by_uuid(session, typed)
        except NotExistentError:
            raise NotExistentError(
                f"no node with pk {parsed} nor a uuid starting with {typed!r} in the provenance "
                "database; `workactors process list` shows the stored processes"
            ) from None
    return _by_uuid(session, parsed)


def _by_uuid(session: Session, parsed: str) -> DbNode:
    """The node row whose uuid is ``parsed`` or starts with it (see ``find_node_row``)."""
    import sqlalchemy as sa

    from provenance.models import DbNode

    if len(parsed) == 36:
        condition = DbNode.uuid == parsed
    else:
        condition = DbNode.uuid.like(f"{_escape_like(parsed)}%", escape="\\")
        if session.get_bind().dialect.name == "sqlite":
            # SQLite compares text bytewise: a range lets it use the uuid index (its LIKE is
            # case-insensitive and cannot); "~" sorts after every uuid character.
            condition = sa.and_(condition, DbNode.uuid >= parsed, DbNode.uuid < f"{parsed}~")
    rows = (
        session.execute(
            sa.select(DbNode).where(condition).order_by(DbNode.id).limit(CANDIDATES_SHOWN + 1)
        )
        .scalars()
        .all()
    )
    if not rows:
        kind = "uuid" if len(parsed) == 36 else "uuid prefix"
        raise NotExistentError(
            f"no node with {kind} {parsed!r} in the provenance database; "
            "`workactors process list` shows the stored processes"
        )
    if len(rows) > 1:
        shown = ", ".join(f"{row.uuid} (pk {row.id}, {row.node_type})" for row in rows[:10])
        more = " and more" if len(rows) > CANDIDATES_SHOWN else ""
        raise AmbiguousIdentifierError(
            f"the uuid prefix {parsed!r} matches several nodes: {shown}{more}; "
            "give more characters of the uuid, or the pk"
        )
    return rows[0]

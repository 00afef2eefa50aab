"""What an export starts from: nodes named as ``load_node`` takes them, and groups by label.

The Python API takes what the CLI takes (pks, uuids, uuid prefixes) and the nodes a script
holds; a lone identifier or label is one, never a sequence of characters. Pks are checked a
batch at a time (an export may name thousands); uuids and prefixes one by one, as each must
match exactly one node.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeAlias

import sqlalchemy as sa
from sqlalchemy.orm import Session

from provenance.archive.format import CHUNK
from provenance.errors import ArchiveError, NotExistentError
from provenance.identifiers import MAX_PK, find_node_row, parse_identifier
from provenance.models import DbGroup, DbNode
from provenance.nodes import Node

#: A node to export: a pk, a uuid or uuid prefix, or a stored node.
NodeChoice: TypeAlias = int | str | Node


def _one_or_many(values: object, single: tuple[type, ...]) -> list[object]:
    if isinstance(values, single):
        return [values]
    if not isinstance(values, Iterable):
        raise TypeError(f"expected one or an iterable of them, not {values!r}")
    return list(values)


def _pk_of(session: Session, choice: object) -> int:
    """The pk a choice names (a pk is returned unchecked: ``node_pks`` checks them together)."""
    if isinstance(choice, Node):
        if choice.pk is None:
            raise ArchiveError(f"{choice!r} is not stored; store it before exporting it")
        return choice.pk
    if isinstance(choice, bool) or not isinstance(choice, int | str):
        raise TypeError(
            "create_archive takes nodes as pks (int), uuids or uuid prefixes (str) or stored "
            f"nodes, not {choice!r}"
        )
    parsed = parse_identifier(choice)
    if isinstance(parsed, int) and isinstance(choice, int):
        return parsed
    return find_node_row(session, choice).id


def node_pks(session: Session, nodes: NodeChoice | Iterable[NodeChoice]) -> set[int]:
    """The pks of the chosen nodes.

    Raises:
        NotExistentError: for a pk, uuid or prefix that names no node.
        AmbiguousIdentifierError: for a prefix that names several.
        ArchiveError: for a node that is not stored.
        TypeError, ValueError: for something that is not a node identifier.
    """
    pks = {_pk_of(session, choice) for choice in _one_or_many(nodes, (int, str, Node))}
    known: set[int] = set()
    in_range = sorted(pk for pk in pks if 0 < pk <= MAX_PK)
    for start in range(0, len(in_range), CHUNK):
        batch = in_range[start : start + CHUNK]
        known.update(session.execute(sa.select(DbNode.id).where(DbNode.id.in_(batch))).scalars())
    if missing := sorted(pks - known):
        raise NotExistentError(
            f"no node with pk {', '.join(map(str, missing))} in the provenance database; "
            "`workactors process list` shows the stored processes"
        )
    return pks


def find_groups(session: Session, labels: str | Iterable[str]) -> list[DbGroup]:
    """The groups labelled ``labels`` (a str is one label).

    Raises:
        NotExistentError: for a label no group has.
        TypeError: for a label that is not a str.
    """
    groups = []
    for label in _labels(labels):
        group = session.execute(
            sa.select(DbGroup).where(DbGroup.label == label, DbGroup.type_string == "")
        ).scalar_one_or_none()
        if group is None:
            raise NotExistentError(
                f"no group labelled {label!r}; `workactors group list` shows them"
            )
        groups.append(group)
    return groups


def _labels(labels: object) -> Iterator[str]:
    for label in _one_or_many(labels, (str,)):
        if not isinstance(label, str):
            raise TypeError(f"create_archive takes groups by label (str), not {label!r}")
        yield label

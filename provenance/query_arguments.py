"""Checks of the arguments a ``QueryBuilder`` takes: tags, filter dicts, key lists, row counts,
batch sizes and the forms ``order_by`` accepts.

Each runs when the argument is given, so that a mistake raises a ``QueryError`` naming the call
and the value, not a database error when the query runs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from provenance.errors import QueryError
from provenance.values import INT_MAX

#: The most rows one fetch may ask for: PostgreSQL's ``FETCH`` and the drivers count in 32 bits.
MAX_BATCH_SIZE = 2**31 - 1


def new_tag(tag: str | None, cls: Any, taken: Collection[str]) -> str:
    """``tag``, or (if None) the class's name numbered past the ``taken`` tags.

    Raises:
        QueryError: for a tag that is not a non-empty str, or one already taken.
    """
    if tag is None:
        base = getattr(cls, "__name__", "node")
        tag, number = base, 1
        while tag in taken:
            number += 1
            tag = f"{base}_{number}"
        return tag
    if not isinstance(tag, str) or not tag:
        raise QueryError(f"a tag must be a non-empty str, not {tag!r}")
    if tag in taken:
        raise QueryError(f"tag {tag!r} is already used by another vertex; pick another")
    return tag


def mapping_argument(value: Any, tag: str, what: str) -> Mapping[str, Any]:
    """``value`` (``filters``, ``edge_filters``) as a mapping; None is an empty one.

    Raises:
        QueryError: if it is not a dict.
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise QueryError(f"tag {tag!r}: {what} must be a dict, not {value!r}")
    return value


def keys_argument(value: Any, tag: str, what: str) -> list[str]:
    """``value`` (``project``, ``edge_project``) as a list of keys; one key is a list of one.

    Raises:
        QueryError: if it is neither a str nor a list or tuple of them.
    """
    if value is None:
        return []
    keys = [value] if isinstance(value, str) else value
    if not isinstance(keys, list | tuple) or not all(isinstance(key, str) for key in keys):
        raise QueryError(f"tag {tag!r}: {what} takes a key or a list of keys, not {value!r}")
    return list(keys)


def count_argument(count: Any, what: str) -> int:
    """A ``limit`` or ``offset``: an int the database can bind.

    Raises:
        QueryError: for anything but an int from 0 to ``INT_MAX``.
    """
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= INT_MAX:
        raise QueryError(f"{what} takes an int from 0 to {INT_MAX}, not {count!r}")
    return count


def check_batch_size(batch_size: Any) -> None:
    """Refuse a ``batch_size`` the drivers cannot fetch by (None fetches everything at once).

    Raises:
        QueryError: for anything but None or an int from 1 to ``MAX_BATCH_SIZE``.
    """
    if batch_size is not None and (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, int)
        or not 1 <= batch_size <= MAX_BATCH_SIZE
    ):
        raise QueryError(
            f"batch_size takes an int from 1 to {MAX_BATCH_SIZE} (or None), not {batch_size!r}"
        )


def order_keys(keys: Any) -> list[tuple[str, str]]:
    """``(key, "asc"|"desc")`` pairs from the forms ``order_by`` takes for one tag.

    Raises:
        QueryError: for a form it does not take, or an order that is not asc/desc.
    """
    if isinstance(keys, str):
        return [(keys, "asc")]
    if isinstance(keys, Mapping):
        keys = [keys]
    if not isinstance(keys, list | tuple):
        raise QueryError(f"order_by: {keys!r} is not a key, a list of keys or {{key: order}}")
    result: list[tuple[str, str]] = []
    for item in keys:
        if isinstance(item, str):
            result.append((item, "asc"))
            continue
        if not isinstance(item, Mapping):
            raise QueryError(f"order_by: {item!r} is not a key or {{key: order}}")
        for key, spec in item.items():
            direction = spec.get("order", "asc") if isinstance(spec, Mapping) else spec
            if direction not in {"asc", "desc"}:
                raise QueryError(
                    f"order_by: the order of {key!r} is 'asc' or 'desc', not {direction!r}"
                )
            result.append((key, direction))
    return result

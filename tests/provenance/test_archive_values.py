"""An archive whose data nodes hold values of another type than theirs is refused, whole.

Checked by reading the archive before anything is written, so that the database (SQLite or
PostgreSQL) is left as it was, the nodes of the archive that were fine included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from actors import Runtime
from provenance import Bool, Dict, Float, FrozenDict, Int, List, Node, Str
from provenance.archive import create_archive, import_archive
from provenance.storage import Storage
from tests.provenance.test_archive import _rewrite, assert_refused, dump

Change = Callable[[dict[str, Any]], None]


def _set(key: str, value: Any) -> Change:
    return lambda attributes: attributes.update({key: value})


#: (node class, how its attributes are spoiled, the value the error must show).
SPOILED: list[tuple[type[Node], Change, str]] = [
    (Int, _set("value", "abc"), "an Int (data.int) holding 'abc' (str), which is not an int"),
    (Int, _set("value", True), "an Int (data.int) holding True (bool), which is not an int"),
    (Int, _set("value", 1.5), "an Int (data.int) holding 1.5 (float), which is not an int"),
    (Float, _set("value", [1, 2]), "a Float (data.float) holding [1, 2] (list), which is not a"),
    (Str, _set("value", 5), "a Str (data.str) holding 5 (int), which is not a str"),
    (Bool, _set("value", 0), "a Bool (data.bool) holding 0 (int), which is not a bool"),
    (List, _set("list", {"a": 1}), "a List (data.list) holding {'a': 1} (dict), which is not"),
    (Dict, _set("dict", [1]), "a Dict (data.dict) holding [1] (list), which is not a JSON"),
    (FrozenDict, _set("nodes", {"a": 3}), "a FrozenDict (data.frozendict) holding {'a': 3}"),
    (Int, lambda attributes: attributes.clear(), "an Int (data.int) without its 'value'"),
]


def _stored_values() -> list[Node]:
    one = Int(1).store()
    return [
        one,
        Float(2.5).store(),
        Str("text").store(),
        Bool(True).store(),
        List([1]).store(),
        Dict({"a": 1}).store(),
        FrozenDict({"one": one}).store(),
    ]


def _spoil(node_type: str, change: Change) -> Callable[[dict[str, bytes]], None]:
    def apply(members: dict[str, bytes]) -> None:
        nodes = [json.loads(line) for line in members["nodes.jsonl"].splitlines()]
        change(next(node for node in nodes if node["node_type"] == node_type)["attributes"])
        members["nodes.jsonl"] = "".join(json.dumps(node) + "\n" for node in nodes).encode()

    return apply


@pytest.mark.parametrize(
    "case",
    SPOILED,
    ids=[f"{cls.__name__}-{index}" for index, (cls, _change, _shown) in enumerate(SPOILED)],
)
def test_a_value_that_is_not_of_its_node_type_is_refused_and_nothing_imported(
    runtime: Runtime, storage: Storage, tmp_path: Path, case: tuple[type[Node], Change, str]
) -> None:
    cls, change, shown = case
    nodes = _stored_values()
    good = tmp_path / "good.zip"
    create_archive(good, [node.pk for node in nodes if node.pk], storage=runtime.storage)
    bad = _rewrite(good, tmp_path / "bad.zip", _spoil(cls.node_type, change))
    [spoiled] = [node for node in nodes if type(node) is cls]
    message = re.escape(f"node {spoiled.uuid} is {shown}")

    # The target is not empty: what it holds must survive the refusal.
    present = Str("already in the target").store()
    create_archive(tmp_path / "present.zip", [present.pk or 0], storage=runtime.storage)
    import_archive(tmp_path / "present.zip", storage=storage)
    before = dump(storage)
    assert_refused(bad, storage, message)

    import_archive(good, storage=storage)  # the archive as it was imports
    assert set(dump(storage)["nodes"]) == set(before["nodes"]) | {node.uuid for node in nodes}

"""Helpers of the public API: ``load_class`` and ``get_or_create_output_group``."""

from __future__ import annotations

import importlib
from typing import Any

import sqlalchemy as sa

from actors.errors import ClassLoadError
from provenance.backend import get_backend
from provenance.data import Data, FrozenDict
from provenance.models import DbNode
from provenance.nodes import Node
from provenance.process_nodes import ProcessNode

OUTPUT_GROUP_ATTRIBUTE = "output_group_of"


def load_class(classstring: str) -> Any:
    """The object named by ``'package.module.Name'`` (nested names allowed: ``mod.Outer.Inner``).

    Raises:
        ClassLoadError: naming the part that could not be found.
    """
    if not isinstance(classstring, str) or "." not in classstring:
        raise ClassLoadError(f"{classstring!r} is not a dotted path like 'package.module.Name'")
    parts = classstring.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:split])
        try:
            obj: Any = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and not module_name.startswith(exc.name):
                raise ClassLoadError(f"importing {module_name} failed: {exc}") from exc
            continue
        for attribute in parts[split:]:
            try:
                obj = getattr(obj, attribute)
            except AttributeError:
                raise ClassLoadError(
                    f"module {module_name} has no {'.'.join(parts[split:])!r} "
                    f"(looked for {attribute!r})"
                ) from None
        return obj
    raise ClassLoadError(f"no importable module in {classstring!r}")


def get_or_create_output_group(calculation: ProcessNode) -> FrozenDict:
    """A stored ``FrozenDict`` whose values are all output data nodes of ``calculation``.

    The same node is returned on every call for one calculation.
    """
    if not calculation.is_stored:
        raise ValueError(f"{calculation!r} is not stored: it has no outputs yet")
    with get_backend().storage.read_session() as session:
        existing = session.execute(
            sa.select(DbNode)
            .where(
                DbNode.node_type == FrozenDict.node_type,
                DbNode.attributes[OUTPUT_GROUP_ATTRIBUTE].as_string() == calculation.uuid,
            )
            .order_by(DbNode.id)
            .limit(1)
        ).scalar_one_or_none()
    if existing is not None:
        node = Node._from_row(existing)
        assert isinstance(node, FrozenDict)
        return node
    outputs = {
        label: node
        for label, node in calculation._links(incoming=False, link_type=None)
        if isinstance(node, Data)
    }

    group = FrozenDict(outputs)
    group._attributes[OUTPUT_GROUP_ATTRIBUTE] = calculation.uuid
    return group.store()

"""Container data nodes: ``List`` and ``Dict`` hold JSON values inside one node, mutable until
stored; ``FrozenDict`` maps names to other data nodes, which are stored before it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from provenance.data_node import Data, unwrap
from provenance.records import NodeRecord
from provenance.values import check_json, check_text


def _check_json(value: Any, what: str) -> None:
    """Refuse what is not JSON (keys that JSON would silently turn into strings, ``{1: x}``
    loading as ``{"1": x}``, included) and what the value rule refuses (``provenance.values``)."""
    try:
        check_json(value, what)
    except TypeError as exc:
        raise TypeError(
            f"{what} must hold JSON data (str, numbers, bools, None, lists, dicts with str keys): "
            f"{exc}"
        ) from None


class List(Data):
    """A list of JSON values; mutable until stored."""

    node_type = "data.list"

    def __init__(self, value: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        items = [unwrap(item) for item in (value or [])]
        _check_json(items, "List")
        self._attributes["list"] = items

    @property
    def value(self) -> list[Any]:
        """A copy of the list."""
        return list(self._attributes["list"])

    def get_list(self) -> list[Any]:
        """A copy of the list."""
        return self.value

    def append(self, item: Any) -> None:
        """Append an item (unstored nodes only)."""
        self._check_mutable()
        item = unwrap(item)
        _check_json(item, "List")
        self._attributes["list"].append(item)

    def extend(self, items: list[Any]) -> None:
        """Append several items (unstored nodes only)."""
        for item in items:
            self.append(item)

    def __getitem__(self, index: int) -> Any:
        return self._attributes["list"][index]

    def __len__(self) -> int:
        return len(self._attributes["list"])

    def __iter__(self) -> Iterator[Any]:
        return iter(self.value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, List):
            return self.value == other.value
        return self.value == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"List({self.value!r})"


class Dict(Data):
    """A dictionary of JSON values with str keys; mutable until stored."""

    node_type = "data.dict"

    def __init__(self, value: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        dict_kwarg = kwargs.pop("dict", None)
        super().__init__(**kwargs)
        content = {key: unwrap(item) for key, item in dict(value or dict_kwarg or {}).items()}
        _check_json(content, "Dict")
        self._attributes["dict"] = content

    @property
    def value(self) -> dict[str, Any]:
        """A copy of the dictionary."""
        return dict(self._attributes["dict"])

    def get_dict(self) -> dict[str, Any]:
        """A copy of the dictionary."""
        return self.value

    def __getitem__(self, key: str) -> Any:
        return self._attributes["dict"][key]

    def __setitem__(self, key: str, item: Any) -> None:
        self._check_mutable()
        item = unwrap(item)
        _check_json({key: item}, "Dict")
        self._attributes["dict"][key] = item

    def __contains__(self, key: object) -> bool:
        return key in self._attributes["dict"]

    def __len__(self) -> int:
        return len(self._attributes["dict"])

    def __iter__(self) -> Iterator[str]:
        return iter(self.value)

    def keys(self) -> list[str]:
        """The keys."""
        return list(self._attributes["dict"])

    def items(self) -> list[tuple[str, Any]]:
        """The key, value pairs."""
        return list(self._attributes["dict"].items())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Dict):
            return self.value == other.value
        return self.value == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Dict({self.value!r})"


class FrozenDict(Data):
    """An immutable mapping of names to data nodes; storing it stores its values first."""

    node_type = "data.frozendict"

    def __init__(self, value: Mapping[str, Data] | None = None, **kwargs: Any) -> None:
        dict_kwarg = kwargs.pop("dict", None)
        super().__init__(**kwargs)
        content = dict(value or dict_kwarg or {})
        for key, item in content.items():
            if not isinstance(key, str) or not isinstance(item, Data):
                raise TypeError(f"FrozenDict maps str keys to data nodes; {key!r} maps to {item!r}")
            check_text(key, f"the FrozenDict key {key!r}")
        self._nodes: dict[str, Data] = content
        self._attributes["nodes"] = {key: item.uuid for key, item in content.items()}

    def _init_loaded(self) -> None:
        self._nodes = {}

    def _records_to_store(self) -> list[NodeRecord]:
        records: dict[str, NodeRecord] = {}
        for item in self._nodes.values():
            if not item.is_stored:
                # One node may be the value of several keys: insert it once.
                records.update((record.uuid, record) for record in item._records_to_store())
        records[self._uuid] = self._record()
        return list(records.values())

    def _mark_stored(self, pks: Mapping[str, int]) -> None:
        for item in self._nodes.values():
            if not item.is_stored:
                item._mark_stored(pks)
        super()._mark_stored(pks)

    def __getitem__(self, key: str) -> Data:
        if key not in self._nodes:
            from provenance.nodes import load_node

            uuid = self._attributes["nodes"][key]
            node = load_node(uuid)
            assert isinstance(node, Data)
            self._nodes[key] = node
        return self._nodes[key]

    def __contains__(self, key: object) -> bool:
        return key in self._attributes["nodes"]

    def __len__(self) -> int:
        return len(self._attributes["nodes"])

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._attributes["nodes"]))

    def keys(self) -> list[str]:
        """The keys."""
        return list(self._attributes["nodes"])

    def items(self) -> list[tuple[str, Data]]:
        """The key, node pairs."""
        return [(key, self[key]) for key in self.keys()]

    def values(self) -> list[Data]:
        """The nodes."""
        return [self[key] for key in self.keys()]

    def __repr__(self) -> str:
        return f"FrozenDict({ {key: self[key] for key in self.keys()}!r})"


__all__ = ["Dict", "FrozenDict", "List"]

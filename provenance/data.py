"""Data nodes: the values processes consume and produce."""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Generic, TypeVar

from provenance.errors import InvalidValueError
from provenance.hashing import data_hash
from provenance.nodes import Node
from provenance.records import NodeRecord
from provenance.values import check_float, check_int, check_json, check_text, short_repr

T = TypeVar("T")


class Data(Node):
    """A node that holds a value."""

    node_type = "data"

    def _content_hash(self) -> str | None:
        """Type and value: equal data hash equally, whatever their uuid."""
        return data_hash(self.node_type, self._attributes_to_store())


class BaseType(Data, Generic[T]):
    """A node that wraps one immutable Python value, compared and hashed by that value."""

    _python_type: ClassVar[type]

    def __init__(self, value: T, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._attributes["value"] = self._coerce(value)

    @classmethod
    def _coerce(cls, value: Any) -> Any:
        if isinstance(value, BaseType):
            value = value.value
        if isinstance(value, bool) and cls._python_type is not bool:
            raise TypeError(f"{cls.__name__} takes a {cls._python_type.__name__}, not a bool")
        try:
            return cls._python_type(value)
        except OverflowError as exc:  # float(10**400)
            raise InvalidValueError(
                f"the value of a {cls.__name__} is an integer of {value.bit_length()} bits, "
                "beyond the range of a float"
            ) from exc
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{cls.__name__} takes a {cls._python_type.__name__}, not {short_repr(value)}"
            ) from exc

    def _init_loaded(self) -> None:
        # PostgreSQL's jsonb gives 1e16 back as the integer 10000000000000000: restore the type.
        self._attributes["value"] = self._coerce(self._attributes["value"])

    #: ``(value, hash)`` of the last content hash computed: a launch asks for it several times
    #: (caching, the record, the stored node), and hashing costs more than the rest of a node.
    _hashed: tuple[Any, str | None] | None = None

    def _content_hash(self) -> str | None:
        """As ``Data``'s, computed once per value: the value of a plain type is immutable, so
        only a value replaced in place (a subclass keeping more attributes) hashes again."""
        attributes = self._attributes
        value = attributes.get("value")
        hashed = self._hashed
        if hashed is not None and hashed[0] is value and len(attributes) == 1:
            return hashed[1]
        node_hash = super()._content_hash()
        if len(attributes) == 1 and type(value) in _IMMUTABLE:
            self._hashed = (value, node_hash)
        return node_hash

    @property
    def value(self) -> T:
        """The wrapped value."""
        value: T = self._attributes["value"]
        return value

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, BaseType):
            return bool(self.value == other.value)
        return bool(self.value == other)

    def __hash__(self) -> int:
        return hash(self.value)


#: Values a hash may be remembered for: they cannot change in place.
_IMMUTABLE = frozenset({int, float, str, bool})


def _unwrap(value: Any) -> Any:
    return value.value if isinstance(value, BaseType) else value


def _numeric_node(value: Any) -> NumericType[Any]:
    if isinstance(value, bool):
        raise TypeError("arithmetic on Bool nodes is not defined")
    if isinstance(value, numbers.Integral):
        return Int(int(value))
    return Float(float(value))


class NumericType(BaseType[T]):
    """Int and Float: arithmetic gives new, unstored nodes."""

    def __add__(self, other: Any) -> NumericType[Any]:
        return _numeric_node(self.value + _unwrap(other))

    def __radd__(self, other: Any) -> NumericType[Any]:
        return _numeric_node(_unwrap(other) + self.value)

    def __sub__(self, other: Any) -> NumericType[Any]:
        return _numeric_node(self.value - _unwrap(other))

    def __rsub__(self, other: Any) -> NumericType[Any]:
        return _numeric_node(_unwrap(other) - self.value)

    def __mul__(self, other: Any) -> NumericType[Any]:
        return _numeric_node(self.value * _unwrap(other))

    def __rmul__(self, other: Any) -> NumericType[Any]:
        return _numeric_node(_unwrap(other) * self.value)

    def __truediv__(self, other: Any) -> NumericType[Any]:
        return Float(self.value / _unwrap(other))

    def __rtruediv__(self, other: Any) -> NumericType[Any]:
        return Float(_unwrap(other) / self.value)

    def __floordiv__(self, other: Any) -> NumericType[Any]:
        return _numeric_node(self.value // _unwrap(other))

    def __mod__(self, other: Any) -> NumericType[Any]:
        return _numeric_node(self.value % _unwrap(other))

    def __pow__(self, other: Any) -> NumericType[Any]:
        return _numeric_node(self.value ** _unwrap(other))

    def __neg__(self) -> NumericType[Any]:
        return _numeric_node(-self.value)  # type: ignore[operator]

    def __abs__(self) -> NumericType[Any]:
        return _numeric_node(abs(self.value))  # type: ignore[arg-type]

    def __lt__(self, other: Any) -> bool:
        return bool(self.value < _unwrap(other))

    def __le__(self, other: Any) -> bool:
        return bool(self.value <= _unwrap(other))

    def __gt__(self, other: Any) -> bool:
        return bool(self.value > _unwrap(other))

    def __ge__(self, other: Any) -> bool:
        return bool(self.value >= _unwrap(other))

    def __float__(self) -> float:
        return float(self.value)  # type: ignore[arg-type]

    def __bool__(self) -> bool:
        return bool(self.value)

    __hash__ = BaseType.__hash__


class Int(NumericType[int]):
    """An integer."""

    node_type = "data.int"
    _python_type = int

    @classmethod
    def _coerce(cls, value: Any) -> Any:
        return check_int(super()._coerce(value), "the value of an Int")

    def __int__(self) -> int:
        return self.value

    def __index__(self) -> int:
        return self.value


class Float(NumericType[float]):
    """A floating point number."""

    node_type = "data.float"
    _python_type = float

    @classmethod
    def _coerce(cls, value: Any) -> Any:
        return check_float(super()._coerce(value), "the value of a Float")


class Str(BaseType[str]):
    """A string."""

    node_type = "data.str"
    _python_type = str

    @classmethod
    def _coerce(cls, value: Any) -> Any:
        value = _unwrap(value)
        if not isinstance(value, str):
            raise TypeError(f"Str takes a str, not {value!r}")
        return check_text(value, "the value of a Str")


class Bool(BaseType[bool]):
    """A boolean."""

    node_type = "data.bool"
    _python_type = bool

    def __bool__(self) -> bool:
        return self.value


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
        items = [_unwrap(item) for item in (value or [])]
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
        item = _unwrap(item)
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
        content = {key: _unwrap(item) for key, item in dict(value or dict_kwarg or {}).items()}
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
        item = _unwrap(item)
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

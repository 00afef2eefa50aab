"""Data nodes: the values processes consume and produce.

The plain value types (Int, Float, Str, Bool) are defined here, on the base every data node
shares (``provenance.data_node``); the containers (List, Dict, FrozenDict) are
``provenance.data_containers``. Every data node type is imported from here, and checkpoints
pickled before the containers moved name them here (``provenance.data.Dict``), so they must
stay importable from this module.
"""

from __future__ import annotations

import numbers
from typing import Any

from provenance.data_containers import Dict, FrozenDict, List
from provenance.data_node import BaseType, Data, T, unwrap
from provenance.values import check_float, check_int, check_text


def _numeric_node(value: Any) -> NumericType[Any]:
    if isinstance(value, bool):
        raise TypeError("arithmetic on Bool nodes is not defined")
    if isinstance(value, numbers.Integral):
        return Int(int(value))
    return Float(float(value))


class NumericType(BaseType[T]):
    """Int and Float: arithmetic gives new, unstored nodes."""

    def __add__(self, other: Any) -> NumericType[Any]:
        return _numeric_node(self.value + unwrap(other))

    def __radd__(self, other: Any) -> NumericType[Any]:
        return _numeric_node(unwrap(other) + self.value)

    def __sub__(self, other: Any) -> NumericType[Any]:
        return _numeric_node(self.value - unwrap(other))

    def __rsub__(self, other: Any) -> NumericType[Any]:
        return _numeric_node(unwrap(other) - self.value)

    def __mul__(self, other: Any) -> NumericType[Any]:
        return _numeric_node(self.value * unwrap(other))

    def __rmul__(self, other: Any) -> NumericType[Any]:
        return _numeric_node(unwrap(other) * self.value)

    def __truediv__(self, other: Any) -> NumericType[Any]:
        return Float(self.value / unwrap(other))

    def __rtruediv__(self, other: Any) -> NumericType[Any]:
        return Float(unwrap(other) / self.value)

    def __floordiv__(self, other: Any) -> NumericType[Any]:
        return _numeric_node(self.value // unwrap(other))

    def __mod__(self, other: Any) -> NumericType[Any]:
        return _numeric_node(self.value % unwrap(other))

    def __pow__(self, other: Any) -> NumericType[Any]:
        return _numeric_node(self.value ** unwrap(other))

    def __neg__(self) -> NumericType[Any]:
        return _numeric_node(-self.value)  # type: ignore[operator]

    def __abs__(self) -> NumericType[Any]:
        return _numeric_node(abs(self.value))  # type: ignore[arg-type]

    def __lt__(self, other: Any) -> bool:
        return bool(self.value < unwrap(other))

    def __le__(self, other: Any) -> bool:
        return bool(self.value <= unwrap(other))

    def __gt__(self, other: Any) -> bool:
        return bool(self.value > unwrap(other))

    def __ge__(self, other: Any) -> bool:
        return bool(self.value >= unwrap(other))

    def __float__(self) -> float:
        return float(self.value)  # type: ignore[arg-type]

    def __bool__(self) -> bool:
        return bool(self.value)

    __hash__ = BaseType.__hash__


class Int(NumericType[int]):
    """An integer."""

    node_type = "data.int"
    _python_type = int
    _coerce_checks_value = True

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
    _coerce_checks_value = True

    @classmethod
    def _coerce(cls, value: Any) -> Any:
        return check_float(super()._coerce(value), "the value of a Float")


class Str(BaseType[str]):
    """A string."""

    node_type = "data.str"
    _python_type = str
    _coerce_checks_value = True

    @classmethod
    def _coerce(cls, value: Any) -> Any:
        value = unwrap(value)
        if not isinstance(value, str):
            raise TypeError(f"Str takes a str, not {value!r}")
        return check_text(value, "the value of a Str")


class Bool(BaseType[bool]):
    """A boolean."""

    node_type = "data.bool"
    _python_type = bool
    _coerce_checks_value = True

    def __bool__(self) -> bool:
        return self.value


__all__ = [
    "BaseType",
    "Bool",
    "Data",
    "Dict",
    "Float",
    "FrozenDict",
    "Int",
    "List",
    "NumericType",
    "Str",
]

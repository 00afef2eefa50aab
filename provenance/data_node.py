"""What every data node is (``Data``), and the base of those that wrap one plain Python value
(``BaseType``).

The value types themselves live in ``provenance.data`` (Int, Float, Str, Bool) and
``provenance.data_containers`` (List, Dict, FrozenDict); both build on this module, and
``provenance.data`` is where all of them are imported from.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from provenance.errors import InvalidValueError
from provenance.hashing import data_hash
from provenance.nodes import Node
from provenance.values import short_repr

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

    #: Set True in the body of each plain type whose ``_coerce`` holds the value to the value
    #: rule (Int, Float, Str, Bool); a subclass inherits no such promise (it may store more, or
    #: check less).
    _coerce_checks_value: ClassVar[bool] = False

    def _values_checked(self) -> bool:
        """True if the node holds only the value its type's ``_coerce`` checked (and its label
        and description, checked as they were set): its record need not be checked again."""
        return (
            type(self).__dict__.get("_coerce_checks_value", False) is True
            and len(self._attributes) == 1
        )

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


def unwrap(value: Any) -> Any:
    """The Python value of ``value`` if it is a plain-value node, else ``value`` itself: a
    container or an arithmetic operand takes either."""
    return value.value if isinstance(value, BaseType) else value


__all__ = ["BaseType", "Data", "unwrap"]

"""The one rule for values the provenance database stores, the same on SQLite and PostgreSQL.

SQLite would take almost anything; PostgreSQL refuses a NUL in text, a lone surrogate, a
``jsonb`` number it cannot read back as the same integer and a label over its column's 255
characters. A value one backend stores and the other refuses is a program that works on a laptop
and fails on the server, so both refuse the same values, when the node is created:

- integers stored as numbers (``Int``, ints inside ``List``/``Dict``) fit in signed 64 bits;
- floats are finite (JSON has no NaN or infinity);
- text (labels, descriptions, ``Str``, dict keys, strings inside lists and dicts) holds no NUL
  character and no lone surrogate; a label has at most 255 characters.

Text the engine must store whatever it holds (tracebacks, exit messages, log lines) is *encoded*
instead of refused: NUL becomes the four characters ``\\x00`` and a lone surrogate its
``\\udXXX`` escape, so nothing is silently lost and both backends store the same string.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from provenance.errors import InvalidValueError

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
LABEL_MAX_LENGTH = 255
_INT_LIMIT = "signed 64 bits (-9223372036854775808 to 9223372036854775807)"


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored as it is, or None if it can."""
    if text.isascii():  # the common case: one C-level scan
        index = text.find("\x00")
    else:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            return (
                f"holds a lone surrogate {text[exc.start]!r} at index {exc.start}, which is not "
                "valid Unicode (bytes decoded with errors='surrogateescape'?); decode the text "
                "properly or replace it"
            )
        index = text.find("\x00")
    if index >= 0:
        return (
            f"holds a NUL character (\\x00) at index {index}, which PostgreSQL cannot store in "
            "text; remove it, or keep binary data in a List of ints"
        )
    return None


def check_text(text: str, where: str) -> str:
    """Return ``text`` if it may be stored.

    Raises:
        InvalidValueError: naming ``where`` and the character that is refused.
    """
    problem = text_problem(text)
    if problem is not None:
        raise InvalidValueError(f"{where} {problem}")
    return text


def check_label(label: str, where: str = "the label") -> str:
    """Return ``label`` if it may be stored: text that fits the 255-character label columns.

    Raises:
        TypeError: if ``label`` is not a str.
        InvalidValueError: if it is too long or holds a refused character.
    """
    if not isinstance(label, str):
        raise TypeError(f"{where} must be a str, not {type(label).__name__}")
    if len(label) > LABEL_MAX_LENGTH:
        raise InvalidValueError(
            f"{where} has {len(label)} characters; at most {LABEL_MAX_LENGTH} are stored "
            "(put longer text in the description)"
        )
    return check_text(label, where)


def check_int(value: int, where: str) -> int:
    """Return ``value`` if it fits in signed 64 bits.

    Raises:
        InvalidValueError: naming the size of the integer and the limit.
    """
    if INT_MIN <= value <= INT_MAX:
        return value
    raise InvalidValueError(
        f"{where} is an integer of {value.bit_length()} bits; the provenance database stores "
        f"integers in {_INT_LIMIT} on SQLite and PostgreSQL alike; store it as a Str instead"
    )


def check_float(value: float, where: str) -> float:
    """Return ``value`` if it is finite.

    Raises:
        InvalidValueError: for NaN and infinities, which JSON (and PostgreSQL) cannot hold.
    """
    if math.isfinite(value):
        return value
    raise InvalidValueError(
        f"{where} is {value!r}; only finite numbers are stored (JSON has no NaN or infinity), "
        "on SQLite and PostgreSQL alike"
    )


def is_storable(value: Any, depth: int = 0) -> bool:  # noqa: PLR0911 - a return per JSON type
    """True if ``value`` is JSON data that the rule lets through: the fast path of every check.

    Most values are small dicts of ASCII text and small numbers; this answers for them without
    building any message. False means "look closer" (``check_json`` says what is wrong, or
    accepts what this does not prove, such as a structure nested more than 32 levels deep).
    """
    kind = type(value)
    if kind is str:
        return "\x00" not in value if value.isascii() else text_problem(value) is None
    if kind is int:
        return bool(INT_MIN <= value <= INT_MAX)
    if value is None or kind is bool:
        return True
    if kind is float:
        return math.isfinite(value)
    if depth > 32:
        return False
    if kind is dict:
        return _dict_is_storable(value, depth)
    if kind is list or kind is tuple:
        return all(is_storable(item, depth + 1) for item in value)
    return False


def _dict_is_storable(value: dict[Any, Any], depth: int) -> bool:
    """``is_storable`` of a dict: keys and flat items checked here, since a recursive call
    each cost more than the check."""
    for key, item in value.items():
        # ``_text_is_fine`` written out for keys and text: a call cost more than the check.
        if (
            type(key) is not str
            or "\x00" in key
            or (not key.isascii() and text_problem(key) is not None)
        ):
            return False
        item_kind = type(item)
        if item_kind is str:
            if "\x00" in item or (not item.isascii() and text_problem(item) is not None):
                return False
        elif item_kind is int:
            if not INT_MIN <= item <= INT_MAX:
                return False
        elif item is not None and item_kind is not bool and not is_storable(item, depth + 1):
            return False
    return True


def _text_is_fine(text: str) -> bool:
    """``is_storable`` of a str."""
    return "\x00" not in text if text.isascii() else text_problem(text) is None


def text_is_storable(text: Any) -> bool:
    """True if ``text`` is a str that may be stored (the fast path of ``check_text``)."""
    return type(text) is str and _text_is_fine(text)


def label_is_storable(label: Any) -> bool:
    """True if ``label`` may be stored as a label (the fast path of ``check_label``)."""
    return type(label) is str and len(label) <= LABEL_MAX_LENGTH and _text_is_fine(label)


class _RefusedError(Exception):
    """Raised deep in a JSON value; carries the path to the bad item up to the caller."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error
        self.path: list[str] = []


def check_json(value: Any, where: str) -> None:
    """Check that ``value`` is JSON data the database stores the same on every backend.

    Raises:
        TypeError: for anything but str, int, float, bool, None, lists, tuples and dicts with
            str keys (or a structure that contains itself).
        InvalidValueError: for values JSON holds but the rule refuses, naming the item.
    """
    if is_storable(value):
        return
    try:
        _walk(value, set())
    except RecursionError:
        raise TypeError(f"{where}: the value is nested too deeply to be stored") from None
    except _RefusedError as refused:
        place = where + "".join(reversed(refused.path))
        error = refused.error
        raise type(error)(f"{place}: {error}") from None


def _walk(value: Any, open_containers: set[int]) -> None:
    if value is None or isinstance(value, bool):
        return
    try:
        if isinstance(value, str):
            check_text(value, "the text")
        elif isinstance(value, int):
            check_int(value, "the number")
        elif isinstance(value, float):
            check_float(value, "the number")
        elif isinstance(value, list | tuple | dict):
            _walk_container(value, open_containers)
        else:
            raise TypeError(f"{type(value).__name__} {short_repr(value)} is not JSON data")
    except (TypeError, InvalidValueError) as exc:
        raise _RefusedError(exc) from None


def _walk_container(value: list[Any] | tuple[Any, ...] | dict[Any, Any], seen: set[int]) -> None:
    if id(value) in seen:
        raise TypeError("the value contains itself")
    seen.add(id(value))
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"key {short_repr(key)} is not a str")
            check_text(key, f"the key {short_repr(key)}")
            _step(item, seen, f"[{short_repr(key)}]")
    else:
        for index, item in enumerate(value):
            _step(item, seen, f"[{index}]")
    seen.discard(id(value))


def _step(item: Any, seen: set[int], place: str) -> None:
    try:
        _walk(item, seen)
    except _RefusedError as refused:
        refused.path.append(place)
        raise


def short_repr(value: Any) -> str:
    """A repr that is safe for any value (a huge int's repr raises) and short enough to read."""
    try:
        text = repr(value)
    except Exception:  # any repr may fail; the type name is enough then
        return f"<{type(value).__name__}>"
    return text if len(text) <= 60 else f"{text[:57]}..."


def encode_text(text: str) -> str:
    """``text`` with NUL and lone surrogates escaped, for text the engine must store anyway."""
    if text.isascii():
        return text.replace("\x00", "\\x00") if "\x00" in text else text
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("\x00", "\\x00")


def encode_json(value: Any, where: str) -> Any:
    """``value`` with every string and key encoded (``encode_text``); numbers follow the rule.

    Raises:
        TypeError, InvalidValueError: as ``check_json`` for what encoding cannot fix.
    """
    if is_storable(value):
        return value
    try:
        encoded = _encode(value)
    except RecursionError:  # a cycle, or a (finite) nesting deeper than Python recurses
        raise TypeError(
            f"{where}: the value contains itself or is nested too deeply to be stored"
        ) from None
    check_json(encoded, where)
    return encoded


def _encode(value: Any) -> Any:
    if isinstance(value, str):
        return encode_text(value)
    if isinstance(value, Mapping):
        return {
            encode_text(key) if isinstance(key, str) else key: _encode(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    return value

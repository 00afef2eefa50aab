"""A dict whose keys are also attributes, for ``self.inputs`` and ``self.ctx``."""

from __future__ import annotations

from typing import Any


class AttributeDict(dict[str, Any]):
    """``d.key`` is ``d['key']``; a missing key raises ``AttributeError`` naming it."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(
                f"no {name!r} here; present: {', '.join(sorted(self)) or 'nothing'}"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getstate__(self) -> dict[str, Any]:
        return dict(self)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.update(state)


class FrozenAttributeDict(AttributeDict):
    """An ``AttributeDict`` that refuses changes, for inputs."""

    def _refuse(self, *_args: Any, **_kwargs: Any) -> None:
        raise TypeError("process inputs are read-only")

    __setitem__ = _refuse
    __delitem__ = _refuse
    __setattr__ = _refuse
    __delattr__ = _refuse
    update = _refuse
    pop = _refuse
    clear = _refuse
    setdefault = _refuse
    popitem = _refuse  # type: ignore[assignment]

    def __setstate__(self, state: dict[str, Any]) -> None:
        dict.update(self, state)

"""``self.ctx``: the working memory of a work chain, saved in every checkpoint.

Only what pickles may go in, because a waiting work chain is written out and revived from its
checkpoint. The check runs when a key is set, so the error points at the offending line, and
again when the context is saved, to catch a value mutated into something unpicklable later.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Mapping
from typing import Any

from actors.attribute_dict import AttributeDict
from actors.errors import ContextError
from provenance.nodes import Node

#: Values that always pickle; checking them would only cost time.
_ALWAYS_PICKLABLE = (Node, int, float, str, bytes, bool, type(None))


def _check_picklable(key: str, value: Any) -> None:
    if isinstance(value, _ALWAYS_PICKLABLE):
        return
    try:
        pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise ContextError(
            f"ctx.{key} = {type(value).__name__} {value!r:.80} cannot be saved in a checkpoint "
            f"({type(exc).__name__}: {exc}); keep picklable data in ctx (data nodes, numbers, "
            "strings, lists and dicts of them) and rebuild other objects in the step that uses "
            "them"
        ) from exc


class Context(AttributeDict):
    """A dict with attribute access whose values must pickle.

    Raises:
        ContextError: naming the key, when a value cannot be pickled.
    """

    def __setitem__(self, key: str, value: Any) -> None:
        _check_picklable(key, value)
        super().__setitem__(key, value)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Set several keys, each checked."""
        items: Iterable[tuple[str, Any]] = (
            dict(*args, **kwargs).items() if args or kwargs else iter(())
        )
        for key, value in items:
            self[key] = value

    def setdefault(self, key: str, default: Any = None) -> Any:
        """Return ``ctx[key]``, setting it to ``default`` (checked) first if absent."""
        if key not in self:
            self[key] = default
        return self[key]

    def snapshot(self) -> dict[str, Any]:
        """The content as a plain dict, for a checkpoint."""
        return dict(self)

    def check_picklable(self) -> None:
        """Pickle each value on its own, so that a checkpoint that failed to pickle can say
        which key was at fault (a value may have been mutated after it was set).

        Raises:
            ContextError: naming the first key whose value does not pickle.
        """
        for key, value in self.items():
            _check_picklable(key, value)

    @classmethod
    def restore(cls, content: Mapping[str, Any]) -> Context:
        """A context holding ``content`` (from ``snapshot``), without re-checking it."""
        context = cls()
        dict.update(context, content)
        return context

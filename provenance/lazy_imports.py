"""Importing the engine cheaply: public names imported on first use (PEP 562), and no cyclic
garbage collection while the engine's modules load.

A package ``__init__`` that imports every module its public names live in makes each program
pay for all of them: a script that opens a runtime and runs one workfunction would import work
chains, queries, archives and the checkpoint store it never uses, a large share of its cold
start. With ``lazy_names`` the package lists where each name lives, and a name's module is
imported when the name is first read (and the name is then kept in the package).

Importing SQLAlchemy and the engine allocates a few hundred thousand objects that live until
the program ends (modules, classes, functions). The collector, triggered by the allocation count
alone, traverses them again and again during the import, and once more after it, and finds
nothing to free: a tenth of a cold start. It is paused for the import, and what the import made
is then moved to the oldest generation untraversed (``gc.freeze`` then ``gc.unfreeze``), where
the next full collection examines it as usual (``collector_paused``).
"""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection in the block, and what it allocated joins the oldest
    generation without a traversal. The collector is left as it was found: a program that
    disabled it keeps it disabled, one that froze objects (``gc.freeze``) keeps them frozen,
    and nothing is frozen for good."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:  # else unfreeze would thaw the program's objects
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def lazy_names(
    package: str, homes: Mapping[str, tuple[str, ...]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of ``package``, whose names live in ``homes``
    (module -> names defined there)."""
    module_of = {name: module for module, names in homes.items() for name in names}
    namespace = sys.modules[package].__dict__

    def get_attribute(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        loaded = sys.modules.get(module)
        if loaded is None:
            with collector_paused():
                loaded = importlib.import_module(module)
        value = getattr(loaded, name)
        namespace[name] = value
        return value

    def list_names() -> list[str]:
        return sorted({*namespace, *module_of})

    return get_attribute, list_names


__all__ = ["collector_paused", "lazy_names"]

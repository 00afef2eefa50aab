"""Which class paths a checkpoint may make us import, decided before anything is imported.

Importing a module runs its code, so the class path a checkpoint names is judged from the
string and from the file system alone. The rule, applied in this order:

1. It is a dotted path of identifiers, a module and at least one name in it (no ``<locals>``:
   only classes defined at module level can be found again).
2. Its top-level package is not in the standard library (``sys.stdlib_module_names``, the
   built-in modules), not ``__main__`` or another ``__dunder__`` module, and not
   ``sitecustomize``/``usercustomize``. No process class lives there, and that is where the
   modules with visible side effects on import are (``antigravity`` opens a browser, ``this``
   prints, ``idlelib`` and ``turtledemo`` start programs); ``__main__`` is whatever script
   happens to be running, not the one that wrote the checkpoint. ``check_class_path`` applies
   rules 1-2; the codec applies them before it unpickles a checkpoint's payload.
3. Its module is found *without importing it or its parents*: already imported, or located by
   the interpreter's finders (``sys.meta_path``, so editable installs count) as a file on the
   module search path, walking down from the top-level package with each parent's search
   locations. ``find_class_module`` applies rules 1-3; ``import_class`` imports only what it
   returns.

What this does not do: it does not make a checkpoint signed with the right key safe to load.
The payload is a pickle, and a pickle can call any callable; whoever holds the key can run code
as this user. The HMAC is the gate (``persistence.codec``); these rules keep a checkpoint's class
path from importing what no workactors process could be, and keep describing a checkpoint free
of imports. A third-party package with import-time side effects on the module search path is
not recognised as such: keep such packages out of the environment that runs the daemon.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from persistence.errors import CheckpointLoadError

#: Top-level modules a checkpoint's class path may never name (see the module docstring).
DENIED_MODULES = (
    frozenset(sys.stdlib_module_names)
    | frozenset(sys.builtin_module_names)
    | {
        "sitecustomize",
        "usercustomize",
    }
)

#: Modules that a checkpoint's *payload* may not make pickle import: importing them does
#: something visible. Defence in depth only: a signed pickle can call any callable.
SIDE_EFFECT_MODULES = frozenset(
    {"antigravity", "this", "webbrowser", "turtle", "turtledemo", "tkinter", "idlelib"}
)


def check_class_path(class_path: str) -> None:
    """Refuse a class path that no checkpoint of a process may name (rules 1-2).

    Raises:
        CheckpointLoadError: naming the rule; nothing was imported.
    """
    parts = class_path.split(".") if isinstance(class_path, str) else []
    if len(parts) < 2 or not all(part.isidentifier() for part in parts):
        raise CheckpointLoadError(
            f"{class_path!r:.200} is not the path of a class that can be imported. Only "
            "classes defined at module level (not in a function or __main__ script) can be "
            "resumed from a checkpoint"
        )
    top = parts[0]
    if top in DENIED_MODULES or (top.startswith("__") and top.endswith("__")):
        where = (
            "__main__ or an interpreter module" if top.startswith("__") else "the standard library"
        )
        raise CheckpointLoadError(
            f"{class_path} is in {where} ({top}), where no process class lives: it was not "
            "imported. The checkpoint was not written by workactors for a process; discard it"
        )


def is_side_effect_module(module: str) -> bool:
    """True if ``module`` is, or is inside, one of ``SIDE_EFFECT_MODULES``."""
    return module.partition(".")[0] in SIDE_EFFECT_MODULES


def find_class_module(class_path: str) -> tuple[str, tuple[str, ...]]:
    """The module of ``class_path`` and the attribute names to follow in it (rules 1-3).

    The longest prefix of the path that is a module is the module, as for an import, but it is
    found without importing anything.

    Raises:
        CheckpointLoadError: if a rule refuses it; nothing was imported.
    """
    check_class_path(class_path)
    parts = class_path.split(".")
    module: str | None = None
    locations: Sequence[str] | None = None
    for index in range(len(parts) - 1):  # the last part is always a name inside a module
        name = ".".join(parts[: index + 1])
        found, submodule_locations = _find(name, locations)
        if not found:
            break
        module, locations = name, submodule_locations
        if locations is None:  # a module, not a package: nothing below it is a module
            break
    if module is None:
        raise CheckpointLoadError(
            f"{class_path} cannot be imported: no module of that name on the module search "
            "path; install the code that wrote it"
        )
    return module, tuple(parts[module.count(".") + 1 :])


def _find(name: str, parent_locations: Sequence[str] | None) -> tuple[bool, Sequence[str] | None]:
    """Whether module ``name`` exists (imported, or a file a finder locates) and, if it is a
    package, where its submodules are. ``parent_locations`` is None for a top-level module."""
    imported = sys.modules.get(name)
    if imported is not None:
        path = getattr(imported, "__path__", None)
        return True, list(path) if path is not None else None
    if parent_locations is not None and not parent_locations:
        return False, None
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        try:
            spec = find_spec(name, parent_locations)
        except Exception:  # a finder that cannot answer for this name has not found it
            continue
        if spec is None:
            continue
        locations = spec.submodule_search_locations
        if spec.has_location and spec.origin:
            return True, list(locations) if locations is not None else None
        if spec.loader is None or locations:  # a namespace package: its folders, no code
            return bool(locations), list(locations) if locations else None
        return False, None  # built-in or frozen: no file, not something a checkpoint names
    return False, None

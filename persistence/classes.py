"""Finding a class again by the path its checkpoint recorded (this package never imports it).

The path is judged before anything is imported (``persistence.loadable``): a path into the
standard library, ``__main__``, or a module that is not on the module search path is refused
without importing it.
"""

from __future__ import annotations

import importlib
from typing import Any

from persistence.errors import CheckpointLoadError
from persistence.loadable import find_class_module


def import_class(class_path: str) -> type[Any]:
    """The class at ``module.QualName``: the longest module prefix there is, then attributes.

    Raises:
        CheckpointLoadError: if ``persistence.loadable`` refuses the path (nothing is imported
            then), or if no module and attribute chain of that name gives a class.
    """
    module_name, names = find_class_module(class_path)
    try:
        found: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise CheckpointLoadError(
            f"importing {module_name} for {class_path} failed: {exc!r}"
        ) from exc
    try:
        for name in names:
            found = getattr(found, name)
    except AttributeError as exc:
        raise CheckpointLoadError(
            f"{class_path} cannot be imported: {exc}. Only classes defined at module level "
            "(not in a function or __main__ script) can be resumed from a checkpoint"
        ) from exc
    # A path may name a callable standing for its process class (a workfunction, a legacy
    # workflow): restore with the class it carries.
    found = getattr(found, "process_class", found)
    if not isinstance(found, type):
        raise CheckpointLoadError(f"{class_path} is not a class but {found!r}")
    return found

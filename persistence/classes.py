"""Finding a class again by the path its checkpoint recorded (this package never imports it)."""

from __future__ import annotations

import importlib
from typing import Any

from persistence.errors import CheckpointLoadError


def import_class(class_path: str) -> type[Any]:
    """The class at ``module.QualName``, importing the longest module prefix there is.

    Raises:
        CheckpointLoadError: if no module and attribute chain of that name gives a class.
    """
    parts = class_path.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:split])
        try:
            found: Any = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (module_name + ".").startswith(exc.name + "."):
                continue  # this prefix is no module: try a shorter one
            raise CheckpointLoadError(
                f"importing {module_name} for {class_path} failed: {exc}"
            ) from exc
        except Exception as exc:
            raise CheckpointLoadError(
                f"importing {module_name} for {class_path} failed: {exc!r}"
            ) from exc
        try:
            for name in parts[split:]:
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
    raise CheckpointLoadError(
        f"{class_path} cannot be imported: no module of that name; install the code that wrote it"
    )

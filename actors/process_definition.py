"""Rules a process class and its launch options are held to, checked where the user wrote
them: a class that shadows an engine name, or whose spec does not build, is refused at its
definition, launch metadata at the launch."""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from actors.errors import InputValidationError, SpecError
from actors.spec import METADATA_FIELDS, ExitCode

#: Engine attributes that subclasses are meant to override; every other engine name is the
#: engine's own, and a subclass that defines it (a step named ``submit``) is refused.
OVERRIDABLE = frozenset(
    {
        "CACHEABLE",
        "SaveKeys",
        "_process_class",
        "define",
        "inspect_process",
        "load_instance_state",
        "node_class",
        "on_except",
        "on_finish",
        "on_kill",
        "process_label",
        "results",
        "run",
        "run_process",
        "save_instance_state",
        "setup",
        "should_run_process",
        "spec_class",
    }
)
ENGINE_PACKAGE = "actors."
#: Overridable methods that the engine itself calls, at an end or a checkpoint: one of these
#: as an outline step would run as a step and again as the hook (``on_finish(self)`` as a step
#: replaces the hook that records the end: the process stayed RUNNING after it finished).
ENGINE_HOOKS = frozenset(
    {
        "define",
        "load_instance_state",
        "on_except",
        "on_finish",
        "on_kill",
        "process_label",
        "save_instance_state",
    }
)


def refuse_engine_names(cls: type[Any]) -> None:
    """Refuse a user class that shadows an engine attribute: a step named like an engine
    method would silently replace it and fail deep inside."""
    if cls.__module__.startswith(ENGINE_PACKAGE):
        return
    # An engine class's attributes, and the private instance attributes it declares in its
    # body: a helper method named ``_inputs`` was hidden by the instance's ``_inputs``.
    engine = {
        name
        for base in cls.__mro__[1:]
        if base.__module__.startswith(ENGINE_PACKAGE)
        for name in (*vars(base), *_private(vars(base).get("__annotations__", {})))
        if not (name.startswith("__") and name.endswith("__"))
    }
    clashes = sorted(name for name in vars(cls) if name in engine - OVERRIDABLE)
    if clashes:
        raise SpecError(
            f"{cls.__qualname__} defines {', '.join(clashes)}, which the engine's "
            f"{cls.__mro__[1].__name__} uses itself; rename "
            f"{'it' if len(clashes) == 1 else 'them'} (e.g. {clashes[0].lstrip('_')}_step)"
        )


def _private(names: Iterable[str]) -> list[str]:
    return [name for name in names if name.startswith("_")]


def refuse_hooks_as_steps(owner: str, names: Iterable[str]) -> None:
    """Refuse an outline whose step or condition is named like an engine hook.

    Raises:
        SpecError: naming the step and the owner.
    """
    hooks = sorted({name for name in names if name in ENGINE_HOOKS})
    if hooks:
        raise SpecError(
            f"{owner or 'a work chain'}: the outline uses {', '.join(hooks)}, which the engine "
            f"calls itself as a hook (when the process ends or is checkpointed); name "
            f"{'that step' if len(hooks) == 1 else 'those steps'} otherwise "
            f"(e.g. {hooks[0]}_step)"
        )


def check_spec_builds(cls: type[Any], build_spec: Callable[[type[Any]], object]) -> None:
    """Build the spec of ``cls`` now, so a bad definition (a namespace clash, a port exposed
    twice) fails where the class is written. A ``define`` that needs a name defined later in its
    module (a child class) is built on first use instead.

    Raises:
        SpecError: for a definition its spec refuses, naming the class.
    """
    try:
        build_spec(cls)
    except SpecError as exc:
        if cls.__qualname__ in str(exc):
            raise
        raise SpecError(f"{cls.__qualname__}: {exc}") from exc
    except Exception:
        return


_TAKES_EXIT_CODE: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def takes_exit_code(on_finish: Any) -> bool:
    """True if ``on_finish`` (a bound method) accepts the exit code."""
    key = getattr(on_finish, "__func__", on_finish)
    known = _TAKES_EXIT_CODE.get(key)
    if known is None:
        try:
            inspect.signature(on_finish).bind(ExitCode())
        except TypeError:
            known = False
        else:
            known = True
        _TAKES_EXIT_CODE[key] = known
    return known


def launch_metadata(metadata: Any, owner: str) -> dict[str, str]:
    """The ``metadata`` of a launch, checked: only a label and a description, both str.

    Raises:
        InputValidationError: naming the key or value that does not fit.
    """
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InputValidationError(
            f"metadata of {owner} must be a dict with 'label' and/or 'description', got "
            f"{type(metadata).__name__} {metadata!r}"
        )
    unknown = sorted(set(metadata) - set(METADATA_FIELDS))
    if unknown:
        raise InputValidationError(
            f"metadata of {owner}: unknown key {', '.join(map(repr, unknown))}; metadata takes "
            f"{' and '.join(METADATA_FIELDS)} (inputs go outside metadata)"
        )
    for key, value in metadata.items():
        if not isinstance(value, str):
            raise InputValidationError(
                f"metadata of {owner}: {key} must be a str, got {type(value).__name__} {value!r}"
            )
    return dict(metadata)

"""The payload of a checkpoint: a process's saved state, pickled, and unpickled once verified.

Unpickling is the one step of loading a checkpoint that runs code, so it is kept here, apart
from the frame and the signature, with the two refusals that come before and during it: the
class path is judged before anything is imported for it (``persistence.loadable``), and the
unpickler refuses globals from modules whose import does something visible. Both are defence
in depth: a valid HMAC is the gate (``persistence.codec`` says why the payload needs no
allow-list of classes), and a payload is unpickled here only once it is verified.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Mapping
from typing import Any

from persistence.errors import (
    CheckpointCorruptError,
    CheckpointEncodeError,
    CheckpointError,
    CheckpointLoadError,
)
from persistence.loadable import check_class_path, is_side_effect_module


def pickle_state(pid: int, class_path: str, state: Mapping[str, Any], protocol: int) -> bytes:
    """The payload of process ``pid``'s checkpoint: ``state`` as a pickled plain dict.

    Raises:
        CheckpointEncodeError: if the state cannot be pickled.
    """
    try:
        return pickle.dumps(dict(state), protocol=protocol)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as exc:
        raise CheckpointEncodeError(
            f"cannot checkpoint process {pid} ({class_path}): its state "
            f"is not picklable: {exc}. Keep only picklable data in the state and context"
        ) from exc


def unpickle_payload(payload: bytes, source: str) -> Any:
    """What the verified ``payload`` of checkpoint ``source`` holds.

    Raises:
        CheckpointLoadError: it names code that is missing here or must not be imported.
        CheckpointCorruptError: it does not unpickle.
    """
    try:
        return _PayloadUnpickler(io.BytesIO(payload)).load()  # verified by the HMAC
    except CheckpointError as exc:
        raise CheckpointLoadError(f"checkpoint {source}: {exc}") from None
    except (ImportError, AttributeError) as exc:
        raise CheckpointLoadError(
            f"checkpoint {source} is authentic but refers to code that is missing here: "
            f"{exc}. Install the version of the code that wrote it"
        ) from exc
    except Exception as exc:
        raise CheckpointCorruptError(
            f"checkpoint {source} is signed but its payload does not unpickle: {exc}; "
            "move it out of the running folder"
        ) from exc


def check_class_path_of(class_path: str, source: str) -> None:
    """Judge the class path of checkpoint ``source`` before anything is imported for it.

    Raises:
        CheckpointLoadError: if it is refused, naming the checkpoint.
    """
    try:
        check_class_path(class_path)
    except CheckpointLoadError as exc:
        raise CheckpointLoadError(f"checkpoint {source}: {exc}") from None


class _PayloadUnpickler(pickle.Unpickler):
    """Refuses globals from modules whose import does something visible (defence in depth:
    the HMAC is the gate, and a signed pickle can call any callable)."""

    def find_class(self, module: str, name: str) -> Any:
        if is_side_effect_module(module):
            raise CheckpointLoadError(
                f"its payload names {module}.{name}, a module that is never imported for a "
                "checkpoint; it was not written by workactors for a process: discard it"
            )
        return super().find_class(module, name)

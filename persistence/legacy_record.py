"""Checkpoints of format 1, written by earlier workactors: one signed pickle of a record.

The record is ``{"format", "version", "class_path", "pid", "state"}``. It is still read so that
processes checkpointed before the upgrade resume, and rewritten in the current format at their
next step. Its class path is only known once the pickle is loaded, so it is judged after the
unpickling, not before as for format 2; the HMAC has been verified by then
(``persistence.codec``), and nothing here sees unverified bytes.
"""

from __future__ import annotations

from typing import Any

from persistence.errors import CheckpointCorruptError, CheckpointVersionError
from persistence.frame import LEGACY_FRAME_VERSION
from persistence.payload import check_class_path_of, unpickle_payload

RECORD_FORMAT = "workactors-checkpoint"


def read_legacy_record(payload: bytes, source: str) -> tuple[int, str, dict[str, Any]]:
    """The pid, class path and state of the verified format-1 ``payload`` of ``source``.

    Raises:
        CheckpointCorruptError: it holds no well-formed record.
        CheckpointVersionError: its record has another version.
        CheckpointLoadError: as ``unpickle_payload``, or its class path is refused.
    """
    record = unpickle_payload(payload, source)
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
        raise CheckpointCorruptError(
            f"checkpoint {source} is signed but holds no workactors checkpoint record; discard it"
        )
    if record.get("version") != LEGACY_FRAME_VERSION:
        raise CheckpointVersionError(
            f"checkpoint {source} holds a record of version {record.get('version')!r}; this "
            f"workactors reads version {LEGACY_FRAME_VERSION}. Resume it with the version "
            "that wrote it"
        )
    pid, class_path, state = record.get("pid"), record.get("class_path"), record.get("state")
    if not (isinstance(pid, int) and isinstance(class_path, str) and isinstance(state, dict)):
        raise CheckpointCorruptError(
            f"checkpoint {source} has a malformed record (pid {pid!r}, class path "
            f"{class_path!r}, state of type {type(state).__name__}); discard it"
        )
    check_class_path_of(class_path, source)
    return pid, class_path, state

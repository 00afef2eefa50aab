"""A checkpoint as a row of ``wa_checkpoint``: its columns when written, its checks when read.

A row holds the same signed bytes a checkpoint file would (``persistence.codec``), beside the
id of the key that signed them. Reading a row verifies it before anything in it is unpickled,
cheapest and most telling check first: the key id (a row signed on a machine with another key
is refused with a message saying the machines' keys differ, rather than as a forgery), then its
HMAC, then the pid in its envelope (a row copied over another), then its class path.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from persistence.codec import Checkpoint, CheckpointCodec
from persistence.errors import (
    CheckpointCorruptError,
    CheckpointKeyMismatchError,
    CheckpointMissingError,
)
from persistence.restore import terminal_state
from provenance.process_state import ProcessState

#: The statuses of a row: running (queued or claimed), or retired as finished or failed.
RUNNING, FINISHED, FAILED = "running", "finished", "failed"


def key_id_of(key: bytes) -> str:
    """A name of ``key`` that reveals nothing of it, recorded beside every row it signs."""
    return hmac.digest(key, b"workactors checkpoint key id", "sha256")[:8].hex()


def status_of(end: ProcessState | None) -> str:
    """The status of the row of a process that ended in ``end`` (None: it has not ended)."""
    return RUNNING if end is None else FAILED if end is ProcessState.EXCEPTED else FINISHED


def where(pid: int, status: str) -> str:
    """How messages and logs name the row of ``pid`` with ``status``."""
    return f"postgresql:{status}/{pid}"


def missing(pid: int) -> CheckpointMissingError:
    """The error of an action on ``pid``'s running checkpoint, which is not in the database."""
    return CheckpointMissingError(
        f"process {pid} has no running checkpoint in the database; it ended or never had one"
    )


class CheckpointRows:
    """Encodes checkpoints into rows and verifies rows, with one key (``codec``, ``key_id``)."""

    def __init__(self, codec: CheckpointCodec, key_id: str) -> None:
        self.codec = codec
        self.key_id = key_id

    def columns(
        self, pid: int, class_path: str, state: Mapping[str, Any], protocol: int
    ) -> dict[str, Any]:
        """The columns of ``pid``'s row for its checkpoint of ``state`` (no claim columns).

        Raises:
            CheckpointEncodeError: the state cannot be pickled.
        """
        data = self.codec.encode(Checkpoint(pid, class_path, state), protocol=protocol)
        status = status_of(terminal_state(state))
        reason = f"process {pid} excepted; its traceback is on its process node"
        return {
            "pid": pid,
            "class_path": class_path,
            "data": data,
            "key_id": self.key_id,
            "status": status,
            "reason": reason if status == FAILED else None,
        }

    def decode(self, pid: int, data: bytes, key_id: str) -> dict[str, Any]:
        """The state in ``pid``'s running row (``data`` signed by ``key_id``), once verified.

        Raises:
            CheckpointKeyMismatchError: it was signed with another machine's key.
            CheckpointError: it is forged, damaged, of another pid or names a refused class.
        """
        source = where(pid, RUNNING)
        if key_id != self.key_id:
            raise CheckpointKeyMismatchError(
                f"checkpoint {source} was signed with another key (key id {key_id or 'none'}; "
                f"this machine's is {self.key_id}): the machines' checkpoint keys differ. "
                "Give every machine the same key file with WORKACTORS_CHECKPOINT_KEY_FILE; the "
                "checkpoint was not unpickled"
            )
        envelope = self.codec.describe(data, source=source)
        if envelope.pid != pid:
            raise CheckpointCorruptError(
                f"checkpoint {source} is signed for process {envelope.pid}, not {pid}: a row "
                "was copied over another; discard it"
            )
        return dict(self.codec.decode(data, source=source).state)

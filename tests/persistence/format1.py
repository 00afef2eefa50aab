"""Frozen copies of what earlier workactors wrote, to build the files newer code must still read.

Copied from ``persistence/codec.py`` (``CheckpointCodec.encode``, checkpoint format 1) and
``actors/control.py`` (``write_intent``, JSON) as they were at commit 0eb8503, before msgpack.
Do not "fix" or modernise them: they stand for files already on users' disks. The files under
``tests/persistence/data/format1`` were written by that commit's own code, and a test checks that
these copies write the same bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import pickle
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MAGIC = b"WACKPT\r\n"
FRAME_VERSION = 1
RECORD_FORMAT = "workactors-checkpoint"
RECORD_VERSION = 1
_HEADER = struct.Struct(">8sHQ")

#: Files written by commit 0eb8503 with the key ``KEY_FILE`` (see ``write_fixtures``).
DATA = Path(__file__).parent / "data" / "format1"
KEY_FILE = DATA / "checkpoint.key"
CHECKPOINT_FILE = DATA / "7.pickle"
INTENT_FILE = DATA / "7.intent"
CHECKPOINT_PID = 7
CHECKPOINT_CLASS = "tests.persistence.children.Plain"
CHECKPOINT_STATE: dict[str, Any] = {
    "class_name": CHECKPOINT_CLASS,
    "pid": 7,
    "node_uuid": "5f0c4a3b-1e2d-4c6b-9a8f-000000000007",
    "inputs": {"x": "5f0c4a3b-1e2d-4c6b-9a8f-000000000001"},
    "outputs": {},
    "state": "waiting",
    "ctx": {"n": 3, "text": "ünïcode\x00", "blob": b"\x00\xff", "pair": (1, "two")},
    "stepper": (1, (0, None)),
    "outline_done": False,
}
INTENT = {"action": "kill", "message": "stop: 100% enough [of] this ünïcode"}


def encode_checkpoint(
    key: bytes,
    pid: int,
    class_path: str,
    state: Mapping[str, Any],
    protocol: int = pickle.HIGHEST_PROTOCOL,
) -> bytes:
    """A format-1 checkpoint, byte for byte as ``CheckpointCodec.encode`` wrote it."""
    record = {
        "format": RECORD_FORMAT,
        "version": RECORD_VERSION,
        "class_path": class_path,
        "pid": pid,
        "state": dict(state),
    }
    payload = pickle.dumps(record, protocol=protocol)
    header = _HEADER.pack(MAGIC, FRAME_VERSION, len(payload))
    mac = hmac.new(key, header, hashlib.sha256)
    mac.update(payload)
    return header + mac.digest() + payload


def intent_bytes(action: str, message: str | None) -> bytes:
    """An intent file's content, as ``write_intent`` wrote it (JSON)."""
    body = {"action": action, "message": message}
    return json.dumps(body).encode()

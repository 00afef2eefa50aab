"""Content hashes of nodes, the keys of caching.

A data node's hash covers its type and its value (its attributes); a process node's covers its
class path, a hash of its class's source code, and the hashes of its inputs by name. Two runs of
the same code on equal inputs have equal hashes, whichever database they are stored in:
attributes are hashed as canonical JSON, and a float with an integral value hashes as the
integer, since PostgreSQL's jsonb gives ``1e16`` back as ``10000000000000000``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

#: Bumped when what a hash covers changes: old hashes then stop matching (``node rehash``).
HASH_VERSION = 1


def _canonical(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


#: Made once: ``json.dumps`` with options builds an encoder per call.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _digest(document: Any) -> str:
    text = _ENCODER.encode(_canonical(document))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def data_hash(node_type: str, attributes: Mapping[str, Any]) -> str:
    """The hash of a data node of ``node_type`` holding ``attributes``."""
    return _digest({"v": HASH_VERSION, "type": node_type, "attributes": dict(attributes)})


def process_hash(class_path: str, source_hash: str, input_hashes: Mapping[str, str]) -> str:
    """The hash of a run of the class at ``class_path`` (its code hashing to ``source_hash``)
    on inputs whose hashes are ``input_hashes`` (by input name)."""
    return _digest(
        {
            "v": HASH_VERSION,
            "class": class_path,
            "source": source_hash,
            "inputs": dict(input_hashes),
        }
    )


def source_hash(source: str) -> str:
    """The hash of a class's or function's source code."""
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()

"""Content hashes of nodes, the keys of caching.

A data node's hash covers its type and its value (its attributes); a process node's covers its
class path, a hash of its class's source code, and the hashes of its inputs by name. Two runs of
the same code on equal inputs have equal hashes, whichever database they are stored in:
attributes are hashed as canonical JSON, in which ``1`` and ``1.0`` differ (a float is read
back as a float from both databases: ``provenance.jsonb``), so that a run on ``List([1.0])``
never reuses the results of one on ``List([1])``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

#: Bumped when what a hash covers changes: old hashes then stop matching (``node rehash``).
#: 2: integral floats no longer hash as ints.
HASH_VERSION = 2


#: Made once: ``json.dumps`` with options builds an encoder per call.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _digest(document: Any) -> str:
    text = _ENCODER.encode(document)
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

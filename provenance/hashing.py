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
import math
from collections.abc import Mapping
from typing import Any

#: Bumped when what a hash covers changes: old hashes then stop matching (``node rehash``).
#: 2: integral floats no longer hash as ints.
HASH_VERSION = 2


#: Made once: ``json.dumps`` with options builds an encoder per call.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


#: How ``_ENCODER`` writes a str (its ``ensure_ascii=False`` escaping).
_encode_text = json.encoder.encode_basestring


def _digest(document: Any) -> str:
    text = _ENCODER.encode(document)
    return _digest_text(text)


def _digest_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _plain_json(value: Any) -> str | None:
    """A str, int, bool, None or finite float as ``_ENCODER`` writes it; None for anything
    else (a float subclass included), which the encoder itself must write."""
    kind = type(value)
    if kind is str:
        return _encode_text(value)
    if kind is int:
        return int.__repr__(value)
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    if kind is float and math.isfinite(value):
        return float.__repr__(value)
    return None


def _flat_json(mapping: Mapping[str, Any]) -> str | None:
    """``mapping`` as ``_ENCODER`` writes it (keys sorted) if it maps text to plain values
    (``_plain_json``), else None.

    Most hashed documents are such small dicts (an ``Int``'s attributes, a process's input
    hashes), and the encoder's set-up for each document cost several times their writing.
    """
    try:
        # By key: keys are unique, so values are never compared.
        items = sorted(mapping.items())
    except TypeError:  # keys of several types: not text keys
        return None
    parts = []
    for key, value in items:
        text = _plain_json(value)
        if type(key) is not str or text is None:
            return None
        parts.append(f"{_encode_text(key)}:{text}")
    return "{" + ",".join(parts) + "}"


def data_hash(node_type: str, attributes: Mapping[str, Any]) -> str:
    """The hash of a data node of ``node_type`` holding ``attributes``."""
    flat = _flat_json(attributes)
    if flat is None:
        return _digest({"v": HASH_VERSION, "type": node_type, "attributes": dict(attributes)})
    # The document above, written as ``_ENCODER`` writes it: keys in sorted order.
    return _digest_text(
        f'{{"attributes":{flat},"type":{_encode_text(node_type)},"v":{HASH_VERSION}}}'
    )


def process_hash(class_path: str, source_hash: str, input_hashes: Mapping[str, str]) -> str:
    """The hash of a run of the class at ``class_path`` (its code hashing to ``source_hash``)
    on inputs whose hashes are ``input_hashes`` (by input name)."""
    flat = _flat_json(input_hashes)
    if flat is None or type(class_path) is not str or type(source_hash) is not str:
        return _digest(
            {
                "v": HASH_VERSION,
                "class": class_path,
                "source": source_hash,
                "inputs": dict(input_hashes),
            }
        )
    return _digest_text(
        f'{{"class":{_encode_text(class_path)},"inputs":{flat},'
        f'"source":{_encode_text(source_hash)},"v":{HASH_VERSION}}}'
    )


def source_hash(source: str) -> str:
    """The hash of a class's or function's source code."""
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()

"""New node identities: random (version 4) uuids as the text the database stores.

``str(uuid.uuid4())`` builds and validates a ``UUID`` object only to print it again; a launch
creates several nodes, and that detour cost about as much as inserting one of them. The text
is the same: 122 random bits from ``os.urandom``, with the version and variant bits of
RFC 4122.
"""

from __future__ import annotations

import os


def new_uuid() -> str:
    """A random uuid, formatted as ``str(uuid.uuid4())`` formats one."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # variant RFC 4122
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

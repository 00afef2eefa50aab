"""JSON text for PostgreSQL's ``jsonb`` that gives every float back as a float.

``jsonb`` keeps numbers as ``numeric``, which drops an exponent's scale: ``1e16`` is stored as
``10000000000000000`` and comes back as the int ``10000000000000000``, so a ``Float`` or a
float inside a ``Dict`` would change type between writing and reading (and between SQLite and
PostgreSQL, breaking archive round trips and content hashes). Written out in full with a
fractional part, ``10000000000000000.0``, its scale is kept and it is read back as a float.

The one float ``numeric`` cannot hold is ``-0.0``: it is stored as ``0.0`` (equal as numbers).
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

#: Marks an integral float in the text before it is written out in full: a string the
#: engine never stores (NUL is refused or escaped at node creation), random per process.
_MARK = f"\x00{secrets.token_hex(6)}"
_MARKED = re.compile(r'"\\u0000' + _MARK[1:] + r'(-?\d+\.0)\\u0000"')


def jsonb_dumps(value: Any) -> str:
    """``json.dumps(value)``, with every integral float written as ``<digits>.0``."""
    text = json.dumps(_marked(value), ensure_ascii=False)
    return _MARKED.sub(lambda match: match.group(1), text) if _MARK[1:] in text else text


def _marked(value: Any) -> Any:
    if isinstance(value, float):
        if value.is_integer():  # finite: NaN and infinities are refused at node creation
            return f"{_MARK}{int(value)}.0\x00"
        return value
    if isinstance(value, dict):
        return {key: _marked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_marked(item) for item in value]
    return value

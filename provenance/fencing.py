"""Fences: a check, run inside the transaction of a provenance write, that its writer still
holds the process the write is for.

A daemon worker sharing a database with others holds each process it runs under a claim with
an epoch (``persistence.postgres_store``). A write for the process carries the claim's fence;
the provenance actor checks it on the write connection before it applies the write, in the same
transaction, and the check locks the claim's row until that transaction commits, so that no
other worker can take the process over between the check and the commit. A refused write
raises ``FencedError`` to whoever waits for it and changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


class Fence(Protocol):
    """The claim a write is made under."""

    def check(self, connection: Connection) -> None:
        """Lock the claim for the rest of the transaction on ``connection`` if it still holds.

        Raises:
            FencedError: if the claim ended (another worker took the process over).
        """

"""The messages a ``ProvenanceActor`` handles, and what it shares with its backend."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from provenance.fencing import Fence
from provenance.records import WriteOp

if TYPE_CHECKING:
    from provenance.actor import ProvenanceActor


@dataclass(frozen=True, slots=True)
class Write:
    """Apply ``ops`` in order, all or nothing; reply ``{uuid: pk}`` of the new nodes.

    The reply comes once committed, or with ``durable=False`` as soon as the ops are applied
    (a later commit failure then surfaces to whoever waits on a durable write).
    """

    ops: tuple[WriteOp, ...]
    reply: Future[dict[str, int]] | None = None
    durable: bool = True
    #: The claim the write is made under: checked (and locked) in the write's transaction.
    fence: Fence | None = None
    #: Its place in what the backend sent (``Watermark``); 0 for a write sent by hand.
    seq: int = 0


@dataclass(frozen=True, slots=True)
class Flush:
    """Commit what waited ``COMMIT_DELAY`` for company."""


@dataclass(frozen=True, slots=True)
class Sync:
    """Reply once everything sent before this message is committed."""

    reply: Future[None]
    seq: int = 0


class Watermark:
    """What a ``ProvenanceActor`` shares with its backend: how far the messages the backend
    sent in order (``seq``) are committed and whether anything applied is not, so that a
    reader with nothing to wait for needs no ``Sync`` round trip to read its writes; and the
    actor itself, which serves a waiting writer on the writer's thread (``serve_now``)."""

    def __init__(self) -> None:
        self.committed = 0
        self.dirty = False
        self.actor: ProvenanceActor | None = None


__all__ = ["Flush", "Sync", "Watermark", "Write"]

"""``ClaimFence``: the check that a store's claim on a process still holds, for the writes
made for it elsewhere (``provenance.fencing.Fence``), and the error a lost claim raises.

The provenance actor runs ``check`` in the transaction of a write for the process, before the
write: it locks the claim's row ``FOR SHARE`` until that transaction ends, so no other worker
can claim the process between the check and the commit. One row only, as every statement on
``wa_checkpoint`` (``persistence.pg_claim_sql``), so that it cannot deadlock with them.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from persistence.errors import LeaseLostError


class ClaimFence:
    """The claim a provenance write for ``pid`` is made under (``provenance.fencing.Fence``)."""

    def __init__(self, pid: int, owner: str, epoch: int) -> None:
        self.pid, self.owner, self.epoch = pid, owner, epoch

    def __repr__(self) -> str:
        return f"ClaimFence(pid={self.pid}, epoch={self.epoch})"

    def __eq__(self, other: object) -> bool:
        """The same claim: an actor compares the one it started under with the store's."""
        if not isinstance(other, ClaimFence):
            return NotImplemented
        return (self.pid, self.owner, self.epoch) == (other.pid, other.owner, other.epoch)

    def __hash__(self) -> int:
        return hash((self.pid, self.owner, self.epoch))

    def check(self, connection: Connection) -> None:
        """Lock the claim's row (``FOR SHARE``) until the write's transaction ends.

        Raises:
            LeaseLostError: if another worker claimed the process since.
        """
        found = connection.exec_driver_sql(
            "SELECT 1 FROM wa_checkpoint WHERE pid = %(pid)s AND owner = %(owner)s "
            "AND epoch = %(epoch)s FOR SHARE",
            {"pid": self.pid, "owner": self.owner, "epoch": self.epoch},
        ).first()
        if found is None:
            raise lost_claim(self.pid, self.epoch, "its provenance")


def lost_claim(pid: int, epoch: int, what: str) -> LeaseLostError:
    """The error of a write of ``what`` for ``pid`` under a claim (``epoch``) that ended."""
    return LeaseLostError(
        f"process {pid}: this worker's claim on it (epoch {epoch}) has ended, its lease ran out "
        f"and another worker took it over; {what} was not written. This worker drops the "
        "process; the other one goes on from its last checkpoint"
    )

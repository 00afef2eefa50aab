"""The statements by which stores claim rows of ``wa_checkpoint`` and write under a claim.

A row is *claimable* when it has no owner or its owner's lease ran out (``claimable``). A claim
sets the owner and ``epoch + 1`` in one statement; a write under a claim names the owner and
epoch it was claimed with, so that it matches no row once another store claimed it since.

They are kept together because their safety is a property of the set: every statement here
locks at most one checkpoint row, or skips locked ones (``FOR UPDATE SKIP LOCKED``), and none
touches ``wa_worker`` but to read it. Renewals write only ``wa_worker`` (``persistence.leases``)
and fenced provenance writes lock one row (``persistence.pg_fence``), so lock waits between
workers and provenance writers can never form a cycle. A new statement must keep that.
"""

from __future__ import annotations


def claimable(row: str) -> str:
    """SQL: the checkpoint ``row`` has no owner, or its owner's lease ran out."""
    return (
        f"({row}.owner IS NULL OR NOT EXISTS (SELECT 1 FROM wa_worker AS w "
        f"WHERE w.id = {row}.owner AND w.lease_expires > now()))"
    )


def claimable_by_others(row: str) -> str:
    """SQL: ``claimable``, and not this store's own: a store whose lease ran out (the server
    was down longer than it) still runs what it holds, and claiming those rows again would
    start a second run of each beside the first, both writing under the new claim.

    A row whose owner's lease ran out is taken only once the server has been up for a lease
    (``%(lease)s``, the claimer's): a restart longer than the lease expires every worker's
    lease at once, and the first worker back took the others' processes while they still
    ran them, and they took its back (each run cut off by its fence, then resumed from its
    checkpoint elsewhere). Within a lease of the restart every live worker has renewed; a
    dead one's processes wait that much longer. A row nobody owns is free at once."""
    return (
        f"({claimable(row)} AND {row}.owner IS DISTINCT FROM %(owner)s AND "
        f"({row}.owner IS NULL OR "
        "pg_postmaster_start_time() < now() - make_interval(secs => %(lease)s)))"
    )


#: Where a row is mine: the claim ``(owner, epoch)`` this store made on it still holds.
_MINE = "pid = %(pid)s AND owner = %(owner)s AND epoch = %(epoch)s"

#: A checkpoint written under this store's claim: it changes no row once the claim is lost.
SAVE_FENCED = (
    "UPDATE wa_checkpoint SET class_path = %(class_path)s, data = %(data)s, "
    "key_id = %(key_id)s, status = %(status)s, reason = %(reason)s, "
    "owner = CASE WHEN %(keep)s THEN owner END, updated = now() "
    f"WHERE {_MINE}"
)

#: A checkpoint written by a store that holds no claim on it: only while no one else does,
#: and never over a process that ended (a stale writer whose store forgot its claim, say a
#: checkpoint queued before the claim was let go, would make a finished process run again).
SAVE_UNHELD = (
    "INSERT INTO wa_checkpoint AS c (pid, class_path, data, key_id, status, reason, "
    "owner, epoch, updated) VALUES (%(pid)s, %(class_path)s, "
    "%(data)s, %(key_id)s, %(status)s, %(reason)s, NULL, 0, now()) "
    "ON CONFLICT (pid) DO UPDATE SET class_path = EXCLUDED.class_path, "
    "data = EXCLUDED.data, key_id = EXCLUDED.key_id, status = EXCLUDED.status, "
    "reason = EXCLUDED.reason, updated = now() "
    f"WHERE c.status = 'running' AND {claimable('c')}"
)

#: Claim a process launched here: a row with no checkpoint yet, or a claimable one.
HOLD = (
    "INSERT INTO wa_checkpoint AS c (pid, class_path, data, key_id, status, owner, epoch, "
    "updated) VALUES (%(pid)s, '', NULL, '', 'running', %(owner)s, 1, now()) "
    "ON CONFLICT (pid) DO UPDATE SET owner = %(owner)s, epoch = c.epoch + 1 "
    f"WHERE {claimable('c')} RETURNING epoch"
)

#: Claim one running checkpoint, and read it.
TAKE_OVER = (
    "UPDATE wa_checkpoint AS c SET owner = %(owner)s, epoch = c.epoch + 1 "
    "WHERE pid = %(pid)s AND status = 'running' "
    f"AND data IS NOT NULL AND {claimable_by_others('c')} "
    "RETURNING epoch, class_path, data, key_id"
)

#: Claim up to ``limit`` running checkpoints, oldest pid first, skipping rows others lock.
CLAIM_BATCH = (
    "WITH free AS (SELECT pid FROM wa_checkpoint AS f WHERE status = 'running' "
    f"AND data IS NOT NULL AND {claimable_by_others('f')} ORDER BY pid LIMIT %(limit)s "
    "FOR UPDATE SKIP LOCKED) "
    "UPDATE wa_checkpoint AS c SET owner = %(owner)s, epoch = c.epoch + 1 "
    "FROM free WHERE c.pid = free.pid "
    "RETURNING c.pid, c.epoch, c.class_path, c.data, c.key_id"
)

#: Whether a process has a running checkpoint.
HAS_CHECKPOINT = (
    "SELECT 1 FROM wa_checkpoint WHERE pid = %(pid)s AND status = 'running' AND data IS NOT NULL"
)

#: Drop a row this store claimed for a launch and never wrote a checkpoint into.
DELETE_UNWRITTEN = f"DELETE FROM wa_checkpoint WHERE data IS NULL AND {_MINE}"

#: End this store's claim on a row, leaving its checkpoint for another store.
RELEASE = f"UPDATE wa_checkpoint SET owner = NULL WHERE {_MINE}"


def retire(*, fenced: bool) -> str:
    """SQL: set the status (and reason) of a running checkpoint and end its claim; under this
    store's claim if ``fenced``, else only while no one holds it."""
    return (
        "UPDATE wa_checkpoint AS c SET status = %(status)s, reason = %(reason)s, "
        "owner = NULL, updated = now() WHERE pid = %(pid)s AND status = 'running' "
        "AND data IS NOT NULL AND "
        + ("owner = %(owner)s AND epoch = %(epoch)s" if fenced else claimable("c"))
    )

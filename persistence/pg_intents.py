"""Intents and control requests in the shared database: a pause, play or kill for a process,
delivered to wherever it runs.

A process a live worker holds gets the request at once, by ``NOTIFY`` (``persistence.pg_notify``);
one that nobody holds gets it as an intent in ``wa_intent`` (the last one wins), which whoever
claims it next takes and applies. The choice between the two is made under the checkpoint row's
lock, so that a claim cannot slip between the look and the choice.
"""

from __future__ import annotations

from persistence import messages
from persistence.errors import MessageError
from persistence.messages import Intent
from persistence.pg_database import StoreDatabase
from persistence.pg_rows import missing
from provenance.log import get_logger

log = get_logger(__name__)


def record_intent(database: StoreDatabase, pid: int, intent: Intent) -> None:
    """Keep ``intent`` for whoever adopts ``pid`` next; the last one wins."""
    database.execute(
        "record an intent",
        "INSERT INTO wa_intent (pid, data) VALUES (%(pid)s, %(data)s) "
        "ON CONFLICT (pid) DO UPDATE SET data = EXCLUDED.data",
        {"pid": pid, "data": messages.encode(intent)},
    )


def take_intent(database: StoreDatabase, pid: int) -> Intent | None:
    """Remove and return the intent kept for ``pid``; a damaged one is logged and dropped."""
    rows = database.fetch(
        "take an intent",
        "DELETE FROM wa_intent WHERE pid = %(pid)s RETURNING data",
        {"pid": pid},
    )
    if not rows:
        return None
    try:
        record = messages.decode(bytes(rows[0][0]))
    except MessageError as exc:
        log.warning("persistence.bad_intent", pid=pid, error=str(exc))
        return None
    if not isinstance(record, Intent):
        log.warning("persistence.bad_intent", pid=pid, error=f"a {type(record).__name__}")
        return None
    return record


def request_control(
    database: StoreDatabase, pid: int, intent: Intent, channel: str
) -> tuple[bool, int]:
    """Deliver a pause, play or kill to ``pid`` wherever it runs: if a worker with a live
    lease holds it, ``NOTIFY`` the request on ``channel`` (its holder acts on it); else
    keep it as an intent for the next claim and ``NOTIFY`` a wake. The row is locked
    meanwhile, so a claim cannot slip between the look and the choice.

    Returns: (sent to a holder, workers with a live lease).

    Raises:
        CheckpointMissingError: if ``pid`` has no running checkpoint here.
    """
    from persistence.messages import WAKE, ControlRequest
    from persistence.pg_notify import send

    def deliver() -> tuple[bool, int]:
        with database.connection() as connection:
            row = connection.execute(
                "SELECT c.owner IS NOT NULL AND EXISTS (SELECT 1 FROM wa_worker AS w "
                "WHERE w.id = c.owner AND w.lease_expires > now()) FROM wa_checkpoint AS c "
                "WHERE c.pid = %s AND c.status = 'running' FOR UPDATE",
                (pid,),
            ).fetchone()
            if row is None:
                raise missing(pid)
            held = bool(row[0])
            if held:
                request = ControlRequest(intent.action, pid, intent.message)
                send(connection, channel, request)
            else:
                connection.execute(
                    "INSERT INTO wa_intent (pid, data) VALUES (%s, %s) ON CONFLICT (pid) "
                    "DO UPDATE SET data = EXCLUDED.data",
                    (pid, messages.encode(intent)),
                )
                send(connection, channel, WAKE)
            live = connection.execute(
                "SELECT count(*) FROM wa_worker WHERE lease_expires > now()"
            ).fetchone()
            return held, int(live[0]) if live else 0

    return database.run("deliver a request to", deliver)

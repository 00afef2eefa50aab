"""The rows of ``wa_runtime``: which runtimes are open on a database, on any machine.

A runtime writes its row when it opens (``Beat.OPEN``), renews its heartbeat every interval
(``Beat.RENEW``) and deletes it when it shuts down (``Beat.CLOSE``), through its provenance
actor (``provenance.actor``), the one writer of a SQLite database; on PostgreSQL renewals go on
a connection of their own (``beat_on_own_connection``). Each beat sets ``expires`` to a
few intervals after it; a row whose ``expires`` is past, or a missing row, means that runtime
ended (killed, or its machine lost) without ending its processes. Every time is the database's
clock (``now()`` on PostgreSQL; on SQLite, the clock of the machine that holds the file), both
when written and when judged, so the clocks of the machines that share a database need not
agree.

The statements are written for each driver (``sqlite3``, ``psycopg``): a runtime on SQLite
beats without SQLAlchemy, as it writes and reads at open (``provenance.sqlite_connections``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from provenance.sqlite_connections import SqliteWriteConnection, read_rows

if TYPE_CHECKING:
    from provenance.storage import Storage, WriteConnection

#: How SQLite stores a time here: text that sorts as the time does (what SQLAlchemy reads).
_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
#: A row that ran out this long ago (seconds) is deleted by the next runtime that opens.
FORGET_AFTER = 86_400.0


class Beat(Enum):
    """What a runtime does to its row."""

    OPEN = "open"
    RENEW = "renew"
    CLOSE = "close"


@dataclass(frozen=True, slots=True)
class RuntimeRow:
    """A runtime's row: who it is, and whether its heartbeat is still on time."""

    id: str
    host: str
    os_pid: int
    home: str
    #: Seconds between its last heartbeat and now, by the database's clock.
    silent_for: float
    #: False once the row ran out: that runtime no longer beats (on PostgreSQL, and the
    #: server has been up long enough for it to have beaten since a restart).
    alive: bool


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """One beat of runtime ``id``: its row's contents, and how long it holds (``lasts``
    seconds from now, by the database's clock)."""

    beat: Beat
    id: str
    host: str = ""
    os_pid: int = 0
    home: str = ""
    lasts: float = 0.0


def _upsert(now: str, expires: str, param: str) -> str:
    values = ", ".join(param.format(name) for name in ("id", "host", "os_pid", "home"))
    return (
        "INSERT INTO wa_runtime (id, host, os_pid, home, started, heartbeat, expires) "
        f"VALUES ({values}, {now}, {now}, {expires}) ON CONFLICT (id) DO UPDATE SET "
        "heartbeat = excluded.heartbeat, expires = excluded.expires"
    )


def _params(beat: Heartbeat, lasts: object, forget: object) -> dict[str, Any]:
    """The parameters of a beat's statements; ``lasts`` and ``forget`` as the driver takes
    a span of time."""
    row = {"id": beat.id, "host": beat.host, "os_pid": beat.os_pid, "home": beat.home}
    return {**row, "lasts": lasts, "forget": forget}


def _sqlite_statements(beat: Heartbeat) -> list[tuple[str, dict[str, Any]]]:
    params = _params(beat, f"{beat.lasts:+.3f} seconds", f"-{FORGET_AFTER:.0f} seconds")
    if beat.beat is Beat.CLOSE:
        return [("DELETE FROM wa_runtime WHERE id = :id", params)]
    expires = "strftime('%Y-%m-%d %H:%M:%f', 'now', :lasts)"
    statements = [(_upsert(_SQLITE_NOW, expires, ":{}"), params)]
    if beat.beat is Beat.OPEN:
        forget = (
            "DELETE FROM wa_runtime WHERE expires < strftime('%Y-%m-%d %H:%M:%f', 'now', :forget)"
        )
        statements.append((forget, params))
    return statements


def _postgresql_statements(beat: Heartbeat) -> list[tuple[str, dict[str, Any]]]:
    params = _params(beat, beat.lasts, FORGET_AFTER)
    if beat.beat is Beat.CLOSE:
        return [("DELETE FROM wa_runtime WHERE id = %(id)s", params)]
    # clock_timestamp(): the time of the statement, whatever the transaction's age.
    now = "clock_timestamp()"
    expires = "clock_timestamp() + make_interval(secs => %(lasts)s)"
    statements = [(_upsert(now, expires, "%({})s"), params)]
    if beat.beat is Beat.OPEN:
        forget = (
            "DELETE FROM wa_runtime WHERE expires < clock_timestamp() - "
            "make_interval(secs => %(forget)s)"
        )
        statements.append((forget, params))
    return statements


def apply_heartbeat(connection: WriteConnection, dialect: str, beat: Heartbeat) -> None:
    """Write ``beat`` on the provenance actor's ``connection``, in a transaction of its own
    that it commits (the caller committed what it had before)."""
    if dialect == "postgresql":
        statements = _postgresql_statements(beat)
    else:
        statements = _sqlite_statements(beat)
    if isinstance(connection, SqliteWriteConnection):
        connection.begin()
        for sql, params in statements:
            connection.driver.execute(sql, params)
    else:
        for sql, params in statements:
            connection.exec_driver_sql(sql, params)
    connection.commit()


def beat_on_own_connection(storage: Storage, beat: Heartbeat) -> None:
    """Write ``beat`` on a pooled connection of ``storage``, beside the provenance actor: for
    a database of many writers (PostgreSQL), so that a long write the actor is busy with does
    not delay a renewal past the row's end."""
    with storage.write_engine.connect() as connection:
        apply_heartbeat(connection, storage.dialect, beat)


_SQLITE_ROWS = (
    "SELECT id, host, os_pid, home, "
    f"(julianday('now') - julianday(heartbeat)) * 86400.0, expires > {_SQLITE_NOW} "
    "FROM wa_runtime"
)
#: On PostgreSQL a row that ran out still counts as alive until the server has been up for
#: the row's lifetime: a restart longer than it makes every row run out at once, and the first
#: runtime back must not take the processes of runtimes that renew as soon as they can.
_POSTGRESQL_ROWS = (
    "SELECT id, host, os_pid, home, extract(epoch FROM now() - heartbeat), "
    "expires > now() OR pg_postmaster_start_time() > now() - (expires - heartbeat) "
    "FROM wa_runtime"
)


def runtime_rows(storage: Storage) -> dict[str, RuntimeRow]:
    """Every row of ``wa_runtime`` of the database, by runtime id, judged by its clock now."""
    path = storage.sqlite_path
    if path is not None:
        rows = read_rows(path, _SQLITE_ROWS)
    else:
        import sqlalchemy as sa

        query = sa.text(_POSTGRESQL_ROWS if storage.dialect == "postgresql" else _SQLITE_ROWS)
        with storage.read_session() as session:
            rows = [tuple(row) for row in session.execute(query)]
    return {
        str(id_): RuntimeRow(str(id_), str(host), int(pid), str(home), float(age), bool(alive))
        for id_, host, pid, home, age, alive in rows
    }


__all__ = [
    "FORGET_AFTER",
    "Beat",
    "Heartbeat",
    "RuntimeRow",
    "apply_heartbeat",
    "beat_on_own_connection",
    "runtime_rows",
]

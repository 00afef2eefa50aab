"""Wakes through the database: ``NOTIFY`` to send, a ``LISTEN``ing connection to receive.

Every machine on one database (and schema) uses the channel ``channel_of(url)``. A payload is a
``persistence.messages`` record made by ``encode_notify``: a wake (a submission), an end (a
parent may wait for it on another machine), or a pause/play/kill request. A notification is
delivered only when the transaction that sent it commits, and to every listener: a worker that
holds nothing for it ignores it. Notifications missed while a listener reconnects are made up
for by the worker's periodic rescan and by the wake the listener reports after reconnecting.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import psycopg

from persistence.errors import MessageError
from persistence.messages import WAKE, Record, decode_notify, encode_notify
from persistence.pg_connection import channel_of, conninfo_of
from provenance.log import get_logger

log = get_logger(__name__)


def send(connection: Any, channel: str, record: Record) -> None:
    """Queue ``record`` on ``channel`` in ``connection``'s transaction (sent at its commit)."""
    connection.execute("SELECT pg_notify(%s, %s)", (channel, encode_notify(record)))


class DatabaseNotifier:
    """The ``persistence.Notifier`` of a shared database: ``NOTIFY`` every listening worker.

    Keeps one connection, opened at the first notification and opened again after it broke; a
    failure is logged, never raised: the checkpoint is written, and a rescan finds it.
    """

    def __init__(self, url: str) -> None:
        self._conninfo = conninfo_of(url)
        self.channel = channel_of(url)
        self._connection: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DatabaseNotifier(channel={self.channel!r})"

    def submitted(self, pid: int) -> None:
        """A checkpoint nobody holds was written for ``pid``: wake the workers."""
        self.send(WAKE)

    def send(self, record: Record) -> bool:
        """Notify every worker of ``record``; False (logged) if the database was unreachable."""
        with self._lock:
            for attempt in (1, 2):  # a connection a server restart broke: once more, anew
                try:
                    if self._connection is None or self._connection.closed:
                        self._connection = psycopg.connect(self._conninfo, autocommit=True)
                    send(self._connection, self.channel, record)
                    return True
                except psycopg.Error as exc:
                    self.close_connection()
                    if attempt == 2:
                        log.warning(
                            "persistence.notify_failed", record=repr(record), error=str(exc)[:200]
                        )
        return False

    def close_connection(self) -> None:
        """Close the kept connection (a later notification opens a new one)."""
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None

    def __del__(self) -> None:
        self.close_connection()


class NotifyListener:
    """A connection that ``LISTEN``s on the channel of ``url``; ``fileno`` is for ``select``.

    ``drain`` returns the records received. When the connection breaks (the server restarted)
    it reconnects on the next ``drain`` and returns a wake, so that what was missed meanwhile is
    looked for.
    """

    def __init__(self, url: str) -> None:
        self._conninfo = conninfo_of(url)
        self.channel = channel_of(url)
        self._connection: psycopg.Connection[Any] | None = None
        self._connect()

    def _connect(self) -> None:
        connection = psycopg.connect(self._conninfo, autocommit=True)
        connection.execute(f'LISTEN "{self.channel}"')
        self._connection = connection

    def fileno(self) -> int:
        """The connection's socket, or -1 while it is down."""
        if self._connection is None or self._connection.closed:
            return -1
        return self._connection.pgconn.socket

    @property
    def connected(self) -> bool:
        """True while the listening connection is up."""
        return self._connection is not None and not self._connection.closed

    def drain(self) -> list[Record]:
        """Every record received, without blocking; bad payloads are logged and dropped.

        Raises:
            psycopg.OperationalError: if it could not reconnect (try again later).
        """
        if not self.connected:
            self._connect()
            return [WAKE]
        assert self._connection is not None
        try:
            notices = list(self._connection.notifies(timeout=0))
        except psycopg.OperationalError as exc:
            log.warning("persistence.listener_lost", error=str(exc)[:200])
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None
            self._connect()
            return [WAKE]
        received: list[Record] = []
        for notice in notices:
            try:
                received.append(decode_notify(notice.payload))
            except MessageError as exc:
                log.warning("persistence.bad_notification", error=str(exc))
        return received

    def close(self) -> None:
        """Stop listening."""
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None

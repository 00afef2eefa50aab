"""Live updates: notice that the database changed without asking the database, and stream
what changed to the pages as server-sent events.

One ``ChangeWatcher`` per server looks, a few times a second and only while some page listens,
at a fingerprint of the database that costs no query on its tables: the size and modification
time of the SQLite file and its write-ahead log, or PostgreSQL's current WAL position. Only when
that moves does each stream render its fragment again, and it sends it only if it differs from
what the page has.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool

from provenance.log import get_logger
from provenance.storage import Storage

log = get_logger(__name__)

#: Seconds between two looks at the fingerprint while a page listens.
POLL_INTERVAL = 0.25
#: Seconds of silence after which a stream sends a comment, so that proxies keep it open.
KEEPALIVE = 15.0

Fingerprint = tuple[object, ...]


def _file_state(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


def fingerprint_reader(storage: Storage) -> Callable[[], Fingerprint]:
    """A function that returns something that changes whenever the database is written."""
    if storage.dialect == "sqlite":
        database = sa.make_url(storage.url).database or ""
        path = Path(database)
        wal = Path(f"{database}-wal")
        return lambda: (_file_state(path), _file_state(wal))
    engine = storage.read_engine

    def wal_position() -> Fingerprint:
        with engine.connect() as connection:
            return (str(connection.exec_driver_sql("SELECT pg_current_wal_lsn()").scalar()),)

    return wal_position


class ChangeWatcher:
    """Counts the changes of the database's fingerprint and wakes whoever waits for one."""

    def __init__(self, read: Callable[[], Fingerprint], interval: float = POLL_INTERVAL) -> None:
        self._read = read
        self._interval = interval
        self._version = 0
        self._changed = asyncio.Condition()
        self._listeners = 0
        self._task: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()
        self._closed = False
        self.looks = 0  # how many fingerprints were read: tests and benchmarks check the cost

    @property
    def version(self) -> int:
        """Bumped once for each change seen."""
        return self._version

    async def _look(self) -> Fingerprint | None:
        try:
            return await run_in_threadpool(self._read)
        except Exception as exc:  # a database that went away: say so, keep trying
            log.warning("web.fingerprint_failed", error=repr(exc))
            return None

    async def _poll(self, last: Fingerprint | None) -> None:
        while self._listeners:
            await asyncio.sleep(self._interval)
            current = await self._look()
            self.looks += 1
            if current is not None and current != last:
                last = current
                async with self._changed:
                    self._version += 1
                    self._changed.notify_all()

    @property
    def closed(self) -> bool:
        """True once the server began to stop: streams end."""
        return self._closed

    async def wait_for_change(self, seen: int, timeout: float) -> int:
        """The version once it differs from ``seen`` (or the watcher closes), or ``seen``
        after ``timeout`` seconds."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self._version != seen or self._closed),
                    timeout,
                )
            return self._version

    @contextlib.asynccontextmanager
    async def listening(self) -> AsyncIterator[None]:
        """Keep the watcher polling while the block runs (one poller for every listener)."""
        self._listeners += 1
        try:
            async with self._starting:
                if self._task is None or self._task.done():
                    # The first look is taken before the listener reads anything: a change
                    # after it is seen by the next look, so none falls between two.
                    baseline = await self._look()
                    self._task = asyncio.get_running_loop().create_task(self._poll(baseline))
            yield
        finally:
            self._listeners -= 1

    async def close(self) -> None:
        """Stop polling and end every stream (the server stops); closing twice is harmless."""
        self._listeners = 0
        async with self._changed:
            self._closed = True
            self._changed.notify_all()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def sse_message(event: str, data: str) -> str:
    """One server-sent event: every line of ``data`` on its own ``data:`` line."""
    lines = "".join(f"data: {line}\n" for line in data.split("\n"))
    return f"event: {event}\n{lines}\n"


async def fragment_stream(
    watcher: ChangeWatcher, render: Callable[[], str], event: str
) -> AsyncIterator[str]:
    """Send ``render()`` at once, then again each time the database changed and the fragment
    with it; a comment every ``KEEPALIVE`` seconds otherwise. Ends when the client leaves or
    the server stops (a browser's ``EventSource`` then reconnects by itself)."""
    async with watcher.listening():
        seen = watcher.version  # before rendering: a change during it is sent after
        sent = await run_in_threadpool(render)
        yield sse_message(event, sent)
        while True:
            now = await watcher.wait_for_change(seen, KEEPALIVE)
            if watcher.closed:
                return
            if now == seen:
                yield ": keepalive\n\n"
                continue
            seen = now
            fragment = await run_in_threadpool(render)
            if fragment != sent:
                sent = fragment
                yield sse_message(event, fragment)

"""Who holds each running process, and ending the processes whose holder died.

A process that a runtime runs carries a ``holder`` attribute: the host, OS pid, start time and
birth (``actors.os_identity``) of the Python process running it, and its home. If that OS
process dies (``kill -9`` of a script doing a blocking ``run``), nothing would ever end the
process's node: it would show RUNNING forever. A process with a running checkpoint is not lost
(a daemon worker resumes it); one without is: ``repair`` finds those (every runtime does at
open, ``workactors process repair`` on demand) and ends them KILLED, saying why.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actors import os_identity
from provenance.errors import NotExistentError
from provenance.log import get_logger
from provenance.process_nodes import ProcessNode
from provenance.process_state import ProcessState
from provenance.sqlite_connections import read_rows

if TYPE_CHECKING:
    from actors.runtime import Runtime
    from provenance.storage import Storage

log = get_logger(__name__)

#: The attribute of a process node that names its holder.
HOLDER = "holder"
#: Start times of one OS process, as read twice, differ by less than this (seconds).
START_TOLERANCE = 1.0

_ACTIVE = [state.value for state in ProcessState if not state.is_terminal]


@dataclass(frozen=True, slots=True)
class Holder:
    """The OS process that runs a process, and the home whose checkpoints it keeps."""

    host: str
    os_pid: int
    started: float
    home: str
    #: ``os_identity.birth``: what tells it alive, whatever the wall clock did meanwhile.
    birth: str | None = None

    @classmethod
    def of_this_process(cls, home: Path) -> Holder:
        """The holder that this Python process is, for a runtime on ``home``."""
        pid = os.getpid()
        started = _this_process_started() or 0.0
        return cls(socket.gethostname(), pid, started, str(home), os_identity.birth(pid))

    def as_attribute(self) -> dict[str, Any]:
        """How a node stores it."""
        stored = {"host": self.host, "pid": self.os_pid, "started": self.started, "home": self.home}
        if self.birth is not None:
            stored["birth"] = self.birth
        return stored

    @classmethod
    def from_attribute(cls, value: Any) -> Holder | None:
        """The holder a node stores, or None if it has none (or an unreadable one)."""
        if not isinstance(value, dict):
            return None
        try:
            born = value.get("birth")
            return cls(
                str(value["host"]),
                int(value["pid"]),
                float(value["started"]),
                value["home"],
                born if isinstance(born, str) else None,
            )
        except (KeyError, TypeError, ValueError):
            return None

    def is_alive(self) -> bool | None:
        """True if it still runs, False if it is gone, None if that cannot be told from here
        (another host). A holder recorded with its birth is judged by it: a step of the wall
        clock moves start times (``actors.os_identity``) and made live holders look dead."""
        if self.host != socket.gethostname():
            return None
        if self.birth is not None:
            return os_identity.birth(self.os_pid) == self.birth
        started = _started(self.os_pid)
        return started is not None and abs(started - self.started) < START_TOLERANCE

    def __str__(self) -> str:
        return f"OS process {self.os_pid} on {self.host}"


def _started(os_pid: int) -> float | None:
    """When OS process ``os_pid`` started; None if there is none (a reused pid differs)."""
    import psutil  # only to look at other processes: every runtime open would pay ~10 ms

    try:
        return float(psutil.Process(os_pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def _this_process_started() -> float | None:
    """When this OS process started, exactly as ``_started`` (psutil) computes it, read from
    ``/proc`` on Linux: every runtime open needs it, and importing psutil cost a cold start
    more than the rest of opening the runtime."""
    try:
        with open("/proc/self/stat", "rb") as stat_file:
            stat = stat_file.read()
        with open("/proc/stat", "rb") as system_file:
            booted = next(
                float(line.split()[1]) for line in system_file if line.startswith(b"btime")
            )
        ticks = os_identity.start_ticks(stat)
        if ticks is not None:
            return os_identity.ticks_to_seconds(ticks) + booted
    except (OSError, ValueError, IndexError, StopIteration):
        pass
    return _started(os.getpid())  # not Linux: ask psutil


@cache
def _this_host() -> str:
    return socket.gethostname()


def orphaned(runtime: Runtime, node: ProcessNode) -> Holder | bool | None:
    """Whether ``node`` is a process that nothing will ever end.

    Returns False if it is ended, resumable (it has a running checkpoint here) or held by a
    live (or unknowable) holder; else its dead holder, or None if it never had one.
    """
    state = node.process_state
    if state is None or state.is_terminal:
        return False
    if _resumable(runtime, node.pk):
        return False
    caller = node.caller
    if caller is not None and _resumable(runtime, caller.pk):
        # Launched by a step that will run again from its caller's checkpoint (a crash came
        # between its node and its own first checkpoint): that step re-attaches to it.
        return False
    holder = Holder.from_attribute(node.attributes.get(HOLDER))
    if holder is not None and holder.is_alive() is not False:
        return False
    return holder


def _resumable(runtime: Runtime, pk: int | None) -> bool:
    """True if ``pk`` has a running checkpoint in the runtime's store (this home's files, or
    the shared database): a daemon worker resumes it."""
    return pk is not None and runtime.checkpoints.store.has_checkpoint(pk)


def end_orphan(runtime: Runtime, pk: int, *, by: str) -> bool:
    """End process ``pk`` KILLED if nothing will ever end it; True if it was.

    Raises:
        NotExistentError: if there is no node ``pk``.
    """
    node = runtime.load_node(pk)
    if not isinstance(node, ProcessNode):
        raise NotExistentError(f"node {pk} is not a process")
    holder = orphaned(runtime, node)
    if holder is False:
        return False
    if isinstance(holder, Holder):
        why = f"its runtime ({holder}) ended without ending it"
    else:
        why = "no runtime holds it"
    message = f"{why}, and it has no checkpoint to resume from; {by}"
    update = node.set_process_attributes(
        process_state=ProcessState.KILLED.value, exit_message=message
    )
    runtime.backend.write([update])
    log.warning("holders.orphan_ended", pid=pk, holder=str(holder), by=by)
    return True


#: ``active_holders`` on SQLite as SQLAlchemy renders it there, on the driver alone: a runtime
#: runs it at every open, before which a program need not have imported SQLAlchemy.
_ACTIVE_HOLDERS_ON_SQLITE = (
    f"SELECT id, JSON_QUOTE(JSON_EXTRACT(attributes, '$.\"{HOLDER}\"')) FROM db_node "
    f"WHERE node_type LIKE ? || '%' AND "
    f"CAST(JSON_EXTRACT(attributes, '$.\"process_state\"') AS VARCHAR) "
    f"IN ({', '.join('?' * len(_ACTIVE))})"
)


def active_holders(runtime: Runtime) -> list[tuple[int, Any]]:
    """The pk and ``holder`` attribute (None if it has none) of every process node not
    ended."""
    path = runtime.storage.sqlite_path
    if path is not None:
        return _active_holders_on_sqlite(path)
    return _active_holders_through_sqlalchemy(runtime.storage)


def _active_holders_on_sqlite(path: str) -> list[tuple[int, Any]]:
    rows = read_rows(path, _ACTIVE_HOLDERS_ON_SQLITE, (ProcessNode.node_type, *_ACTIVE))
    return [(pk, None if holder is None else json.loads(holder)) for pk, holder in rows]


def _active_holders_through_sqlalchemy(storage: Storage) -> list[tuple[int, Any]]:
    import sqlalchemy as sa

    from provenance.models import DbNode

    query = sa.select(DbNode.id, DbNode.attributes[HOLDER]).where(
        DbNode.node_type.startswith(ProcessNode.node_type),
        DbNode.attributes["process_state"].as_string().in_(_ACTIVE),
    )
    with storage.read_session() as session:
        return [(row[0], row[1]) for row in session.execute(query)]


def repair(runtime: Runtime) -> list[int]:
    """End every process of this home and host whose holder died; return their pids."""
    host = _this_host()
    home = str(runtime.home)
    ended: list[int] = []
    for pk, stored in active_holders(runtime):
        holder = Holder.from_attribute(stored)
        if holder is None or holder.host != host or holder.home != home:
            continue  # without a holder it was submitted: its checkpoint is its life
        if holder.is_alive() is False and end_orphan(runtime, pk, by="found by repair"):
            ended.append(pk)
    if ended:
        log.warning("holders.repaired", pids=ended)
    return ended


__all__ = ["HOLDER", "Holder", "active_holders", "end_orphan", "orphaned", "repair"]

"""Telling a live OS process from a later one that reused its pid, whatever the wall clock does.

Files that outlive their writer (the daemon's state and status files) record the writer's OS
pid and when it started; a reader compares that with when the process of that pid started. The
start psutil gives (``create_time``) is no stable record on Linux: it is the start's clock ticks
after boot plus the boot time, which the kernel derives from the wall clock at every read and
truncates to whole seconds (``btime`` in ``/proc/stat``). A step of the wall clock (NTP, a VM
resumed) moves every process's ``create_time``, by a whole second even for a step of a few
milliseconds across a second boundary, and a live daemon then looked dead to every reader.

``birth`` is what no clock moves: the boot's id and the clock tick after boot at which the
process started. It is None where there is no ``/proc`` (not Linux): callers then compare
``create_time`` as before.
"""

from __future__ import annotations

import os
from functools import cache

#: Changes at every boot: a pid and a start tick of an earlier boot name another process.
BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id"
#: Fields of ``/proc/<pid>/stat`` after the command name, up to and including ``starttime``
#: (field 22 of the whole line, clock ticks after boot).
_START_FIELD = 19
#: States of a process that has ended: ``Z`` a zombie (not reaped yet), ``X`` dead.
_DEAD_STATES = frozenset({b"Z", b"X"})


def birth(os_pid: int) -> str | None:
    """``<boot id>/<start tick>`` of OS process ``os_pid``, equal for as long as it lives and
    different for any other process; None if there is no such process, or no ``/proc``.

    A zombie (killed, its parent has not reaped it yet) has none: it runs no more code, though
    its ``/proc`` entry stays, with its start tick, until its parent waits for it.
    """
    try:
        with open(f"/proc/{os_pid}/stat", "rb") as stat_file:
            stat = stat_file.read()
    except OSError:
        return None
    if _state(stat) in _DEAD_STATES:
        return None
    boot = boot_id()
    ticks = start_ticks(stat)
    if boot is None or ticks is None:
        return None
    return f"{boot}/{ticks}"


@cache
def boot_id() -> str | None:
    """The id of the running boot; None without ``/proc`` (it does not change while we run)."""
    try:
        with open(BOOT_ID_PATH, encoding="ascii") as boot_file:
            return boot_file.read().strip() or None
    except OSError:
        return None


def _state(stat: bytes) -> bytes:
    """The state letter in the content of a ``/proc/<pid>/stat`` file (``R``, ``S``, ``Z``...)."""
    fields = stat[stat.rfind(b")") + 2 :].split()
    return fields[0] if fields else b""


def start_ticks(stat: bytes) -> int | None:
    """The start, in clock ticks after boot, in the content of a ``/proc/<pid>/stat`` file.

    The command name may hold spaces and parentheses: fields are counted after the last ``)``.
    """
    fields = stat[stat.rfind(b")") + 2 :].split()
    try:
        return int(fields[_START_FIELD])
    except (IndexError, ValueError):
        return None


def ticks_to_seconds(ticks: int) -> float:
    """Clock ticks (``start_ticks``) as seconds."""
    return ticks / os.sysconf("SC_CLK_TCK")

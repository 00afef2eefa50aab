"""The messages between a ``ProcessDriver`` and its actor: the commands the driver decides,
and the events that carry a command's outcome back to it.

They are plain records, apart from the transitions that produce them (``actors.driver``), so
that the actors that carry commands out (``ProcessActor``, ``InlineRun``) and the tests that
read them depend on what a decision is, not on how it is made. ``Command`` and ``Event`` are the
closed sets of what ``ProcessDriver.handle`` gives and takes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from actors.errors import WaitError
from actors.process_messages import Continue, Kill, Pause, Play, Resume, Start, Suspend
from actors.registry_messages import ChildTerminated
from provenance.process_state import ProcessState
from provenance.records import WriteOp

# Events the driver gets back from commands.


@dataclass(frozen=True, slots=True)
class Subscribed:
    """What ``Subscribe`` found: per target not live here, the end state the registry saw
    (``seen``), else the state stored for it if it ended (``stored``), or why it cannot be
    awaited (``error``)."""

    gone: tuple[tuple[int, ProcessState | None, ProcessState | None, str | None], ...]


def gone_entry(
    pid: int, seen: ProcessState | None, read: Callable[[int], ProcessState | None]
) -> tuple[int, ProcessState | None, ProcessState | None, str | None]:
    """One entry of ``Subscribed``: ``read`` gives the stored end state, or raises
    ``WaitError`` saying why ``pid`` cannot be awaited."""
    if seen is not None:
        return pid, seen, None, None
    try:
        return pid, None, read(pid), None
    except WaitError as exc:
        return pid, None, None, str(exc)


@dataclass(frozen=True, slots=True)
class CheckpointFailed:
    """The checkpoint could not be written; the previous one is intact."""

    error: BaseException


# Commands the actor carries out.


@dataclass(frozen=True, slots=True)
class Record:
    """Send these provenance writes (state changes); they commit with the next batch."""

    ops: tuple[WriteOp, ...]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Durable runtimes: commit the provenance written so far, then write the checkpoint."""


@dataclass(frozen=True, slots=True)
class Subscribe:
    """Ask the registry for the end of each of ``pids``; answered by ``Subscribed``."""

    pids: frozenset[int]
    remote: bool


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    """Drop the subscription to ``pid``, found ended in the database."""

    pid: int


@dataclass(frozen=True, slots=True)
class Passivate:
    """Write the waiting process out and stop the actor, if the registry agrees."""

    waiting_on: frozenset[int]


@dataclass(frozen=True, slots=True)
class RequestStep:
    """Tell the actor to run the next step (a message, so others interleave)."""


@dataclass(frozen=True, slots=True)
class KillChildren:
    """Kill the running children of the process."""

    message: str


@dataclass(frozen=True, slots=True)
class End:
    """Store the end (committed), retire or release the checkpoint, publish the end, resolve
    the caller's future, stop."""

    state: ProcessState
    error: BaseException | None
    checkpoint: bool = True


@dataclass(frozen=True, slots=True)
class Stop:
    """Stop the actor and leave the process to its last checkpoint."""


@dataclass(frozen=True, slots=True)
class Drop:
    """Stop the actor, writing nothing more for the process, and fail its future with
    ``error``: this runtime's claim on it ended (another worker took it over), or, with
    ``release``, the database lost the step's provenance, so the claim is released and the
    process resumes from its last checkpoint wherever it is claimed next."""

    error: BaseException
    release: bool = False


Command = (
    Record
    | Checkpoint
    | Subscribe
    | Unsubscribe
    | Passivate
    | RequestStep
    | KillChildren
    | End
    | Stop
    | Drop
)
Event = (
    Start | Continue | ChildTerminated | Resume | Suspend | Pause | Play | Kill | Subscribed
) | CheckpointFailed

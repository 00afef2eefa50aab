"""Messages the registry actor handles, and the ones it sends to process actors.

Small frozen records; the registry's answers to asks are plain values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pykka

from provenance.process_state import ProcessState

if TYPE_CHECKING:
    from actors.process import Process


@dataclass(frozen=True, slots=True)
class Register:
    """A process was launched and its actor started."""

    pid: int
    process: Process
    actor: pykka.ActorRef[Any]
    parent_pid: int | None


@dataclass(frozen=True, slots=True)
class Terminated:
    """A process reached a terminal state; tell its subscribers and forget it."""

    pid: int
    state: ProcessState


@dataclass(frozen=True, slots=True)
class Subscribe:
    """``waiter`` wants ``ChildTerminated`` when each of ``targets`` terminates.

    Replies, for the targets that are not live, their end state if the registry saw a child of
    ``waiter`` end in it, else None (the target ended before, or never ran here: the waiter reads
    its state from the database). No subscription is held for those.
    """

    waiter: int
    targets: frozenset[int]
    #: Also hold subscriptions to targets that are not live here (a durable runtime: they may
    #: run in another worker, whose notice arrives as ``ExternalTerminated``).
    remote: bool = False


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    """``waiter`` no longer waits for ``target`` (it found ``target`` ended in the database)."""

    waiter: int
    target: int


@dataclass(frozen=True, slots=True)
class ExternalTerminated:
    """Process ``pid``, run elsewhere (another worker), ended in ``state``."""

    pid: int
    state: ProcessState


@dataclass(frozen=True, slots=True)
class Control:
    """Pause (``pause=True``) or play ``pid``, reviving it if passivated; reply False if not
    live here."""

    pid: int
    pause: bool


@dataclass(frozen=True, slots=True)
class Forget:
    """``pid``'s actor stopped without ending the process (a durable runtime suspending it).
    With ``actor``: only if that is still the actor registered for ``pid``."""

    pid: int
    actor: Any = None


@dataclass(frozen=True, slots=True)
class Passivate:
    """``entry.pid`` waits on ``waiting_on`` and would like its actor stopped.

    Replies True if the registry took the entry: from then on it revives the process when a
    message for it comes. Replies False if a target already terminated or a control message was
    sent to the actor meanwhile (it is in the actor's mailbox): the actor stays.
    """

    entry: PassivatedProcess
    waiting_on: frozenset[int]


@dataclass(frozen=True, slots=True)
class PassivatedProcess:
    """What it takes to revive a process whose actor was stopped while it waited."""

    pid: int
    process_class: type[Process]
    state: bytes
    stack: tuple[int, ...]
    paused: bool


@dataclass(frozen=True, slots=True)
class KillProcess:
    """Deliver a kill to ``pid`` (reviving it if passivated); reply False if it is not live."""

    pid: int
    message: str | None


@dataclass(frozen=True, slots=True)
class KillChildren:
    """``pid`` is being killed: kill its live children too (each cascades further)."""

    pid: int
    message: str


@dataclass(frozen=True, slots=True)
class GetProcess:
    """Reply the live ``Process`` of ``pid``, or None."""

    pid: int


@dataclass(frozen=True, slots=True)
class GetActor:
    """Reply the actor of live process ``pid``, or None."""

    pid: int


@dataclass(frozen=True, slots=True)
class LivePids:
    """Reply the pids of every live process."""


@dataclass(frozen=True, slots=True)
class ChildrenOf:
    """Reply the pids of the live children of ``pid``."""

    pid: int


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """What listeners hear: process ``pid`` was registered, passivated, revived or terminated."""

    pid: int
    kind: str
    state: ProcessState | None = None


Listener = Callable[[LifecycleEvent], None]


@dataclass(frozen=True, slots=True)
class Listen:
    """Call ``listener`` (under the registry's lock; keep it quick) for every lifecycle event,
    or stop calling it if ``remove``."""

    listener: Listener
    remove: bool = False


@dataclass(frozen=True, slots=True)
class ChildTerminated:
    """Sent to a waiting process's actor: ``pid`` has terminated in ``state``."""

    pid: int
    state: ProcessState


@dataclass(frozen=True, slots=True)
class Sizes:
    """Reply ``RegistryActor.sizes()``."""

"""The registry: live processes, passivated ones, and who waits on whom.

A process's termination is published here once, to every subscriber. (The call stack is a
context variable: ``actors.call_stack``.) Its tables are one ``Registry`` behind one lock:
process actors and the launcher call it on their own threads (a process's registration, end,
subscription and passivation cost no message and no thread handoff), and the ``RegistryActor``
serves the same messages to everyone else (the runtime's control API, other workers). Either
way, one message is handled at a time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import pykka

from actors.process_messages import Kill, Pause, Play
from actors.registry_messages import (
    ChildrenOf,
    ChildTerminated,
    Control,
    ExternalTerminated,
    Forget,
    GetActor,
    GetProcess,
    KillChildren,
    KillProcess,
    LifecycleEvent,
    Listen,
    Listener,
    LivePids,
    Passivate,
    PassivatedProcess,
    Register,
    Sizes,
    Subscribe,
    Terminated,
    Unsubscribe,
)
from provenance.log import get_logger
from provenance.process_state import ProcessState

if TYPE_CHECKING:
    from collections.abc import Callable

    from actors.process import Process

    #: Recreate a passivated process and start its actor, which handles the events given
    #: (the ends held for it) first; runs under the registry's lock.
    Reviver = Callable[
        [PassivatedProcess, tuple[ChildTerminated, ...]], tuple[Process, pykka.ActorRef[Any]]
    ]

log = get_logger(__name__)

ASK_TIMEOUT = 30.0
#: Ended children remembered per parent until it awaits them (oldest dropped first).
ENDED_CHILDREN_LIMIT = 10_000


def ask(registry: pykka.ActorRef[Any], message: object, timeout: float = ASK_TIMEOUT) -> Any:
    """Ask the registry and wait for its answer; its errors are raised here."""
    return registry.ask(message, timeout=timeout)


def _tell(actor: pykka.ActorRef[Any], message: object) -> bool:
    """Tell a process actor; False if it stopped already.

    An actor stops right after it tells the registry it terminated, so a message may race that
    notice: the process has ended, and the message has nothing left to act on.
    """
    try:
        actor.tell(message)
    except pykka.ActorDeadError:
        log.debug("registry.actor_already_stopped", message=repr(message))
        return False
    return True


class Registry:
    """Keeps what the runtime knows about live processes; ``handle`` serves one message at a
    time, on the caller's thread."""

    def __init__(self, reviver: Reviver | None = None) -> None:
        self._lock = threading.RLock()
        self._reviver = reviver
        self._processes: dict[int, Process] = {}
        self._actors: dict[int, pykka.ActorRef[Any]] = {}
        self._passivated: dict[int, PassivatedProcess] = {}
        self._control_sent: set[int] = set()
        self._listeners: list[Listener] = []
        self._remote_waits: dict[int, set[int]] = {}
        self._parents: dict[int, int | None] = {}
        self._children: dict[int, set[int]] = {}
        # Children that ended while their parent lives, kept (up to a limit) until the parent
        # awaits them: most children of a fan-out end before the parent's step does.
        #: Ordered so that dropping the oldest end is constant time: ``next(iter(dict))`` walks
        #: the slots of every end dropped before, which cost 1.7 s over 100,000 children.
        self._ended_children: dict[int, OrderedDict[int, ProcessState]] = {}
        self._subscribers: dict[int, set[int]] = {}
        # What each passivated waiter still awaits, and the ends it was not woken for yet: it
        # is revived when the last one comes (or a control message does), not at the first.
        self._awaited: dict[int, set[int]] = {}
        self._held_ends: dict[int, list[tuple[int, ProcessState]]] = {}

    def handle(self, message: object) -> Any:
        """Handle one message and return its answer; messages are handled one at a time, so a
        caller's message is whole before the next one is read."""
        with self._lock:
            return self._dispatch(message)

    def _dispatch(self, message: object) -> Any:  # noqa: PLR0911, PLR0912 - a branch per message
        match message:
            case Register():
                self._register(message)
            case Terminated(pid=pid, state=state):
                self._terminated(pid, state)
            case Subscribe(waiter=waiter, targets=targets, remote=remote):
                return self._subscribe(waiter, targets, remote=remote)
            case Unsubscribe(waiter=waiter, target=target):
                self._unsubscribe(waiter, target)
            case ExternalTerminated(pid=pid, state=state):
                self._notify_waiters(pid, state)
            case Control(pid=pid, pause=pause):
                return self._control(pid, pause=pause)
            case Forget(pid=pid, actor=actor):
                if actor is None or self._registered_or_gone(pid, actor):
                    self._forget(pid)
            case Passivate(entry=entry, waiting_on=waiting_on):
                return self._passivate(entry, waiting_on)
            case KillProcess(pid=pid, message=text):
                return self._kill(pid, text)
            case KillChildren(pid=pid, message=text):
                for child in tuple(self._children.get(pid, ())):
                    self._kill(child, text)
            case GetProcess(pid=pid):
                return self._processes.get(pid)
            case GetActor(pid=pid):
                return self._actors.get(pid)
            case LivePids():
                return (*self._actors, *self._passivated)
            case ChildrenOf(pid=pid):
                return tuple(self._children.get(pid, ()))
            case Sizes():
                return self.sizes()
            case Listen(listener=listener, remove=remove):
                if remove:
                    self._listeners.remove(listener)
                else:
                    self._listeners.append(listener)
            case _:
                log.warning("registry.unknown_message", message=repr(message))
        return None

    def _is_live(self, pid: int) -> bool:
        return pid in self._actors or pid in self._passivated

    def _subscribe(
        self, waiter: int, targets: frozenset[int], *, remote: bool
    ) -> dict[int, ProcessState | None]:
        ended = self._ended_children.get(waiter, OrderedDict())
        gone: dict[int, ProcessState | None] = {}
        for target in targets:
            if self._is_live(target):
                self._subscribers.setdefault(target, set()).add(waiter)
                continue
            gone[target] = ended.pop(target, None)
            if remote and gone[target] is None:
                self._subscribers.setdefault(target, set()).add(waiter)
                self._remote_waits.setdefault(waiter, set()).add(target)
        if not ended:
            self._ended_children.pop(waiter, None)
        return gone

    def _control(self, pid: int, *, pause: bool) -> bool:

        actor = self._actor_for(pid)
        if actor is None:
            return False
        if pause:
            self._control_sent.add(pid)  # a control message is on its way: do not passivate
        return _tell(actor, Pause() if pause else Play())

    def _registered_or_gone(self, pid: int, actor: Any) -> bool:
        """``actor`` is the one registered for ``pid``, or none is (nor a passivated one)."""
        registered = self._actors.get(pid)
        if registered is None:
            return pid not in self._passivated
        return bool(registered == actor)

    def _forget(self, pid: int) -> None:
        """Drop what the registry holds of ``pid`` without publishing an end."""
        self._processes.pop(pid, None)
        self._actors.pop(pid, None)
        self._passivated.pop(pid, None)
        self._awaited.pop(pid, None)
        self._held_ends.pop(pid, None)
        self._control_sent.discard(pid)
        self._parents.pop(pid, None)
        self._children.pop(pid, None)
        self._ended_children.pop(pid, None)
        self._drop_remote_waits(pid)

    def _unsubscribe(self, waiter: int, target: int) -> None:
        waiters = self._subscribers.get(target)
        if waiters is not None:
            waiters.discard(waiter)
            if not waiters:
                del self._subscribers[target]
        remote = self._remote_waits.get(waiter)
        if remote is not None:
            remote.discard(target)
            if not remote:
                del self._remote_waits[waiter]

    def _drop_remote_waits(self, waiter: int) -> None:
        for target in self._remote_waits.pop(waiter, ()):
            waiters = self._subscribers.get(target)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._subscribers[target]

    def _notify_waiters(self, pid: int, state: ProcessState) -> None:
        for waiter in self._subscribers.pop(pid, ()):
            if (remote := self._remote_waits.get(waiter)) is not None:
                remote.discard(pid)
                if not remote:
                    del self._remote_waits[waiter]
            if waiter in self._passivated and waiter in self._awaited:
                if not self._hold_end(waiter, pid, state):
                    self._actor_for(waiter)  # revived with every end held for it, this one last
                continue
            actor = self._actor_for(waiter)
            if actor is None:
                # The waiter ended first (it was killed, or stopped waiting): nothing to tell.
                log.debug("registry.waiter_gone", waiter=waiter, terminated=pid)
                continue
            _tell(actor, ChildTerminated(pid, state))

    def _hold_end(self, waiter: int, pid: int, state: ProcessState) -> bool:
        """Keep the end of ``pid`` for passivated ``waiter``; True while it awaits more."""
        awaited = self._awaited[waiter]
        awaited.discard(pid)
        self._held_ends.setdefault(waiter, []).append((pid, state))
        return bool(awaited)

    def _passivate(self, entry: PassivatedProcess, waiting_on: frozenset[int]) -> bool:
        pid = entry.pid
        remote = self._remote_waits.get(pid, set())
        if (
            self._reviver is None
            or not waiting_on  # nothing to be woken by: its next message may be queued now
            or pid not in self._actors
            or pid in self._control_sent
            or not all(self._is_live(target) or target in remote for target in waiting_on)
        ):
            return False
        del self._actors[pid]
        self._processes.pop(pid, None)
        self._passivated[pid] = entry
        self._awaited[pid] = set(waiting_on)
        self._publish(LifecycleEvent(pid, "passivated"))
        return True

    def _publish(self, event: LifecycleEvent) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception as exc:  # a listener's bug must not take the registry down
                log.error("registry.listener_failed", listener=repr(listener), error=repr(exc))

    def _actor_for(self, pid: int) -> pykka.ActorRef[Any] | None:
        """The actor of live ``pid``, reviving it first if it was passivated."""
        actor = self._actors.get(pid)
        if actor is not None:
            return actor
        entry = self._passivated.pop(pid, None)
        if entry is None or self._reviver is None:
            return None
        # The ends held for it are its first events, handled before any message.
        held = tuple(ChildTerminated(child, state) for child, state in self._held_ends.get(pid, ()))
        process, actor = self._reviver(entry, held)
        self._held_ends.pop(pid, None)
        self._processes[pid] = process
        self._actors[pid] = actor
        self._awaited.pop(pid, None)
        self._publish(LifecycleEvent(pid, "revived"))
        return actor

    def _kill(self, pid: int, message: str | None) -> bool:

        actor = self._actor_for(pid)
        if actor is None:
            return False
        self._control_sent.add(pid)
        return _tell(actor, Kill(message))

    def _register(self, message: Register) -> None:
        self._processes[message.pid] = message.process
        self._actors[message.pid] = message.actor
        self._parents[message.pid] = message.parent_pid
        if message.parent_pid is not None:
            self._children.setdefault(message.parent_pid, set()).add(message.pid)
        if self._listeners:
            self._publish(LifecycleEvent(message.pid, "registered"))

    def _terminated(self, pid: int, state: ProcessState) -> None:
        self._processes.pop(pid, None)
        self._actors.pop(pid, None)
        self._passivated.pop(pid, None)
        self._awaited.pop(pid, None)
        self._held_ends.pop(pid, None)
        self._control_sent.discard(pid)
        self._children.pop(pid, None)
        self._ended_children.pop(pid, None)
        parent = self._parents.pop(pid, None)
        if parent is not None and (siblings := self._children.get(parent)) is not None:
            siblings.discard(pid)
            if not siblings:
                del self._children[parent]
        if parent is not None and self._is_live(parent):
            ended = self._ended_children.setdefault(parent, OrderedDict())
            ended[pid] = state
            if len(ended) > ENDED_CHILDREN_LIMIT:
                # A parent that never waits must not grow this without bound; a child dropped
                # here is read from the database if it is awaited after all.
                ended.popitem(last=False)
        self._drop_remote_waits(pid)
        if self._listeners:
            self._publish(LifecycleEvent(pid, "terminated", state))
        self._notify_waiters(pid, state)

    def sizes(self) -> dict[str, int]:
        """How many entries each table holds (for leak checks)."""
        return {
            "processes": len(self._processes),
            "actors": len(self._actors),
            "passivated": len(self._passivated),
            "controls": len(self._control_sent),
            "parents": len(self._parents),
            "children": len(self._children),
            "ended_children": sum(map(len, self._ended_children.values())),
            "subscribers": len(self._subscribers),
            "remote_waits": len(self._remote_waits),
            "awaited": len(self._awaited),
            "held_ends": sum(map(len, self._held_ends.values())),
        }


class RegistryActor(pykka.ThreadingActor):
    """Serves a ``Registry`` to those that message it (``ask``/``tell``)."""

    #: Daemon threads let the interpreter reach atexit, where the runtime shuts down cleanly.
    use_daemon_thread = True

    def __init__(self, registry: Registry) -> None:
        super().__init__()
        self._registry = registry

    def on_receive(self, message: Any) -> Any:
        """Handle one message (runs on the registry actor's thread)."""
        return self._registry.handle(message)


__all__ = [
    "ASK_TIMEOUT",
    "ChildTerminated",
    "ChildrenOf",
    "Control",
    "ExternalTerminated",
    "Forget",
    "GetActor",
    "GetProcess",
    "KillChildren",
    "KillProcess",
    "LifecycleEvent",
    "Listen",
    "Listener",
    "LivePids",
    "Passivate",
    "PassivatedProcess",
    "Register",
    "Registry",
    "RegistryActor",
    "Sizes",
    "Subscribe",
    "Terminated",
    "Unsubscribe",
    "ask",
]

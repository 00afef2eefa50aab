"""The control half of ``Runtime``'s public API: kill, pause, play, wait and what is live.

Every call is a message to the registry actor (or a wait on the launcher), so that a control
request from any thread is ordered with the lifecycle events the registry sees.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from actors.registry import (
    Control,
    KillProcess,
    Listen,
    Listener,
    LivePids,
    Sizes,
    ask,
)

if TYPE_CHECKING:
    import pykka

    from actors.launcher import Launcher


class RuntimeControl:
    """Mixed into ``Runtime``: what a user does to processes that are live in it."""

    registry: pykka.ActorRef[Any]
    launcher: Launcher

    def kill(self, pid: int, message: str | None = None) -> bool:
        """Ask live process ``pid`` to end KILLED before its next step, and its running
        children with it; False if it is not live here."""
        killed: bool = ask(self.registry, KillProcess(pid, message))
        return killed

    def pause(self, pid: int) -> bool:
        """Run no further step of live process ``pid`` until ``play``; False if not live here."""
        paused: bool = ask(self.registry, Control(pid, pause=True))
        return paused

    def play(self, pid: int) -> bool:
        """Let a paused process go on; False if it is not live here."""
        played: bool = ask(self.registry, Control(pid, pause=False))
        return played

    def wait(self, pid: int, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds (None: no limit) for live process ``pid`` to
        terminate; True if it has (or was not live here)."""
        return self.launcher.wait(pid, timeout)

    def holds(self, pid: int) -> bool:
        """True if process ``pid`` is live in this runtime."""
        return self.launcher.holds(pid)

    def live_pids(self) -> tuple[int, ...]:
        """Pids of the processes running in this runtime."""
        pids: tuple[int, ...] = ask(self.registry, LivePids())
        return pids

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(LifecycleEvent)`` when a process is registered, passivated, revived
        or terminated. It runs under the registry's lock, on the thread of the process whose
        event it is or on the registry actor's, so it must be quick and not block."""
        ask(self.registry, Listen(listener))

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling ``listener``."""
        ask(self.registry, Listen(listener, remove=True))

    def registry_sizes(self) -> dict[str, int]:
        """How many entries the registry's tables hold (0 everywhere when idle)."""
        sizes: dict[str, int] = ask(self.registry, Sizes())
        return sizes

"""Signals as something ``select`` can wait on: handlers that note the signal, and a wakeup fd.

The worker and the supervisor sleep in ``select``. A Python signal handler runs only between
bytecodes of the main thread, so on its own it would not end a ``select`` that has no timeout;
``signal.set_wakeup_fd`` makes the interpreter write a byte to a socket we also watch.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable, Iterable
from types import FrameType, TracebackType
from typing import Any, Self


class SignalPipe:
    """While entered: ``on_signal(name)`` runs for each of ``signals``, and ``fileno()`` becomes
    readable. Only the main thread may enter it (a limit of ``signal.signal``)."""

    def __init__(self, signals: Iterable[signal.Signals], on_signal: Callable[[str], None]) -> None:
        self._signals = tuple(signals)
        self._on_signal = on_signal
        self._reader, self._writer = socket.socketpair()
        for end in (self._reader, self._writer):
            end.setblocking(False)
        self._previous: dict[int, Any] = {}

    def fileno(self) -> int:
        """Readable after a signal came."""
        return self._reader.fileno()

    def drain(self) -> None:
        """Empty the wakeup socket (the handlers have already noted the signals)."""
        try:
            while self._reader.recv(4096):
                pass
        except BlockingIOError:
            return

    def __enter__(self) -> Self:
        def handler(signum: int, _frame: FrameType | None) -> None:
            self._on_signal(signal.Signals(signum).name)

        for signum in self._signals:
            self._previous[signum] = signal.signal(signum, handler)
        signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        signal.set_wakeup_fd(-1)
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._reader.close()
        self._writer.close()

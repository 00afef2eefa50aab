"""How submitters and the CLI reach daemon workers without anyone polling: datagram sockets.

Each worker binds one Unix datagram socket, ``worker-<index>.<os pid>.sock`` in
``DaemonPaths.sockets``, and sleeps in ``select`` on it. ``notify_workers`` sends one datagram to
every socket there: a wake (``Runtime.queue_up`` wrote a checkpoint), a relayed end
(``terminated <pid>``) or a control request (``pause|play|kill <pid> [message]``). When no daemon
runs the folder is missing or empty and notifying costs one failed ``scandir``.

Wakes are sent without blocking: if a worker's queue is full, wakes are already waiting there and
one more adds nothing. Ends and control requests block for up to a timeout, because dropping them
would lose information. A socket whose worker died (the send is refused and the OS pid in its
name is gone) is removed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import structlog

from actors.control import Action
from actors.daemon.paths import DaemonPaths, socket_owner
from persistence.atomic import PRIVATE_FILE_MODE, make_private_directory

log = structlog.get_logger(__name__)

#: Seconds a relayed end or a control request waits for room in a busy worker's queue.
SEND_TIMEOUT = 5.0
#: A kill message is cut to this many characters: datagrams are small, reports are read by people.
MAX_MESSAGE_CHARS = 2000
MAX_DATAGRAM = 65_536


@dataclass(frozen=True, slots=True)
class Wake:
    """Look for checkpoints to adopt."""


@dataclass(frozen=True, slots=True)
class Terminated:
    """Process ``pid`` ended in another worker."""

    pid: int


@dataclass(frozen=True, slots=True)
class ControlRequest:
    """Pause, play or kill ``pid`` (with ``message`` for a kill), if this worker holds it."""

    action: Action
    pid: int
    message: str | None = None


Message = Wake | Terminated | ControlRequest
WAKE = Wake()


def encode(message: Message) -> bytes:
    """The datagram of ``message``: ``wake``, ``terminated <pid>``, ``<action> <pid> [text]``."""
    match message:
        case Wake():
            return b"wake"
        case Terminated(pid=pid):
            return f"terminated {pid}".encode()
        case ControlRequest(action=action, pid=pid, message=text):
            words = [action.value, str(pid)]
            if text:
                words.append(text[:MAX_MESSAGE_CHARS])
            return " ".join(words).encode()


def decode(data: bytes) -> Message:
    """The message a datagram carries.

    Raises:
        ValueError: if it is not one ``encode`` makes.
    """
    words = data.decode("utf-8", errors="replace").split(" ", 2)
    verb = words[0]
    if verb == "wake" and len(words) == 1:
        return WAKE
    if len(words) < 2 or not words[1].isdigit():
        raise ValueError(f"not a daemon message: {data[:80]!r}")
    pid = int(words[1])
    if verb == "terminated" and len(words) == 2:
        return Terminated(pid)
    try:
        action = Action(verb)
    except ValueError:
        raise ValueError(f"not a daemon message: {data[:80]!r}") from None
    return ControlRequest(action, pid, words[2] if len(words) == 3 else None)


def notify_workers(
    home: str | os.PathLike[str],
    message: Message | bytes = WAKE,
    *,
    exclude: Path | None = None,
    timeout: float = SEND_TIMEOUT,
) -> int:
    """Send ``message`` to every live worker of the daemon of ``home``; return how many got it.

    Fast and silent when no daemon runs (returns 0). ``exclude`` is a socket not to send to (a
    worker relaying to the others). Send errors are logged, never raised: a submission has
    already been written, and the workers' periodic rescan finds it anyway.
    """
    folder = DaemonPaths.of(home).sockets
    try:
        entries = [Path(entry.path) for entry in os.scandir(folder) if entry.name.endswith(".sock")]
    except OSError:
        return 0
    data = message if isinstance(message, bytes) else encode(message)
    blocking = data != b"wake"
    reached = 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        sender.settimeout(timeout if blocking else 0.0)
        for path in entries:
            if path == exclude:
                continue
            if _send(sender, path, data, blocking=blocking):
                reached += 1
    return reached


def _send(sender: socket.socket, path: Path, data: bytes, *, blocking: bool) -> bool:
    try:
        sender.sendto(data, os.fspath(path))
    except (ConnectionRefusedError, FileNotFoundError):
        _remove_if_stale(path)
        return False
    except (BlockingIOError, TimeoutError):
        if blocking:
            log.warning("daemon.notify_timed_out", socket=str(path), message=data[:80].decode())
            return False
        return True  # the worker's queue is full of wakes already
    except OSError as exc:
        log.warning("daemon.notify_failed", socket=str(path), error=str(exc))
        return False
    return True


def _remove_if_stale(path: Path) -> None:
    """Remove the socket of a worker that died; a live worker's socket is left alone."""
    owner = socket_owner(path)
    if owner is not None and not pid_alive(owner[1]):
        path.unlink(missing_ok=True)
        log.info("daemon.stale_socket_removed", socket=str(path))


def pid_alive(os_pid: int) -> bool:
    """True if an OS process ``os_pid`` exists (ours or another user's)."""
    if os_pid <= 0:
        return False
    try:
        os.kill(os_pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Inbox:
    """The receiving end of one worker: its socket, bound until ``close``.

    Raises:
        PersistenceError: if the sockets folder cannot be made private to this user.
        OSError: if the socket cannot be bound.
    """

    def __init__(self, paths: DaemonPaths, index: int) -> None:
        # The parent too: in the fallback under /tmp, a folder someone else made must be refused.
        make_private_directory(paths.sockets.parent)
        make_private_directory(paths.sockets)
        for old in paths.sockets.glob(f"worker-{index}.*.sock"):
            _remove_if_stale(old)
        self._paths = paths
        self.path = paths.socket_of(index, os.getpid())
        self.path.unlink(missing_ok=True)
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self._socket.bind(os.fspath(self.path))
            os.chmod(self.path, PRIVATE_FILE_MODE)
            self._socket.setblocking(False)
        except BaseException:
            self._socket.close()
            raise

    def fileno(self) -> int:
        """For ``select``."""
        return self._socket.fileno()

    def drain(self) -> list[Message]:
        """Every message waiting, oldest first, without blocking; bad datagrams are logged."""
        messages: list[Message] = []
        while True:
            try:
                data = self._socket.recv(MAX_DATAGRAM)
            except BlockingIOError:
                return messages
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                raise
            try:
                messages.append(decode(data))
            except ValueError as exc:
                log.warning("daemon.bad_message", error=str(exc))

    def close(self) -> None:
        """Stop receiving and remove the socket (and its folder under /tmp, once empty)."""
        self._socket.close()
        self.path.unlink(missing_ok=True)
        if self._paths.sockets != self._paths.folder:
            with contextlib.suppress(OSError):  # another worker's socket is still in it
                self._paths.sockets.rmdir()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

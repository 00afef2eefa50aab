"""How submitters and the CLI reach daemon workers without anyone polling: datagram sockets.

Each worker binds one Unix datagram socket, ``worker-<index>.<os pid>.sock`` in
``DaemonPaths.sockets``, and sleeps in ``select`` on it. ``notify_workers`` sends one datagram to
every socket there: a wake (``Runtime.queue_up`` wrote a checkpoint), a relayed end
(``Terminated``) or a control request (``ControlRequest``: pause, play or kill, with a message of
any length), encoded by ``persistence.messages``. A datagram that is not one is logged and
dropped. When no daemon runs the folder is missing or empty and notifying costs one failed
``scandir``.

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
from pathlib import Path
from types import TracebackType
from typing import Self

import structlog

from actors.daemon.paths import DaemonPaths, socket_owner
from persistence import messages
from persistence.atomic import PRIVATE_FILE_MODE, make_private_directory
from persistence.errors import MessageError
from persistence.messages import WAKE, ControlRequest, Terminated, Wake

__all__ = [
    "MAX_DATAGRAM",
    "SEND_TIMEOUT",
    "WAKE",
    "ControlRequest",
    "Inbox",
    "Message",
    "Terminated",
    "Wake",
    "decode",
    "encode",
    "notify_workers",
    "pid_alive",
]

log = structlog.get_logger(__name__)

#: Seconds a relayed end or a control request waits for room in a busy worker's queue.
SEND_TIMEOUT = 5.0
#: The largest datagram a worker reads; a longer kill message is cut to fit, with a note.
MAX_DATAGRAM = 65_536

Message = Wake | Terminated | ControlRequest
_KINDS = (Wake, Terminated, ControlRequest)
_WAKE_DATAGRAM = messages.encode(WAKE)


def encode(message: Message) -> bytes:
    """The datagram of ``message`` (``persistence.messages``), at most ``MAX_DATAGRAM`` bytes.

    Raises:
        MessageError: if a field has the wrong type or range.
    """
    return messages.encode(message, limit=MAX_DATAGRAM)


def decode(data: bytes) -> Message:
    """The message a datagram carries.

    Raises:
        MessageError: (a ``ValueError``) if it is not one ``encode`` makes.
    """
    try:
        message = messages.decode(data)
    except MessageError as exc:
        raise MessageError(f"not a daemon message: {exc}") from None
    if not isinstance(message, _KINDS):
        raise MessageError(f"not a daemon message but a {type(message).__name__} record")
    return message


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
    blocking = data != _WAKE_DATAGRAM
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
            log.warning("daemon.notify_timed_out", socket=str(path), message=data[:80])
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
        received: list[Message] = []
        while True:
            try:
                data = self._socket.recv(MAX_DATAGRAM)
            except BlockingIOError:
                return received
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                raise
            try:
                received.append(decode(data))
            except MessageError as exc:
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

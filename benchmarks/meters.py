"""Memory, thread and actor-message meters for the OS process a workload's engine runs in.

Both avoid perturbing what they measure where they can: the memory peak comes from the
kernel's high-water mark, not from a sampling thread; only the thread count needs a sampler,
and only workloads that ask for it (the scale workload) pay for one.
"""

from __future__ import annotations

import itertools
import re
import resource
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import psutil
import pykka


class Meter(Protocol):
    """Memory of the OS process an engine runs in (this one, or the aiida-core runner)."""

    @property
    def method(self) -> str:
        """How the peak is measured, for the JSON report."""
        ...

    def rss(self) -> int:
        """Current resident set size in bytes."""
        ...

    def reset_peak(self) -> None:
        """Start a new peak window."""
        ...

    def peak(self) -> int:
        """Peak resident set size in bytes since ``reset_peak``."""
        ...


class MemoryMeter:
    """Resident set size of this OS process, with a peak that can be reset per workload.

    On Linux, writing ``5`` to ``/proc/self/clear_refs`` resets the kernel's high-water mark
    (``VmHWM``), so each workload gets its own exact peak without a sampling thread that would
    compete for the GIL with the code being timed. Elsewhere the peak is ``ru_maxrss``, the
    process's lifetime peak, and ``peak_is_per_workload`` says so.
    """

    _HWM = re.compile(r"^VmHWM:\s+(\d+)\s+kB", re.MULTILINE)

    def __init__(self) -> None:
        self._process = psutil.Process()
        self.peak_is_per_workload = self._try_reset() and self._read_hwm() is not None

    @property
    def method(self) -> str:
        """How the peak is measured, for the JSON report."""
        if self.peak_is_per_workload:
            return "VmHWM, reset per workload via /proc/self/clear_refs"
        return "ru_maxrss, peak over the life of the benchmark process"

    @staticmethod
    def _try_reset() -> bool:
        try:
            with open("/proc/self/clear_refs", "w") as clear_refs:
                clear_refs.write("5")
        except OSError:
            return False
        return True

    def _read_hwm(self) -> int | None:
        try:
            status = Path("/proc/self/status").read_text()
        except OSError:
            return None
        match = self._HWM.search(status)
        return int(match.group(1)) * 1024 if match else None

    def rss(self) -> int:
        """Current resident set size in bytes."""
        return int(self._process.memory_info().rss)

    def reset_peak(self) -> None:
        """Start a new peak window (no-op where the kernel cannot do it)."""
        if self.peak_is_per_workload:
            self._try_reset()

    def peak(self) -> int:
        """Peak resident set size in bytes since ``reset_peak`` (or process start)."""
        if self.peak_is_per_workload:
            hwm = self._read_hwm()
            if hwm is not None:
                return hwm
        return self.max_rss()

    @staticmethod
    def max_rss() -> int:
        """``getrusage`` maxrss in bytes (kilobytes on Linux, bytes on macOS)."""
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(maxrss if sys.platform == "darwin" else maxrss * 1024)


class ThreadSampler:
    """Most OS threads of this process seen while the ``with`` block runs.

    Counts OS threads (``psutil``), not ``threading.active_count()``: pykka actors are Python
    threads, but a thread pool of a C library would be missed by the latter. The sampler's own
    thread is excluded. Sampling every ``interval`` seconds can miss a peak shorter than that;
    waiting work chains that hold threads hold them for far longer.
    """

    def __init__(self, interval: float = 0.01) -> None:
        self._interval = interval
        self._process = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="bench-threads", daemon=True)
        self.peak = 0

    def _count(self) -> int:
        return int(self._process.num_threads())

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, self._count() - 1)

    def __enter__(self) -> ThreadSampler:
        self.peak = self._count()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._count())


class MessageCounter:
    """Counts the messages sent to pykka actors of this OS process while it is entered.

    It wraps ``ActorRef.tell`` and ``ActorRef.ask`` (every actor message of workactors goes
    through one or the other), so it counts what the engine sends, not what a mock would. The
    wrapper costs well under a microsecond a message, about 1 % of a process here.
    """

    def __init__(self) -> None:
        self._counter = itertools.count()
        self._reads = 0
        self._saved: tuple[object, object] | None = None

    @property
    def messages(self) -> int:
        """Messages sent so far."""
        # ``next`` on an itertools counter is atomic under the GIL; reading consumes one.
        self._reads += 1
        return next(self._counter) - self._reads + 1

    def __enter__(self) -> MessageCounter:
        tell, ask = pykka.ActorRef.tell, pykka.ActorRef.ask
        counter = self._counter
        self._saved = (tell, ask)

        def counted_tell(ref: pykka.ActorRef[Any], message: Any) -> None:
            next(counter)
            tell(ref, message)

        def counted_ask(ref: pykka.ActorRef[Any], message: Any, **kwargs: Any) -> Any:
            next(counter)
            return ask(ref, message, **kwargs)

        pykka.ActorRef.tell = counted_tell  # type: ignore[method-assign,assignment]
        pykka.ActorRef.ask = counted_ask  # type: ignore[method-assign,assignment]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._saved is not None
        pykka.ActorRef.tell, pykka.ActorRef.ask = self._saved  # type: ignore[method-assign,assignment]
        self._saved = None

"""Runs benchmark workloads inside a peer's virtual environment (aiida-core, DBOS).

``python runner.py --flows DIR --home HOME --seed N --config JSON`` imports ``flows`` from
``DIR`` (the peer's package folder), calls ``flows.open_session(HOME, CONFIG)`` (a fresh
profile or database in ``HOME``), answers on stdout with one JSON line, then serves JSON
requests read from stdin, one a line:

- ``{"op": "setup", "workload": KEY, "batch": N|null}``: set ``flows.WORKLOADS[KEY]`` up;
- ``{"op": "repeat", "start": I, "count": N, "sample_threads": BOOL}``: run iterations I..I+N-1,
  each timed here with ``perf_counter`` (the pipe stays off the clock), replying with
  progress lines and then the latencies;
- ``{"op": "memory"}`` / ``{"op": "reset_peak"}``: RSS and its peak (``VmHWM``);
- ``{"op": "exit"}``: calls ``flows.close_session()`` if the module has one.

Every reply is one JSON object a line with an ``event`` of ``ready``, ``progress``, ``result``
or ``error``. It needs nothing but the standard library and the peer, and writes its
protocol to a copy of the original stdout: anything else printing to stdout (the peer's
reports) lands on stderr instead, which the harness keeps in a log file.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import resource
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, TextIO

PROGRESS_PERIOD_S = 0.25


def _status_field(name: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss() -> int:
    """Current RSS in bytes (``ru_maxrss`` where /proc is missing)."""
    kb = _status_field("VmRSS")
    if kb is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return kb * 1024


def peak_rss() -> int:
    """RSS high-water mark in bytes since the last ``reset_peak``."""
    kb = _status_field("VmHWM")
    if kb is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return kb * 1024


def reset_peak() -> bool:
    """Reset ``VmHWM``; False where the kernel cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def thread_count() -> int:
    """OS threads of this process (Python's count where /proc is missing)."""
    count = _status_field("Threads")
    return count if count is not None else threading.active_count()


class ThreadSampler:
    """Most OS threads seen while running, excluding the sampler's own."""

    def __init__(self, interval: float = 0.01) -> None:
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.peak = thread_count()

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, thread_count() - 1)

    def start(self) -> None:
        """Start sampling."""
        self._thread.start()

    def stop(self) -> int:
        """Stop and return the peak."""
        self._stop.set()
        self._thread.join()
        return max(self.peak, thread_count())


class Server:
    """The request loop: one workload at a time, timed in this process."""

    def __init__(self, out: TextIO, seed: int) -> None:
        self.out = out
        self.seed = seed
        self.run_once: Any = None

    def send(self, event: str, **fields: Any) -> None:
        """Write one reply line and flush, so the harness sees it at once."""
        self.out.write(json.dumps({"event": event, **fields}) + "\n")
        self.out.flush()

    def setup(self, workload: str, batch: int | None) -> dict[str, Any]:
        """Build the workload's ``run_once``."""
        import flows

        random.seed(self.seed)
        factory = flows.WORKLOADS.get(workload)
        if factory is None:
            raise KeyError(
                f"no workload {workload!r} in the peer; known: {sorted(flows.WORKLOADS)}"
            )
        self.run_once = factory(batch)
        return {}

    def repeat(self, start: int, count: int, sample_threads: bool) -> dict[str, Any]:
        """Time ``count`` iterations, the same loop as the harness's own."""
        if self.run_once is None:
            raise RuntimeError("repeat before setup")
        gc.collect()
        gc.collect()
        run_once = self.run_once
        clock = time.perf_counter
        latencies: list[float] = []
        sampler = ThreadSampler() if sample_threads else None
        if sampler is not None:
            sampler.start()
        last_report = clock()
        reported = 0
        repeat_start = clock()
        for i in range(start, start + count):
            t0 = clock()
            run_once(i)
            t1 = clock()
            latencies.append(t1 - t0)
            if t1 - last_report >= PROGRESS_PERIOD_S:
                self.send("progress", done=len(latencies) - reported)
                reported = len(latencies)
                last_report = t1
        wall = clock() - repeat_start
        peak_threads = sampler.stop() if sampler is not None else None
        return {
            "wall_s": wall,
            "latencies_s": latencies,
            "peak_threads": peak_threads,
            "unreported": len(latencies) - reported,
        }

    def handle(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """Dispatch one request; None means exit."""
        match request.get("op"):
            case "setup":
                return self.setup(request["workload"], request.get("batch"))
            case "repeat":
                return self.repeat(
                    request["start"], request["count"], bool(request.get("sample_threads"))
                )
            case "memory":
                return {"rss": rss(), "peak_rss": peak_rss()}
            case "reset_peak":
                return {"reset": reset_peak()}
            case "exit":
                # The flows module is loaded by main() before serving; tests serve without it.
                close = getattr(sys.modules.get("flows"), "close_session", None)
                if close is not None:
                    close()
                return None
            case other:
                raise ValueError(f"unknown op {other!r}")

    def serve(self, requests: TextIO) -> None:
        """Answer requests until ``exit`` or end of input."""
        for line in requests:
            try:
                reply = self.handle(json.loads(line))
            except Exception as exc:
                self.send(
                    "error", error=f"{type(exc).__name__}: {exc}", trace=traceback.format_exc()
                )
                continue
            if reply is None:
                self.send("result")
                return
            self.send("result", **reply)


def main() -> int:
    """Open the peer's session, say ready, serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=Path, required=True)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--config", default="{}", help="JSON object for open_session")
    args = parser.parse_args()
    # The protocol gets its own descriptor; fd 1 then points at stderr for everything else.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    server = Server(out, args.seed)
    try:
        started = time.perf_counter()
        sys.path.insert(0, str(args.flows.resolve()))
        import flows

        facts = flows.open_session(args.home.resolve(), json.loads(args.config))
        server.send(
            "ready",
            python_version=platform.python_version(),
            session_seconds=time.perf_counter() - started,
            rss=rss(),
            peak_resettable=reset_peak(),
            **facts,
        )
    except Exception as exc:
        server.send("error", error=f"{type(exc).__name__}: {exc}", trace=traceback.format_exc())
        return 1
    server.serve(sys.stdin)
    return 0


if __name__ == "__main__":
    sys.exit(main())

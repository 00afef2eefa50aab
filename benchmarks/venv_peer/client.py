"""A peer in its own virtual environment as the harness sees it: sessions are runner processes.

Each session is one OS process of the peer venv's interpreter running ``runner.py`` with the
peer's ``flows`` module and its own profile or database in the workload's temporary home, so
that the peer's database, config and memory are as separate from workactors' as they are from
the user's own setup. The session implements ``benchmarks.meters.Meter`` by asking the runner,
so the memory figures are the peer's, not this process's. ``VenvPeer`` is what aiida-core and
DBOS share; each subclass says what to install, where its flows are and how a session starts.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from benchmarks.figures import RepeatResult
from benchmarks.meters import Meter
from benchmarks.venv_peer.venv import (
    VenvSpec,
    clean_environment,
    ensure_venv,
    installed_version,
    venv_python,
)

if TYPE_CHECKING:
    from benchmarks.workloads.base import ProgressCallback

RUNNER = Path(__file__).with_name("runner.py")
# No reply line (not even progress) for this long means the runner hangs.
STALL_TIMEOUT_S = 900.0
EXIT_TIMEOUT_S = 30.0


class RunnerError(RuntimeError):
    """The peer's runner reported an error, died or stalled."""


class RunnerSession:
    """One runner process of ``peer``: a fresh profile or database in ``home``."""

    def __init__(
        self,
        peer: str,
        python: Path,
        flows: Path,
        home: Path,
        seed: int,
        *,
        config: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.peer = peer
        self.home = home
        self.log_path = home / f"{peer}-runner.log"
        environment = clean_environment()
        environment.update(env or {})
        self._log = self.log_path.open("w")
        self._process = subprocess.Popen(
            [
                str(python),
                str(RUNNER),
                "--flows",
                str(flows),
                "--home",
                str(home),
                "--seed",
                str(seed),
                "--config",
                json.dumps(config or {}),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            cwd=home,
            env=environment,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        assert self._process.stdout is not None
        threading.Thread(
            target=self._pump, args=(self._process.stdout,), name=f"{peer}-runner", daemon=True
        ).start()
        self.ready = self._reply(None)
        self.peak_resettable = bool(self.ready.get("peak_resettable"))

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put("")

    def _log_tail(self, lines: int = 12) -> str:
        with suppress(OSError):
            return "\n".join(self.log_path.read_text().strip().splitlines()[-lines:])
        return ""

    def _reply(self, progress: ProgressCallback | None) -> dict[str, Any]:
        while True:
            try:
                line = self._lines.get(timeout=STALL_TIMEOUT_S)
            except queue.Empty:
                self._process.kill()
                raise RunnerError(
                    f"{self.peer} runner silent for {STALL_TIMEOUT_S:.0f} s"
                ) from None
            if not line:
                code = self._process.wait()
                raise RunnerError(f"{self.peer} runner exited ({code}): {self._log_tail()}")
            message = json.loads(line)
            match message.pop("event"):
                case "progress":
                    if progress is not None:
                        progress(int(message["done"]))
                case "result" | "ready":
                    return dict(message)
                case "error":
                    trace = message.get("trace", "").strip().splitlines()[-6:]
                    raise RunnerError(message["error"] + "\n" + "\n".join(trace))
                case other:
                    raise RunnerError(f"{self.peer} runner sent unknown event {other!r}")

    def request(
        self, op: str, progress: ProgressCallback | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Send one request and wait for its result, passing progress lines on."""
        stdin = self._process.stdin
        if stdin is None or self._process.poll() is not None:
            raise RunnerError(f"{self.peer} runner is not running: {self._log_tail()}")
        stdin.write(json.dumps({"op": op, **fields}) + "\n")
        stdin.flush()
        return self._reply(progress)

    def setup(self, workload: str, batch: int | None) -> None:
        """Set the workload up in the runner."""
        self.request("setup", workload=workload, batch=batch)

    def repeat(
        self, indices: range, progress: ProgressCallback | None, *, sample_threads: bool
    ) -> RepeatResult:
        """Time ``indices`` in the runner."""
        reply = self.request(
            "repeat",
            progress,
            start=indices.start,
            count=len(indices),
            sample_threads=sample_threads,
        )
        if progress is not None and reply["unreported"]:
            progress(int(reply["unreported"]))
        return RepeatResult(
            float(reply["wall_s"]), tuple(reply["latencies_s"]), reply.get("peak_threads")
        )

    @property
    def method(self) -> str:
        """How the runner measures its peak."""
        if self.peak_resettable:
            return f"VmHWM of the {self.peer} runner process, reset per workload"
        return f"ru_maxrss of the {self.peer} runner process"

    def rss(self) -> int:
        """The runner's RSS."""
        return int(self.request("memory")["rss"])

    def peak(self) -> int:
        """The runner's peak RSS."""
        return int(self.request("memory")["peak_rss"])

    def reset_peak(self) -> None:
        """Reset the runner's peak."""
        self.request("reset_peak")

    def close(self) -> None:
        """Ask the runner to exit; kill it if it does not."""
        try:
            if self._process.poll() is None:
                with suppress(RunnerError, OSError, ValueError):
                    self.request("exit")
                try:
                    self._process.wait(timeout=EXIT_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
        finally:
            for stream in (self._process.stdin, self._process.stdout):
                if stream is not None:
                    with suppress(OSError):
                        stream.close()
            self._log.close()


class VenvPeer:
    """A peer installed in its own virtual environment and run by ``runner.py`` sessions.

    Subclasses set ``name``, ``spec`` and ``flows`` (the folder of their ``flows.py``) and
    may override ``session_config`` and ``session_env`` to tell a runner what to open.
    """

    name: str
    spec: VenvSpec
    flows: Path
    remote = True
    opt_in = True

    def __init__(self, venv: Path | None = None) -> None:
        self.venv = venv or self.spec.default_venv()
        self._python: Path | None = None
        self._version: str | None = None
        self._ready: dict[str, Any] = {}

    def configure(self, venv: Path | None) -> None:
        """Use ``venv`` (``--peer-venv``) instead of the default."""
        if venv is not None:
            self.venv = venv.resolve()
            self._python = None

    def is_available(self) -> bool:
        """Always: the venv is created on first use (``prepare``), which may then fail."""
        return True

    def prepare(self, say: Callable[[str], None]) -> None:
        """Create the venv and install the peer, unless that was done before."""
        self._python = ensure_venv(self.spec, self.venv, say)
        self._version = installed_version(self._python, self.spec.distribution)

    def version(self) -> str | None:
        """The peer's version in the venv."""
        if self._version is None:
            self._version = installed_version(venv_python(self.venv), self.spec.distribution)
        return self._version

    def facts(self) -> dict[str, Any]:
        """Where the peer ran; subclasses add how it was set up."""
        return {
            "requirement": self.spec.requirement,
            "venv": str(self.venv),
            "version": self.version(),
            "python_version": self._ready.get("python_version"),
        }

    def session_config(self, home: Path, database: str) -> AbstractContextManager[dict[str, Any]]:
        """What the runner's ``open_session`` gets; it may hold a database while it lasts."""
        return nullcontext({"database": database})

    def session_env(self, home: Path) -> dict[str, str]:
        """Environment variables the runner needs besides a clean environment."""
        return {}

    @contextmanager
    def session(
        self, home: Path, seed: int, *, database: str = "sqlite"
    ) -> Iterator[RunnerSession]:
        """A runner on ``home`` (and ``database``); stopped when the session ends."""
        if self._python is None:
            raise RunnerError(f"the {self.name} peer was not prepared (no virtual environment)")
        with self.session_config(home, database) as config:
            session = RunnerSession(
                self.name,
                self._python,
                self.flows,
                home,
                seed,
                config=config,
                env=self.session_env(home),
            )
            self._ready.update(session.ready)
            try:
                yield session
            finally:
                session.close()

    def meter(self, session: Any, local: Meter) -> Meter:
        """The runner measures its own memory."""
        return session  # type: ignore[no-any-return]

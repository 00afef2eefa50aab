"""The runner shared by the peers in their own virtual environments, and its client.

``runner.py`` needs nothing but the standard library until it imports a peer's ``flows``, so
its request loop is tested here, in this interpreter, and the client is tested against a real
runner process started with this interpreter on a flows module written by the test.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

import benchmarks.venv_peer
from benchmarks.venv_peer.client import RunnerError, RunnerSession
from benchmarks.venv_peer.venv import VenvSpec, clean_environment, installed_version

RUNNER_DIR = Path(benchmarks.venv_peer.__file__).parent


def _runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_runner", RUNNER_DIR / "runner.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_runner_times_a_repeat_and_reports_progress() -> None:
    runner = _runner()
    out = io.StringIO()
    server = runner.Server(out, seed=1)
    calls: list[int] = []
    server.run_once = calls.append

    reply = server.handle({"op": "repeat", "start": 5, "count": 3, "sample_threads": True})

    assert calls == [5, 6, 7]
    assert len(reply["latencies_s"]) == 3
    assert reply["wall_s"] >= sum(reply["latencies_s"])
    assert reply["peak_threads"] >= 1
    progress = sum(json.loads(line)["done"] for line in out.getvalue().splitlines())
    assert progress + reply["unreported"] == 3


def test_the_runner_answers_errors_and_exit_on_its_protocol() -> None:
    runner = _runner()
    out = io.StringIO()
    server = runner.Server(out, seed=1)

    server.serve(io.StringIO('{"op": "repeat", "start": 0, "count": 1}\n{"op": "exit"}\n'))

    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert events[0]["event"] == "error"
    assert "repeat before setup" in events[0]["error"]
    assert events[1] == {"event": "result"}


FLOWS = """
from pathlib import Path

opened = {}


def open_session(home, config):
    opened.update(config)
    (home / "opened").write_text("yes")
    return {"echo": config}


def close_session():
    (Path(opened["home"]) / "closed").write_text("yes")


def _square(batch):
    def run_once(i):
        if i * i < 0:
            raise RuntimeError("impossible")
        if i == 99:
            raise ValueError("iteration 99 fails")

    return run_once


WORKLOADS = {"square": _square}
"""


def _session(tmp_path: Path) -> RunnerSession:
    flows = tmp_path / "flows_dir"
    flows.mkdir()
    (flows / "flows.py").write_text(FLOWS)
    home = tmp_path / "home"
    home.mkdir()
    return RunnerSession(
        "test", Path(sys.executable), flows, home, 7, config={"home": str(home), "x": 1}
    )


def test_a_runner_session_opens_times_measures_and_closes(tmp_path: Path) -> None:
    session = _session(tmp_path)
    try:
        assert session.ready["echo"] == {"home": str(tmp_path / "home"), "x": 1}
        assert (tmp_path / "home" / "opened").read_text() == "yes"
        session.setup("square", None)
        done: list[int] = []
        repeat = session.repeat(range(3, 8), done.append, sample_threads=True)
        assert len(repeat.latencies) == 5
        assert sum(done) == 5
        assert repeat.peak_threads is not None
        assert repeat.peak_threads >= 1
        assert session.rss() > 0
        assert session.peak() >= session.rss() // 2
    finally:
        session.close()
    assert (tmp_path / "home" / "closed").read_text() == "yes"


def test_a_runner_error_reaches_the_client_with_its_message(tmp_path: Path) -> None:
    session = _session(tmp_path)
    try:
        with pytest.raises(RunnerError, match="no workload 'cube'"):
            session.setup("cube", None)
        session.setup("square", None)
        with pytest.raises(RunnerError, match="iteration 99 fails"):
            session.repeat(range(99, 100), None, sample_threads=False)
    finally:
        session.close()


def test_the_venv_environment_keeps_workactors_out() -> None:
    env = clean_environment()
    assert "PYTHONPATH" not in env
    assert env["PYTHONNOUSERSITE"] == "1"


def test_installed_version_reads_the_interpreters_distribution(tmp_path: Path) -> None:
    assert installed_version(Path(sys.executable), "pykka") is not None
    assert installed_version(Path(sys.executable), "no-such-distribution-here") is None
    assert installed_version(tmp_path / "missing" / "python", "pykka") is None


def test_a_spec_defaults_under_the_cache_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", "/cache-root")
    spec = VenvSpec("dbos", "dbos==3.4.*", "3.4.", "dbos-venv", "seconds")
    assert spec.default_venv() == Path("/cache-root/workactors-bench/dbos-venv")

"""A checkpoint that cannot be written (the file size limit of a full disk) fails its process
clearly, keeps the previous checkpoint, and the runtime goes on serving other processes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from actors import ProcessState, Runtime
from persistence import PicklePersistence
from provenance import ProcessNode, load_node

pytestmark = pytest.mark.slow

WORKER = textwrap.dedent(
    """
    import json, resource, signal, sys
    from actors import Runtime
    from provenance import Int
    from tests.faults.bulky import Bulky
    from tests.actors.workchains import Loop

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a full disk: writes fail with EFBIG
    with Runtime(sys.argv[1], durable=True) as rt:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4 << 20, 4 << 20))
        bulky, bulky_done = rt.launch(Bulky, {})
        small, small_done = rt.launch(Loop, {"n": Int(3)})
        try:
            bulky_done.result(30)
            bulky_error = None
        except Exception as exc:
            bulky_error = f"{type(exc).__name__}: {exc}"
        count = small_done.result(30)["count"].value
        print(json.dumps({"bulky": bulky.pid, "small": small.pid, "error": bulky_error,
                          "count": count}))
    """
)


def test_a_checkpoint_too_big_for_the_disk_fails_only_its_process(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = subprocess.run(
        [sys.executable, "-c", WORKER, str(home)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["count"] == 3
    assert "CheckpointWriteError" in report["error"]
    assert "File too large" in report["error"] or "EFBIG" in report["error"]

    with Runtime(home) as rt:
        bulky = load_node(report["bulky"])
        assert isinstance(bulky, ProcessNode)
        assert bulky.process_state is ProcessState.EXCEPTED
        assert "CheckpointWriteError" in (bulky.exception or "")
        # The previous (first) checkpoint is intact and still loads.
        persistence = PicklePersistence(
            rt.running_directory,
            rt.finished_directory,
            rt.failed_directory,
            key_file=rt.home / "checkpoint.key",
        )
        checkpoint = persistence.codec.read(Path(persistence.get_running_path(report["bulky"])))
        assert checkpoint.pid == report["bulky"]
        assert "blob" not in checkpoint.state.get("ctx", {})

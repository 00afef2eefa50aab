"""``python -m actors.demo``, the README's first command, runs and shows the provenance."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_the_demo_runs_a_workflow_and_prints_its_provenance(tmp_path: Path) -> None:
    env = {**os.environ, "WORKACTORS_HOME": str(tmp_path / "home")}
    env.pop("WORKACTORS_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "actors.demo"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "add_and_double(4, 5) = 18" in out
    assert "Square(x=7) = 49" in out
    assert "SquareAll([1, 2, 3]) = 14" in out
    assert "[SquareAll|launch_pair] squaring [1, 2] in child processes" in out
    assert out.count("Square <pk") == 4  # one run directly, three as children of SquareAll
    assert (tmp_path / "home" / "provenance.sqlite").is_file()

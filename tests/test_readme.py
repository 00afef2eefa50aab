"""The README's Python examples run as written, each in a fresh interpreter and home.

A user copies them first; one once failed with ``NameError: name 'Process' is not defined``.
Every block runs unless it is an illustration that needs the reader's own data or code (a pk
they have, a package of theirs): those are listed by their first line, so that a new block is
run by default.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
#: First lines of the blocks that need the reader's data or code (see the module docstring).
ILLUSTRATIONS = {
    "import datetime as dt",  # queries a pk and a uuid prefix of the reader's database
    "from provenance.archive import create_archive, import_archive, inspect_archive",  # pk 12
    "from actors import Runtime",  # submits mypackage.chains.EquationOfState
    "from actors import Checkpointed, Runtime",  # runs the reader's MyChain
}
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_the_readme_has_examples_and_the_illustrations_are_still_there() -> None:
    first_lines = {block.splitlines()[0] for block in BLOCKS}
    assert first_lines >= ILLUSTRATIONS, "an illustration changed: update ILLUSTRATIONS"
    assert len(first_lines - ILLUSTRATIONS) >= 4


@pytest.mark.parametrize(
    "block",
    [block for block in BLOCKS if block.splitlines()[0] not in ILLUSTRATIONS],
    ids=lambda block: block.splitlines()[0][:40],
)
def test_a_readme_example_runs_as_written(block: str, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    # A folder under /tmp that an example names is moved into this test's own: a home left
    # there by another run (another version, another schema) must not decide the outcome.
    script.write_text(
        re.sub(r'"/tmp/([^"]+)"', lambda path: repr(str(tmp_path / path.group(1))), block)
    )
    env = {**os.environ, "WORKACTORS_HOME": str(tmp_path / "home")}
    env.pop("WORKACTORS_DATABASE_URL", None)
    env["PYTHONPATH"] = os.pathsep.join([str(README.parent), env.get("PYTHONPATH", "")])
    completed = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]

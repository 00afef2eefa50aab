"""The package's public face, and the one-way dependency on the engine."""

from __future__ import annotations

import subprocess
import sys

import persistence


def test_the_public_names_are_sorted_and_all_exist() -> None:
    assert list(persistence.__all__) == sorted(
        persistence.__all__, key=lambda name: (not name.isupper(), not name[0].isupper(), name)
    )
    for name in persistence.__all__:
        assert getattr(persistence, name) is not None


def test_persistence_does_not_import_the_engine() -> None:
    code = (
        "import sys, persistence\n"
        "engine = sorted(m for m in sys.modules if m == 'actors' or m.startswith('actors.'))\n"
        "print(engine)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"

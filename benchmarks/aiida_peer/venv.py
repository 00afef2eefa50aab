"""The aiida-core virtual environment: created on first use, reused afterwards.

It lives outside the source tree and outside the user's AiiDA configuration (by default
``$XDG_CACHE_HOME/workactors-bench/aiida-venv``), since installing aiida-core takes half a
minute and must never touch an AiiDA setup the user already has.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

REQUIREMENT = "aiida-core==2.9.*"
SERIES = "2.9."


class VenvError(RuntimeError):
    """The virtual environment could not be created or aiida-core not installed in it."""


def default_venv() -> Path:
    """``$XDG_CACHE_HOME/workactors-bench/aiida-venv`` (``~/.cache`` if unset)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "workactors-bench" / "aiida-venv"


def venv_python(venv: Path) -> Path:
    """The interpreter of ``venv``."""
    if sys.platform == "win32":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def clean_environment() -> dict[str, str]:
    """This environment without what would leak workactors' packages into the venv."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def installed_version(python: Path) -> str | None:
    """aiida-core's version in the venv of ``python``, None if it is not installed."""
    if not python.exists():
        return None
    completed = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m; print(m.version('aiida-core'))",
        ],
        capture_output=True,
        text=True,
        env=clean_environment(),
        check=False,
        timeout=60,
    )
    return completed.stdout.strip() if completed.returncode == 0 else None


def _run(command: list[str], what: str) -> None:
    completed = subprocess.run(
        command, capture_output=True, text=True, env=clean_environment(), check=False
    )
    if completed.returncode != 0:
        tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-15:])
        raise VenvError(f"{what} failed (exit {completed.returncode}):\n{tail}")


def ensure_venv(venv: Path, say: Callable[[str], None]) -> Path:
    """Return the interpreter of ``venv``, creating it and installing aiida-core if needed.

    Raises:
        VenvError: with pip's last lines, if creation or installation fails (no network,
            no venv module).
    """
    python = venv_python(venv)
    version = installed_version(python)
    if version is not None and version.startswith(SERIES):
        return python
    if not python.exists():
        say(f"creating the aiida-core virtual environment in {venv}")
        venv.parent.mkdir(parents=True, exist_ok=True)
        _run([sys.executable, "-m", "venv", str(venv)], f"python -m venv {venv}")
    say(f"installing {REQUIREMENT} into {venv} (once; about half a minute)")
    _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            REQUIREMENT,
        ],
        f"pip install {REQUIREMENT}",
    )
    version = installed_version(python)
    if version is None or not version.startswith(SERIES):
        raise VenvError(f"{venv} has aiida-core {version}, not {REQUIREMENT}")
    return python

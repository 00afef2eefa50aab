"""A peer's virtual environment: created on first use, reused afterwards.

Peers (aiida-core, DBOS Transact) live in virtual environments outside the source tree and
outside the user's own environment (by default ``$XDG_CACHE_HOME/workactors-bench/<peer>-venv``):
installing them takes seconds to half a minute, and must never touch a setup the user has.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class VenvError(RuntimeError):
    """The virtual environment could not be created or the peer not installed in it."""


@dataclass(frozen=True, slots=True)
class VenvSpec:
    """What one peer installs.

    Attributes:
        distribution: the distribution whose version tells whether the install is done.
        requirement: what ``pip install`` gets (pinned to one release series).
        series: the version prefix an existing install must have to be reused.
        folder: the venv's folder name under the cache directory.
        install_time: how long the install takes, for the message shown meanwhile.
    """

    distribution: str
    requirement: str
    series: str
    folder: str
    install_time: str

    def default_venv(self) -> Path:
        """``$XDG_CACHE_HOME/workactors-bench/<folder>`` (``~/.cache`` if unset)."""
        cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(cache) / "workactors-bench" / self.folder


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


def installed_version(python: Path, distribution: str) -> str | None:
    """``distribution``'s version in the venv of ``python``, None if it is not installed."""
    if not python.exists():
        return None
    completed = subprocess.run(
        [
            str(python),
            "-c",
            f"import importlib.metadata as m; print(m.version({distribution!r}))",
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


def ensure_venv(spec: VenvSpec, venv: Path, say: Callable[[str], None]) -> Path:
    """Return the interpreter of ``venv``, creating it and installing ``spec`` if needed.

    Raises:
        VenvError: with pip's last lines, if creation or installation fails (no network,
            no venv module).
    """
    python = venv_python(venv)
    version = installed_version(python, spec.distribution)
    if version is not None and version.startswith(spec.series):
        return python
    if not python.exists():
        say(f"creating the {spec.distribution} virtual environment in {venv}")
        venv.parent.mkdir(parents=True, exist_ok=True)
        _run([sys.executable, "-m", "venv", str(venv)], f"python -m venv {venv}")
    say(f"installing {spec.requirement} into {venv} (once; {spec.install_time})")
    _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            spec.requirement,
        ],
        f"pip install {spec.requirement}",
    )
    version = installed_version(python, spec.distribution)
    if version is None or not version.startswith(spec.series):
        raise VenvError(f"{venv} has {spec.distribution} {version}, not {spec.requirement}")
    return python

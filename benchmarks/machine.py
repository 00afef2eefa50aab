"""Facts about the machine and the software: a benchmark figure without them compares to nothing."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil

from benchmarks.figures import MB


def version(distribution: str) -> str | None:
    """Installed version of ``distribution``, None if it is not installed."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    """Output of a read-only git command in the source tree, None outside a checkout."""
    import actors

    source = Path(actors.__file__).resolve().parent.parent
    try:
        completed = subprocess.run(
            ["git", *args], cwd=source, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip()


def cpu_model() -> str | None:
    """The CPU's model name from ``/proc/cpuinfo`` (``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def filesystem_of(path: Path) -> dict[str, str] | None:
    """Mount point and filesystem type holding ``path``: fsync costs depend on it (tmpfs lies)."""
    resolved = str(path.resolve())
    best: Any = None
    for partition in psutil.disk_partitions(all=True):
        mount = partition.mountpoint
        inside = resolved == mount or resolved.startswith(mount.rstrip(os.sep) + os.sep)
        if inside and (best is None or len(mount) > len(best.mountpoint)):
            best = partition
    if best is None:
        return None
    return {"mountpoint": best.mountpoint, "fstype": best.fstype, "device": best.device}


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages: other work on the machine shows up as noise."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def machine_facts(temporary_base: Path, memory_method: str) -> dict[str, Any]:
    """What the figures depend on besides the code: hardware, OS, interpreter, versions."""
    commit = _git("rev-parse", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    frequency = psutil.cpu_freq()
    return {
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "hostname": platform.node(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_count_logical": os.cpu_count(),
        "cpu_count_physical": psutil.cpu_count(logical=False),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_max_mhz": round(frequency.max) if frequency and frequency.max else None,
        "memory_total_mb": round(psutil.virtual_memory().total / MB),
        "python_version": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "sqlite_version": sqlite3.sqlite_version,
        "workactors_version": version("workactors"),
        "git_commit": commit or None,
        "git_dirty": bool(dirty) if dirty is not None else None,
        "libraries": {
            name: version(name) for name in ("pykka", "sqlalchemy", "structlog", "msgpack")
        },
        "temporary_base": str(temporary_base),
        "temporary_filesystem": filesystem_of(temporary_base),
        "peak_rss_method": memory_method,
        "load_average_at_end": load_average(),
    }

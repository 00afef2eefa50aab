"""What the daemon's OS processes share: time constants and their command lines.

The supervisor and the workers are started as ``python -m`` modules; their commands are built,
and their common options parsed, here only.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from actors.runtime import DATABASE_URL_ENV

#: Seconds between two safety rescans of a worker that nothing wakes. Wakes make adoption
#: immediate; the rescan only catches what a lost datagram left behind.
RESCAN_INTERVAL = 30.0
#: Seconds a graceful stop lets running steps finish before leaving them to their checkpoints.
SHUTDOWN_TIMEOUT = 60.0
#: The most workers one daemon keeps (``daemon start --workers``, ``incr``).
MAX_WORKERS = 256
#: Seconds between two looks of the supervisor at its home and its lock (``HomeWatch``).
HOME_CHECK_INTERVAL = 1.0

WORKER_MODULE = "actors.daemon.worker"
SUPERVISOR_MODULE = "actors.daemon.supervisor"


def command(module: str, home: str | os.PathLike[str], *options: str) -> list[str]:
    """The command line that runs ``module`` (worker or supervisor) on ``home``."""
    return [sys.executable, "-m", module, "--home", os.fspath(home), *options]


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    """A parser with the options both the supervisor and the workers take.

    The database URL defaults to ``$WORKACTORS_DATABASE_URL``: the supervisor passes it to its
    workers through the environment, so that a password in it does not show in ``ps``.
    """
    parsed = argparse.ArgumentParser(prog=f"python -m {prog}", description=description)
    parsed.add_argument("--home", required=True, type=Path)
    parsed.add_argument("--database-url", default=os.environ.get(DATABASE_URL_ENV))
    parsed.add_argument("--rescan-interval", type=float, default=RESCAN_INTERVAL)
    parsed.add_argument("--shutdown-timeout", type=float, default=SHUTDOWN_TIMEOUT)
    parsed.add_argument("--ready-fd", type=int, help="Write 'ready' here once serving.")
    return parsed

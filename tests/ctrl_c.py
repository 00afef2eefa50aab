"""Run a module as ``python -m`` does, with Ctrl-C (SIGINT) raising ``KeyboardInterrupt``.

A terminal gives a program that; a test runner started in the background of a script ignores
SIGINT, and every program it starts inherits the ignoring (Python then installs no handler), so
a test that stops a command with Ctrl-C starts it through this: ``python -m tests.ctrl_c
actors.cli ...``.
"""

from __future__ import annotations

import runpy
import signal
import sys

if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.argv = sys.argv[1:]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)

"""The program the kill-point tests run: a ``Forked`` chain in a checkpointing runtime whose
file store SIGKILLs its own OS process at the n-th checkpoint write, at one stage of it.

``python -m tests.faults.kill_points HOME MARKS X STAGE N [DATABASE_URL]`` exits 0 if the chain
finished before the n-th write came (it then prints how many writes there were), else dies by
SIGKILL.

Stages: ``before`` (the step's provenance is committed, its checkpoint not yet begun), then
``persistence.WriteStage``'s: the temporary file written, fsynced, moved in place, its folder
synced (the checkpoint is durable and nobody has been told yet).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from actors import Checkpointed, Runtime
from persistence import PicklePersistence, WriteStage
from provenance import Int, Str
from tests.actors.daemon.processes import Forked

BEFORE = "before"
STAGES = (BEFORE, *(stage.value for stage in WriteStage))


class KillAt:
    """Counts checkpoint writes reaching ``stage``; SIGKILLs this OS process at the ``nth``."""

    def __init__(self, stage: str, nth: int) -> None:
        self.stage = stage
        self.nth = nth
        self.seen = 0
        self._lock = threading.Lock()

    def reached(self, stage: str) -> None:
        if stage != self.stage:
            return
        with self._lock:
            self.seen += 1
            if self.seen == self.nth:
                os.kill(os.getpid(), signal.SIGKILL)

    def __call__(self, stage: WriteStage, _path: Path) -> None:
        self.reached(stage.value)


class KillingPersistence(PicklePersistence):
    """The home's file store, with a kill before a write begins as well as within it."""

    def __init__(self, home: Path, killer: KillAt) -> None:
        running = home / "running"
        super().__init__(
            running,
            running / "finished",
            running / "failed",
            key_file=home / "checkpoint.key",
            write_hook=killer,
        )
        self.killer = killer

    def save_state(self, pid: int, class_path: str, state: Mapping[str, Any]) -> str:
        self.killer.reached(BEFORE)
        return super().save_state(pid, class_path, state)

    def save_states(
        self, items: Sequence[tuple[int, str, Mapping[str, Any]]]
    ) -> list[str | Exception]:
        if len(items) == 1:  # the base class hands a single write to save_state
            return super().save_states(items)
        for _item in items:
            self.killer.reached(BEFORE)
        return super().save_states(items)


def main(arguments: list[str]) -> None:
    home, marks, x, stage, nth, *rest = arguments
    url = rest[0] if rest else None
    killer = KillAt(stage, int(nth))
    store = KillingPersistence(Path(home), killer)
    with Runtime(home, database_url=url, durability=Checkpointed(store)) as runtime:
        runtime.run(Forked, x=Int(int(x)), marks=Str(marks))
    print(killer.seen)


if __name__ == "__main__":
    main(sys.argv[1:])

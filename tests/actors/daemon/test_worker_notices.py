"""A worker passes on the end of a process run elsewhere even when the database failed the
first try: at its next claim turn, not only at the next rescan (30 s by default).

In process, on a real PostgreSQL database: the worker's reads fail on a real lock timeout
while another connection holds ``db_node`` locked, as they fail while a server restarts.
"""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa

from actors import Runtime
from actors.daemon.worker import Worker
from actors.daemon.workload import Never, WaitsOn
from persistence import InMemoryStore
from provenance import Int, ProcessState
from tests.actors.daemon.helpers import state_of, stored
from tests.helpers import with_server_option

TIMEOUT = 30.0


def test_an_end_whose_notice_the_database_failed_is_passed_on_at_the_next_turn(
    tmp_path: Path, shared_database: str
) -> None:
    impatient = with_server_option(shared_database, "-clock_timeout=300")
    home = tmp_path / "worker"
    with Runtime(home, database_url=impatient, durable=True) as runtime:
        elsewhere = runtime.queue_up(Never, {}, storage=InMemoryStore())
        waiter = runtime.queue_up(WaitsOn, {"on": Int(elsewhere)})
        passivated = threading.Event()
        runtime.add_listener(lambda event: passivated.set() if event.kind == "passivated" else None)
        assert runtime.adopt_checkpoints() == [waiter]
        # Written out: it has read that ``elsewhere`` has not ended, and only a notice wakes it.
        assert passivated.wait(TIMEOUT)
        assert state_of(waiter) is ProcessState.WAITING
        update = stored(elsewhere).set_process_attributes(
            process_state=ProcessState.FINISHED.value, exit_status=0
        )
        runtime.backend.write([update])  # it finished, as another worker would record it

        worker = Worker(home, 0, database_url=impatient)
        blocker = sa.create_engine(shared_database)
        try:
            with blocker.begin() as connection:
                connection.exec_driver_sql("LOCK TABLE db_node IN ACCESS EXCLUSIVE MODE")
                worker._notice(runtime, elsewhere)  # its read of the end times out
        finally:
            blocker.dispose()
        assert state_of(waiter) is ProcessState.WAITING

        worker._notice_again(runtime)  # what its next claim turn does
        assert runtime.wait(waiter, timeout=TIMEOUT)
        assert state_of(waiter) is ProcessState.FINISHED

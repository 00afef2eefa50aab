"""The rows of ``wa_runtime``: written, renewed and deleted through the provenance actor, and
judged by the database's clock, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from actors import Runtime
from provenance.migrations import HEAD_REVISION
from provenance.runtime_rows import Beat, Heartbeat, runtime_rows
from provenance.storage import Storage
from tests.helpers import migrate_to

BEAT_TIMEOUT = 30.0


def _beat(runtime: Runtime, beat: Beat, runtime_id: str, lasts: float = 60.0) -> None:
    row = Heartbeat(beat, runtime_id, "a-host", 4242, "/a/home", lasts)
    runtime.backend.beat(row, timeout=BEAT_TIMEOUT)


def test_a_database_of_revision_0004_is_upgraded_with_the_runtime_table(
    database_url: str,
) -> None:
    migrate_to(database_url, "0004")
    storage = Storage(database_url)
    try:
        assert storage.current_revision() == HEAD_REVISION
        assert runtime_rows(storage) == {}
    finally:
        storage.dispose()


def test_a_row_is_alive_until_it_runs_out_by_the_database_clock(any_runtime: Runtime) -> None:
    _beat(any_runtime, Beat.OPEN, "fresh", lasts=60.0)
    _beat(any_runtime, Beat.OPEN, "ran-out", lasts=-1.0)

    rows = runtime_rows(any_runtime.storage)

    fresh, ran_out = rows["fresh"], rows["ran-out"]
    assert (fresh.host, fresh.os_pid, fresh.home) == ("a-host", 4242, "/a/home")
    assert fresh.alive is True
    assert ran_out.alive is False
    assert 0 <= fresh.silent_for < BEAT_TIMEOUT


def test_a_renewal_brings_a_row_that_ran_out_back_and_a_close_deletes_it(
    any_runtime: Runtime,
) -> None:
    _beat(any_runtime, Beat.OPEN, "runtime", lasts=-1.0)
    assert runtime_rows(any_runtime.storage)["runtime"].alive is False

    _beat(any_runtime, Beat.RENEW, "runtime", lasts=60.0)
    assert runtime_rows(any_runtime.storage)["runtime"].alive is True

    _beat(any_runtime, Beat.CLOSE, "runtime")
    assert "runtime" not in runtime_rows(any_runtime.storage)


def test_a_runtime_that_opens_forgets_rows_that_ran_out_long_ago(any_runtime: Runtime) -> None:
    _beat(any_runtime, Beat.OPEN, "long-gone", lasts=-2 * 86_400.0)
    _beat(any_runtime, Beat.OPEN, "just-gone", lasts=-1.0)

    _beat(any_runtime, Beat.OPEN, "opening")

    assert set(runtime_rows(any_runtime.storage)) >= {"just-gone", "opening"}
    assert "long-gone" not in runtime_rows(any_runtime.storage)


def test_a_beat_the_database_refuses_fails_alone_and_the_actor_writes_on(
    any_runtime: Runtime,
) -> None:
    from provenance import Int, load_node
    from provenance.errors import StorageError

    refused = Heartbeat(Beat.OPEN, "refused", "a-host", 2**70, "/a/home", 60.0)
    with pytest.raises(StorageError, match="heartbeat was not written"):
        any_runtime.backend.beat(refused, timeout=BEAT_TIMEOUT)

    node = Int(7)
    node.store()
    _beat(any_runtime, Beat.OPEN, "accepted")
    assert load_node(node.pk).value == 7
    assert set(runtime_rows(any_runtime.storage)) >= {"accepted"}
    assert "refused" not in runtime_rows(any_runtime.storage)


@pytest.mark.postgres
def test_a_row_that_ran_out_while_the_server_was_down_counts_until_it_could_have_beaten(
    pg_runtime: Runtime,
) -> None:
    """A PostgreSQL restart longer than a row's lifetime makes every row run out at once: the
    first runtime back must not take the processes of runtimes that renew as soon as they can.
    A row is judged only once the server has been up for its lifetime."""
    import sqlalchemy as sa

    _beat(pg_runtime, Beat.OPEN, "beat-before-the-restart")
    _beat(pg_runtime, Beat.OPEN, "long-dead", lasts=-1.0)
    uptime = "now() - pg_postmaster_start_time()"
    with pg_runtime.storage.write_engine.begin() as connection:
        # Its last beat was before the server started, and it was to last past the start.
        connection.execute(
            sa.text(
                f"UPDATE wa_runtime SET heartbeat = now() - ({uptime}) - interval '1 hour', "
                "expires = now() - interval '1 second' WHERE id = 'beat-before-the-restart'"
            )
        )

    rows = runtime_rows(pg_runtime.storage)

    assert rows["beat-before-the-restart"].alive is True
    assert rows["long-dead"].alive is False

"""What the PostgreSQL store adds to the contract: epochs that fence a worker whose claim was
taken over, leases that run out, rows signed with another key, racing claims.

Real server, a schema per test. A lease "runs out" by moving its expiry into the past in SQL,
which is what time does to a worker that stopped renewing.
"""

from __future__ import annotations

import multiprocessing
import secrets
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
import sqlalchemy as sa

from persistence import Checkpoint, CheckpointCodec, LockedError
from persistence.errors import CheckpointKeyMismatchError, LeaseLostError, LockTimeoutError
from persistence.pg_rows import CheckpointRows
from persistence.postgres_store import PostgresStore
from provenance import Int, ProcessState
from provenance.actor import ProvenanceActor, Write
from provenance.errors import FencedError
from provenance.storage import Storage
from tests.persistence.test_store_contract import PATH, RUNNING


@pytest.fixture
def key() -> bytes:
    return secrets.token_bytes(32)


@pytest.fixture
def stores(shared_database: str, key: bytes) -> Iterator[list[PostgresStore]]:
    made: list[PostgresStore] = []
    yield made
    for store in made:
        store.close()


def _store(made: list[PostgresStore], url: str, key: bytes, **options: Any) -> PostgresStore:
    store = PostgresStore(url, key, lock_timeout=0.2, **options)
    made.append(store)
    return store


def _expire(store: PostgresStore) -> None:
    """What a pause longer than the lease does: no more renewals, and the lease runs out."""
    store._keeper.stop()
    with store.connection() as connection:
        connection.execute(
            "UPDATE wa_worker SET lease_expires = now() - interval '1 second' WHERE id = %s",
            (store.owner,),
        )


def _row(store: PostgresStore, pid: int) -> tuple[Any, ...]:
    with store.connection() as connection:
        row = connection.execute(
            "SELECT status, owner, epoch, reason FROM wa_checkpoint WHERE pid = %s", (pid,)
        ).fetchone()
    assert row is not None
    return tuple(row)


def test_a_claim_taken_over_after_its_lease_ran_out_refuses_the_old_holders_writes(
    stores: list[PostgresStore], shared_database: str, key: bytes
) -> None:
    stale, fresh = _store(stores, shared_database, key), _store(stores, shared_database, key)
    stale.save_state(1, PATH, RUNNING)
    assert len(stale.load_all_processes()) == 1
    first_epoch = stale.epoch_of(1)
    with pytest.raises(LockedError):
        fresh.take_over(1)
    _expire(stale)
    assert fresh.take_over(1).state["step"] == 1
    assert fresh.epoch_of(1) == (first_epoch or 0) + 1
    with pytest.raises(LeaseLostError, match="another worker took it over"):
        stale.save_state(1, PATH, {**RUNNING, "step": 99})
    assert stale.epoch_of(1) is None  # dropped
    fresh.save_state(1, PATH, {**RUNNING, "step": 2})
    fresh.save_state(1, PATH, {"state": ProcessState.FINISHED.value})
    assert _row(fresh, 1)[:2] == ("finished", None)


def test_a_store_whose_own_lease_ran_out_does_not_claim_what_it_holds_again(
    stores: list[PostgresStore], shared_database: str, key: bytes
) -> None:
    """The server was down longer than the lease: the rows this store holds are claimable, but
    it still runs them. Claiming them again started a second run of each in the same worker,
    both writing under the new claim (a chain's step launching its children twice)."""
    stale, fresh = _store(stores, shared_database, key), _store(stores, shared_database, key)
    stale.save_state(3, PATH, RUNNING)
    assert len(stale.load_all_processes()) == 1
    epoch = stale.epoch_of(3)
    _expire(stale)
    assert stale.load_all_processes() == []
    with pytest.raises(LockedError, match="held by this store"):
        stale.take_over(3)
    assert stale.epoch_of(3) == epoch
    assert _row(stale, 3)[1:3] == (stale.owner, epoch)
    assert len(fresh.load_all_processes()) == 1  # another worker may take it over
    assert fresh.epoch_of(3) == (epoch or 0) + 1


def _server_uptime(store: PostgresStore) -> float:
    with store.connection() as connection:
        row = connection.execute(
            "SELECT extract(epoch FROM now() - pg_postmaster_start_time())"
        ).fetchone()
    assert row is not None
    return float(row[0])


def test_a_worker_whose_lease_ran_out_keeps_its_processes_until_the_server_is_up_a_lease(
    stores: list[PostgresStore], shared_database: str, key: bytes
) -> None:
    """Seen in a PostgreSQL-restart loop: the server was down longer than the lease, so every
    worker's lease ran out at once, and the first worker back took the others' processes
    while they still ran them (and they took its back: each run cut off by its fence and
    resumed elsewhere). A row whose owner's lease ran out is taken only once the server has
    been up for the claimer's lease, time enough for every live worker to renew."""
    holder = _store(stores, shared_database, key)
    holder.save_state(7, PATH, RUNNING)
    assert len(holder.load_all_processes()) == 1
    _expire(holder)
    _store(stores, shared_database, key).save_state(8, PATH, RUNNING)  # nobody's: free at once
    uptime = _server_uptime(holder)

    just_back = _store(stores, shared_database, key, lease=uptime + 600)
    with pytest.raises(LockedError):
        just_back.take_over(7)
    assert len(just_back.load_all_processes()) == 1
    assert list(just_back.held_claims()) == [8]
    assert _row(holder, 7)[1] == holder.owner

    later = _store(stores, shared_database, key, lease=max(uptime / 2, 0.01))
    assert later.take_over(7).state["step"] == 1
    assert _row(holder, 7)[1] == later.owner


def test_a_checkpoint_written_without_a_claim_never_revives_an_ended_process(
    stores: list[PostgresStore], shared_database: str, key: bytes
) -> None:
    """Seen in a PostgreSQL-restart loop: a worker whose store no longer held a chain (the
    claim let go) wrote its checkpoint anyway, unfenced; the row, finished by another worker,
    was running again, and the chain ran to its end twice (a third child)."""
    runner, stale = _store(stores, shared_database, key), _store(stores, shared_database, key)
    runner.save_state(5, PATH, RUNNING)
    assert len(runner.load_all_processes()) == 1
    runner.save_state(5, PATH, {"state": ProcessState.FINISHED.value})
    assert _row(runner, 5)[0] == "finished"

    with pytest.raises(LockTimeoutError):
        stale.save_state(5, PATH, RUNNING)
    assert _row(runner, 5)[0] == "finished"
    assert stale.load_all_processes() == []


def test_the_lease_keeper_renews_leases_and_reports_a_claim_it_lost(
    stores: list[PostgresStore], shared_database: str, key: bytes
) -> None:
    lost: Future[int] = Future()
    stale = _store(stores, shared_database, key, lease=0.6, on_lease_lost=lost.set_result)
    fresh = _store(stores, shared_database, key)
    stale.save_state(4, PATH, RUNNING)
    stale.load_all_processes()
    # Three renewals in: the lease is still held, nobody else can claim it.
    with stale.connection() as connection:
        connection.execute("SELECT pg_sleep(1.0)")
    assert fresh.load_all_processes() == []
    # Another worker claims it behind our back (as after a pause longer than the lease).
    with stale.connection() as connection:
        connection.execute(
            "UPDATE wa_checkpoint SET owner = %s, epoch = epoch + 1 WHERE pid = 4", (fresh.owner,)
        )
    assert lost.result(timeout=10) == 4
    assert stale.held_pids == frozenset()


def test_a_provenance_write_under_a_lost_claim_is_refused_in_its_transaction(
    stores: list[PostgresStore], shared_database: str, key: bytes
) -> None:
    storage = Storage(shared_database)
    actor = ProvenanceActor.start(storage)
    try:
        stale, fresh = _store(stores, shared_database, key), _store(stores, shared_database, key)
        node = Int(5)
        stale.save_state(8, PATH, RUNNING)
        stale.load_all_processes()
        fence = stale.fence(8)
        assert fence is not None
        written: Future[dict[str, int]] = Future()
        actor.tell(Write(tuple(node._records_to_store()), written, fence=fence))
        assert len(written.result(timeout=10)) == 1
        _expire(stale)
        fresh.take_over(8)
        refused: Future[dict[str, int]] = Future()
        actor.tell(Write(tuple(Int(6)._records_to_store()), refused, fence=fence))
        with pytest.raises(FencedError, match="its provenance was not written"):
            refused.result(timeout=10)
        with storage.read_session() as session:
            count = session.execute(sa.text("SELECT count(*) FROM db_node")).scalar_one()
        assert count == 1
    finally:
        actor.stop()
        storage.dispose()


def test_a_row_signed_with_another_key_is_refused_before_unpickling(
    stores: list[PostgresStore], shared_database: str, key: bytes
) -> None:
    other = _store(stores, shared_database, secrets.token_bytes(32))
    other.save_state(1, PATH, {**RUNNING, "value": "theirs"})
    refused: list[tuple[int, str]] = []
    mine = _store(stores, shared_database, key, on_unreadable=lambda p, r: refused.append((p, r)))
    mine.save_state(2, PATH, RUNNING)
    assert [process.state["step"] for process in mine.load_all_processes()] == [1]
    assert [pid for pid, _ in refused] == [1]
    assert "the machines' checkpoint keys differ" in refused[0][1]
    assert "WORKACTORS_CHECKPOINT_KEY_FILE" in refused[0][1]
    assert _row(mine, 1)[0] == "failed"
    with pytest.raises(CheckpointKeyMismatchError):
        CheckpointRows(mine.codec, mine.key_id).decode(1, b"x", other.key_id)


def test_a_forged_or_damaged_row_is_refused_and_the_others_go_on(
    stores: list[PostgresStore], shared_database: str, key: bytes
) -> None:
    refused: list[tuple[int, str]] = []
    store = _store(stores, shared_database, key, on_unreadable=lambda p, r: refused.append((p, r)))
    for pid in (1, 2, 3):
        store.save_state(pid, PATH, RUNNING)
    # A forger without the key signs with their own and copies this store's key id.
    forged = CheckpointCodec(secrets.token_bytes(32)).encode(
        Checkpoint(1, PATH, {**RUNNING, "evil": True})
    )
    with store.connection() as connection:
        connection.execute("UPDATE wa_checkpoint SET data = %s WHERE pid = 1", (forged,))
        # One flipped byte in the payload.
        connection.execute(
            "UPDATE wa_checkpoint SET data = overlay(data placing '\\x00'::bytea from "
            "length(data) - 3) WHERE pid = 2"
        )
    loaded = store.load_all_processes()
    assert [process.state["step"] for process in loaded] == [1]
    assert sorted(pid for pid, _ in refused) == [1, 2]
    assert all("failed its signature check" in reason for _, reason in refused)
    assert "It was not unpickled" in dict(refused)[1]
    assert _row(store, 1)[0] == _row(store, 2)[0] == "failed"


def _claim_worker(  # noqa: PLR0917 - a multiprocessing target takes args
    url: str, key: bytes, out: Any, all_submitted: Any, everyone_done: Any, start: Any
) -> None:
    """Claim until a round that began after every submission found nothing; send the pids
    claimed; keep the claims until ``everyone_done`` (released ones would be claimable again).

    A round that finds nothing then proves the queue empty for this worker: every row was
    saved before it began, and a row it skipped (``SKIP LOCKED``) is being claimed by another
    worker. Counting empty rounds instead gave up early on a loaded machine.
    """
    store = PostgresStore(url, key, claim_batch=25)
    claimed: list[int] = []
    try:
        start.wait(120)  # everyone is up: a worker started first must not take all
        while True:
            everything_saved = all_submitted.is_set()
            got = [process.state["pid"] for process in store.load_all_processes()]
            claimed.extend(got)
            if not got and everything_saved:
                break
    finally:
        out.send(claimed)
        everyone_done.wait(120)
        store.close()


def _submitter(url: str, key: bytes, pids: list[int], start: Any) -> None:
    store = PostgresStore(url, key)
    try:
        start.wait(120)
        for pid in pids:
            store.save_state(pid, PATH, {**RUNNING, "pid": pid})
    finally:
        store.close()


@pytest.mark.slow
def test_racing_workers_claim_each_of_a_thousand_queued_processes_exactly_once(
    shared_database: str, key: bytes
) -> None:
    context = multiprocessing.get_context("spawn")
    pids = list(range(1, 1001))
    start = context.Barrier(6)  # two submitters and four workers, each with its store open
    submitters = [
        context.Process(target=_submitter, args=(shared_database, key, pids[half::2], start))
        for half in (0, 1)
    ]
    pipes = [context.Pipe(duplex=False) for _ in range(4)]
    all_submitted, everyone_done = context.Event(), context.Event()
    workers = [
        context.Process(
            target=_claim_worker,
            args=(shared_database, key, sender, all_submitted, everyone_done, start),
        )
        for _reader, sender in pipes
    ]
    for process in (*workers, *submitters):
        process.start()
    for process in submitters:
        process.join(120)
        assert process.exitcode == 0
    all_submitted.set()
    claims = [reader.recv() for reader, _sender in pipes]
    everyone_done.set()
    for process in workers:
        process.join(60)
        assert process.exitcode == 0
    every = [pid for claimed in claims for pid in claimed]
    assert sorted(every) == pids  # each claimed once, none lost
    assert sum(1 for claimed in claims if claimed) >= 2  # they did race


def test_a_lost_claim_fails_its_own_checkpoint_in_a_group_and_the_others_are_written(
    stores: list[PostgresStore], shared_database: str, key: bytes
) -> None:
    stale, fresh = _store(stores, shared_database, key), _store(stores, shared_database, key)
    stale.save_state(1, PATH, RUNNING)
    stale.save_state(2, PATH, RUNNING)
    assert len(stale.load_all_processes()) == 2
    with stale.connection() as connection:  # another worker took process 1 over meanwhile
        connection.execute("UPDATE wa_checkpoint SET epoch = epoch + 1 WHERE pid = 1")
    outcomes = stale.save_states(
        [(1, PATH, {**RUNNING, "step": 7}), (2, PATH, {**RUNNING, "step": 8})]
    )
    assert isinstance(outcomes[0], LeaseLostError)
    assert isinstance(outcomes[1], str)
    assert stale.held_pids == frozenset({2})
    stale.release_all()
    assert fresh.take_over(2).state["step"] == 8
    _expire(stale)  # the row of process 1 still names the stale owner: let its lease run out
    assert fresh.take_over(1).state["step"] == 1  # the lost claim's write changed nothing

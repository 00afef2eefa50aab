"""The DBOS side agrees with the registry and the workactors side, and its table and plots.

``flows.py`` runs in DBOS's own interpreter, so these tests read it as source. The test that
builds the DBOS virtual environment (pip, network) and runs the flows for real is collected
only with ``WORKACTORS_BENCH_NETWORK=1`` (see ``conftest.py``): a fresh machine without network
must not fail ``pytest``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import benchmarks.dbos_peer
from benchmarks import compare, durability
from benchmarks.databases import DATABASES, POSTGRESQL, SQLITE
from benchmarks.figures import RepeatResult, WorkloadResult
from benchmarks.workloads import WORKLOADS, durable, groups
from benchmarks.workloads.shapes import FAN_OUT
from tests.benchmarks.flows_source import constant, workload_keys

FLOWS = Path(benchmarks.dbos_peer.__file__).with_name("flows.py")


def test_the_dbos_flows_have_the_shapes_of_the_workactors_side() -> None:
    assert constant(FLOWS, "STEPS") == durable.STEPS
    assert constant(FLOWS, "FAN_OUT") == FAN_OUT


def test_every_dbos_entry_has_a_flow_and_a_workactors_counterpart_on_each_database() -> None:
    dbos = [w for w in WORKLOADS if w.peer == "dbos"]
    assert workload_keys(FLOWS) == {w.runner_key for w in dbos}
    ours = {(w.name, w.database) for w in WORKLOADS if w.peer == "workactors"}
    for workload in dbos:
        assert (workload.name, workload.database) in ours, workload.key
    assert {w.database for w in dbos} == set(DATABASES)


def test_workactors_and_dbos_workloads_of_a_name_run_as_one_interleaved_group() -> None:
    group = next(g for g in groups(WORKLOADS) if g[0].name == "daemon_fanout")
    assert [w.key for w in group] == [
        "workactors/daemon_fanout:1w",
        "workactors/daemon_fanout:1w@pg",
        "dbos/daemon_fanout",
        "dbos/daemon_fanout@pg",
    ]


def _result(workload_key: str, walls: list[float]) -> WorkloadResult:
    workload = next(w for w in WORKLOADS if w.key == workload_key)
    result = WorkloadResult(workload=workload, iterations=1)
    result.repeat_results.extend(RepeatResult(wall, (wall,)) for wall in walls)
    return result


def test_comparisons_pair_the_same_database_only() -> None:
    results = [
        _result("workactors/daemon_fanout:1w", [1.0, 1.0, 1.0]),
        _result("workactors/daemon_fanout:1w@pg", [2.0, 2.0, 2.0]),
        _result("dbos/daemon_fanout", [4.0, 4.0, 4.0]),
        _result("dbos/daemon_fanout@pg", [1.0, 1.0, 1.0]),
        _result("workactors/workchain_3step", [1.0, 1.0, 1.0]),
    ]
    pairs = compare.compare(results, "dbos", {}, {}, paired_only=True)
    assert [(c.ours.workload.database, c.theirs.workload.database) for c in pairs if c.theirs] == [
        (SQLITE, SQLITE),
        (POSTGRESQL, POSTGRESQL),
    ]
    assert [round(c.ratio, 6) for c in pairs] == [4.0, 0.5]
    assert len(pairs) == 2  # workchain_3step has no DBOS counterpart: left out


def test_the_durability_table_describes_each_side_that_ran_with_live_settings() -> None:
    rows = durability.rows(
        [("workactors", SQLITE), ("dbos", SQLITE), ("dbos", POSTGRESQL), ("dbos", SQLITE)],
        postgres={"server_version": "15", "fsync": "on", "synchronous_commit": "off"},
        dbos_sqlite={"journal_mode": "delete", "synchronous": "FULL"},
    )
    assert [(r["peer"], r["database"]) for r in rows] == [
        ("workactors", SQLITE),
        ("dbos", SQLITE),
        ("dbos", POSTGRESQL),
    ]
    assert "synchronous=NORMAL" in rows[0]["sync"]
    assert "synchronous=FULL" in rows[1]["sync"]
    assert "synchronous_commit=off" in rows[2]["sync"]
    assert durability.build_table(rows).row_count == 3


@pytest.mark.network
def test_the_dbos_peer_builds_its_venv_and_runs_every_flow(tmp_path: Path) -> None:
    from benchmarks.dbos_peer.client import DbosPeer

    peer = DbosPeer(tmp_path / "venv")
    peer.prepare(lambda _text: None)
    assert (peer.version() or "").startswith("3.4.")
    home = tmp_path / "home"
    home.mkdir()
    with peer.session(home, seed=1, database=SQLITE) as session:
        assert session.ready["sqlite"]["synchronous"] == "FULL"
        for key, batch in (
            ("workfunction_add", None),
            ("daemon_steps", 3),
            ("daemon_fanout", 2),
            ("cold_start", None),
        ):
            session.setup(key, batch)
            repeat = session.repeat(range(1, 3), None, sample_threads=False)
            assert len(repeat.latencies) == 2, key
    assert peer.database_files(home)[0].stat().st_size > 0

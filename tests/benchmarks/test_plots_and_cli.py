"""The command line's new options, the curves' figures and the plots, from recorded runs.

``data/`` holds two JSON reports of real runs on this project's development machine (a durable
comparison with DBOS on SQLite and PostgreSQL, and a quick curves run). Plots are drawn from
them with the real matplotlib when it is installed (the ``plot`` extra); without it, the test
checks the one-line error instead, so that ``pytest`` passes either way.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import curves, plots
from benchmarks.__main__ import _databases_wanted, _flatten, _parser, _peers_wanted, main
from benchmarks.figures import RepeatResult, WorkloadResult

DATA = Path(__file__).with_name("data")
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def _load(name: str) -> dict[str, Any]:
    return dict(json.loads((DATA / name).read_text()))


def _args(*argv: str) -> argparse.Namespace:
    return _parser().parse_args(list(argv))


def test_peers_are_asked_for_as_a_comma_list_or_by_repeating_the_flag() -> None:
    assert _peers_wanted(_args("--peer", "aiida,dbos")) == [
        "baseline",
        "workactors",
        "aiida",
        "dbos",
    ]
    assert _peers_wanted(_args("--peer", "dbos", "--peer", "aiida")) == _peers_wanted(
        _args("--peer", "aiida,dbos")
    )
    assert _peers_wanted(_args()) == ["baseline", "workactors"]


def test_an_unknown_peer_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _args("--peer", "aiida,temporal")
    assert exit_info.value.code == 2
    assert "aiida, dbos" in capsys.readouterr().err


def test_databases_default_to_both_and_to_sqlite_when_quick() -> None:
    assert _databases_wanted(_args()) == ["sqlite", "postgresql"]
    assert _databases_wanted(_args("--quick")) == ["sqlite"]
    assert _databases_wanted(_args("--database", "postgresql")) == ["postgresql"]


def test_peer_venvs_and_curve_sizes_parse() -> None:
    args = _args("--peer-venv", "/a", "--peer-venv", "dbos=/b", "--curve-sizes", "1000,100_000")
    assert args.peer_venv == [(None, Path("/a")), ("dbos", Path("/b"))]
    assert args.curve_sizes == [1000, 100_000]
    assert _args().curve_workers == [1, 2, 4]
    assert _flatten([["a", "b"], ["b", "c"]]) == ["a", "b", "c"]
    with pytest.raises(SystemExit):
        _args("--curve-sizes", "0")


def test_curve_points_are_the_daemon_at_each_worker_count_then_each_size() -> None:
    points = curves.workloads([1, 4], [1_000, 100_000], quick=False)
    assert [w.label for w in points] == [
        "daemon_steps:1w",
        "daemon_steps:4w",
        "scale_wait:1k",
        "scale_wait:100k",
    ]
    assert points[3].batch == 100_000
    assert points[3].processes_per_iteration == 200_001


def test_curve_figures_come_from_the_results() -> None:
    workload = curves.workloads([2], [1_000], quick=True)[1]
    result = WorkloadResult(workload=workload, iterations=1)
    result.repeat_results.extend(
        RepeatResult(w, (w,), peak_threads=t) for w, t in ((4, 20), (5, 30), (6, 25))
    )
    result.peak_rss = 50 * 1024 * 1024
    figures = curves.points([result])["scale_wait"][0]
    assert figures["seconds_median"] == 5
    assert (figures["seconds_min"], figures["seconds_max"]) == (4, 6)
    assert figures["peak_threads"] == 30
    assert figures["peak_rss_mb"] == 50.0
    assert curves.build_table(curves.points([result])).row_count == 1


def test_the_recorded_runs_plot_or_say_how_to_install_matplotlib(tmp_path: Path) -> None:
    durable_run = _load("dbos_durable_run.json")
    curves_run = _load("curves_quick_run.json")
    if not HAS_MATPLOTLIB:
        with pytest.raises(plots.PlotError, match=r"pip install -e '\.\[plot\]'"):
            plots.plot_report(durable_run, tmp_path)
        return
    written = plots.plot_report(durable_run, tmp_path / "ratios") + plots.plot_report(
        curves_run, tmp_path / "curves"
    )
    assert sorted(path.name for path in written) == [
        "curves.png",
        "curves.svg",
        "ratios.png",
        "ratios.svg",
    ]
    for path in written:
        assert path.stat().st_size > 10_000
    svg = (tmp_path / "ratios" / "ratios.svg").read_text()
    assert "daemon_fanout:1w (PostgreSQL)" in svg


def test_a_report_without_ratios_or_curves_has_nothing_to_plot(tmp_path: Path) -> None:
    document = {"comparisons": {}, "results": []}
    with pytest.raises(plots.PlotError):
        plots.plot_report(document, tmp_path)


def test_plots_from_a_recorded_json_on_the_command_line(tmp_path: Path) -> None:
    code = plots.main([str(DATA / "curves_quick_run.json"), str(tmp_path)])
    assert code == (0 if HAS_MATPLOTLIB else 2)


def test_list_still_lists_the_dbos_workloads(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list"]) == 0
    listed = capsys.readouterr().out
    assert "daemon_fanout@pg (dbos" in listed
    assert "cold_start@pg (workactors" in listed


def test_quick_leaves_out_only_the_two_worker_daemon() -> None:
    from benchmarks.workloads import WORKLOADS

    assert [w.key for w in WORKLOADS if not w.quick] == ["workactors/daemon_steps:2w"]

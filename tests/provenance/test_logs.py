"""``bound_process``: what a step binds to its log records, and that it leaves nothing behind."""

from __future__ import annotations

import pytest
import structlog

from provenance.logs import _context, bound_process


def test_the_pid_and_runtime_are_bound_in_the_block_and_gone_after_it() -> None:
    with bound_process(7, 42):
        assert _context() == {"pid": 7, "workactors_runtime": 42}
        assert structlog.contextvars.get_contextvars() == {"pid": 7, "workactors_runtime": 42}
    assert _context() == {}
    assert structlog.contextvars.get_contextvars() == {}


def test_an_outer_binding_comes_back_after_an_inner_block_that_raised() -> None:
    seen: list[dict[str, object]] = []

    def inner_step() -> None:
        with bound_process(2, 20):
            seen.append(_context())
            raise RuntimeError("inner step failed")

    with structlog.contextvars.bound_contextvars(pid=1, request="r-1"), bound_process(1, 10):
        with pytest.raises(RuntimeError, match="inner step failed"):
            inner_step()
        assert seen == [{"pid": 2, "workactors_runtime": 20}]
        assert _context() == {"pid": 1, "workactors_runtime": 10}
        assert structlog.contextvars.get_contextvars() == {
            "pid": 1,
            "request": "r-1",
            "workactors_runtime": 10,
        }
    assert structlog.contextvars.get_contextvars() == {}


def test_a_pid_rebound_inside_the_block_does_not_outlive_it() -> None:
    with bound_process(3, 30):
        structlog.contextvars.bind_contextvars(pid=4)
    assert structlog.contextvars.get_contextvars() == {}

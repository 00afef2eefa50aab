"""The outline interpreter: one step per call, positions that are plain, restorable data."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from actors import SpecError, if_, return_, while_
from actors.outline import Outline, Position, Signal


class Walker:
    """Stands in for a work chain: the interpreter only calls its methods."""

    def __init__(self, rounds: int = 2, flag: bool = True) -> None:
        self.trace: list[str] = []
        self.rounds = rounds
        self.flag = flag
        self.count = 0

    def a(self) -> None:
        self.trace.append("a")

    def b(self) -> None:
        self.trace.append("b")

    def c(self) -> None:
        self.trace.append("c")

    def d(self) -> None:
        self.trace.append("d")

    def tick(self) -> None:
        self.count += 1
        self.trace.append(f"tick{self.count}")

    def more(self) -> bool:
        return self.count < self.rounds

    def is_flag(self) -> bool:
        return self.flag

    def is_odd(self) -> bool:
        return self.count % 2 == 1


NESTED = Outline(
    Walker.a,
    while_(Walker.more)(
        Walker.tick,
        if_(Walker.is_odd)(Walker.b, while_(Walker.is_flag)(Walker.c, return_)).else_(Walker.d),
    ),
    Walker.a,
)


def walk(outline: Outline, walker: Any, position: Position = None) -> list[Position]:
    """Run to the end; return the position after every step."""
    positions: list[Position] = []
    while True:
        executed = outline.execute(walker, position)
        if executed.signal is not Signal.STEP:
            return positions
        position = executed.position
        positions.append(position)
        if position is None:
            return positions


def test_each_call_runs_exactly_one_step() -> None:
    walker = Walker(flag=False)
    outline = Outline(Walker.a, Walker.b, Walker.c)
    first = outline.execute(walker, None)
    assert (first.signal, first.step, walker.trace) == (Signal.STEP, "a", ["a"])
    second = outline.execute(walker, first.position)
    assert walker.trace == ["a", "b"]
    last = outline.execute(walker, second.position)
    assert (last.position, walker.trace) == (None, ["a", "b", "c"])


def test_a_while_loop_repeats_its_body_until_its_condition_is_false() -> None:
    walker = Walker(rounds=3)
    walk(Outline(while_(Walker.more)(Walker.tick, Walker.a)), walker)
    assert walker.trace == ["tick1", "a", "tick2", "a", "tick3", "a"]


def test_an_if_without_a_true_branch_or_else_runs_nothing() -> None:
    walker = Walker(flag=False)
    walk(Outline(if_(Walker.is_flag)(Walker.b), Walker.c), walker)
    assert walker.trace == ["c"]


def test_return_ends_the_walk_from_inside_nested_loops() -> None:
    walker = Walker(rounds=5)
    walk(NESTED, walker)
    assert walker.trace == ["a", "tick1", "b", "c"]


def test_without_return_the_nested_outline_runs_to_its_end() -> None:
    walker = Walker(rounds=2, flag=False)
    walk(NESTED, walker)
    assert walker.trace == ["a", "tick1", "b", "tick2", "d", "a"]


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_resuming_from_every_saved_position_gives_the_uninterrupted_walk(protocol: int) -> None:
    reference = Walker(rounds=4, flag=False)
    positions = walk(NESTED, reference)
    for index, position in enumerate(positions):
        if position is None:
            continue
        restored = Walker(rounds=4, flag=False)
        restored.trace = reference.trace[: index + 1]
        restored.count = sum(step.startswith("tick") for step in restored.trace)
        walk(NESTED, restored, pickle.loads(pickle.dumps(position, protocol)))
        assert restored.trace == reference.trace, f"resumed after step {index}"


def test_positions_are_nested_tuples_of_ints() -> None:
    def plain(value: Any) -> bool:
        if value is None or isinstance(value, int):
            return True
        return isinstance(value, tuple) and all(plain(item) for item in value)

    assert all(plain(position) for position in walk(NESTED, Walker(rounds=3, flag=False)))


def test_the_description_and_fingerprint_follow_the_shape() -> None:
    assert NESTED.describe().splitlines() == [
        "a",
        "while_(more):",
        "  tick",
        "  if_(is_odd):",
        "    b",
        "    while_(is_flag):",
        "      c",
        "      return_",
        "  else_:",
        "    d",
        "a",
    ]
    assert NESTED.fingerprint() != Outline(Walker.a).fingerprint()
    assert Outline(Walker.a).fingerprint() == Outline(Walker.a).fingerprint()


def test_a_condition_without_steps_is_refused_with_a_hint() -> None:
    with pytest.raises(SpecError, match="a condition without steps"):
        Outline(if_(Walker.is_flag))


def test_a_non_callable_in_an_outline_is_refused() -> None:
    with pytest.raises(SpecError, match=r"spec\.outline: 'a' is not a step"):
        Outline("a")


def test_an_empty_outline_is_refused() -> None:
    with pytest.raises(SpecError, match="needs at least one step"):
        Outline()


def test_else_must_come_last_and_only_once() -> None:
    branch = if_(Walker.is_flag)(Walker.a).else_(Walker.b)
    with pytest.raises(SpecError, match="elif_ after else_"):
        branch.elif_(Walker.more)(Walker.c)
    with pytest.raises(SpecError, match="else_ given twice"):
        branch.else_(Walker.c)


def test_return_takes_an_exit_code_or_an_int() -> None:
    assert return_(3).exit_code == (3, "", "")
    with pytest.raises(SpecError, match="return_ takes an ExitCode"):
        return_("3")  # type: ignore[arg-type]

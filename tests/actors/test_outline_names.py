"""Outline positions by step names: every position of a nested outline survives the round trip,
and is found again under an outline changed around it."""

from __future__ import annotations

from typing import Any

import pytest

from actors import if_, while_
from actors.outline import Outline, Position, Signal
from actors.outline_names import MissingStepError, named_position, numbered_position


class Walker:
    """Stands for a work chain: the steps count and record themselves."""

    def __init__(self) -> None:
        self.rounds = 0
        self.trace: list[str] = []

    def a(self) -> None:
        self.trace.append("a")

    def b(self) -> None:
        self.rounds += 1
        self.trace.append("b")

    def c(self) -> None:
        self.trace.append("c")

    def d(self) -> None:
        self.trace.append("d")

    def e(self) -> None:
        self.trace.append("e")

    def new(self) -> None:
        self.trace.append("new")

    def more(self) -> bool:
        return self.rounds < 3

    def odd(self) -> bool:
        return self.rounds % 2 == 1


def _outline(*steps: Any) -> Outline:
    return Outline(*steps)


ORIGINAL = _outline(
    Walker.a, while_(Walker.more)(Walker.b, if_(Walker.odd)(Walker.c).else_(Walker.d)), Walker.e
)


def _positions(outline: Outline) -> list[Position]:
    walker, position, seen = Walker(), None, []
    while True:
        executed = outline.execute(walker, position)
        if executed.signal is not Signal.STEP or executed.position is None:
            return seen
        position = executed.position
        seen.append(position)


def test_every_position_of_a_nested_outline_survives_the_round_trip() -> None:
    positions = _positions(ORIGINAL)

    assert len(positions) >= 6
    for position in positions:
        assert numbered_position(ORIGINAL, named_position(ORIGINAL, position)) == position


def test_a_position_inside_a_loop_is_found_under_an_outline_with_a_step_added_before_it() -> None:
    changed = _outline(
        Walker.a,
        Walker.new,
        while_(Walker.more)(Walker.b, if_(Walker.odd)(Walker.c).else_(Walker.d)),
        Walker.e,
    )
    inside = next(position for position in _positions(ORIGINAL) if position[0] == 1 and position[1])

    moved = numbered_position(changed, named_position(ORIGINAL, inside))

    assert moved is not None
    assert moved[0] == 2
    assert moved[1] == inside[1]


def test_a_removed_step_is_named() -> None:
    after_a = _positions(ORIGINAL)[0]
    without_a = _outline(
        while_(Walker.more)(Walker.b, if_(Walker.odd)(Walker.c).else_(Walker.d)), Walker.e
    )

    with pytest.raises(MissingStepError, match=r"^a$"):
        numbered_position(without_a, named_position(ORIGINAL, after_a))

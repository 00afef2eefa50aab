"""Outline positions by step NAMES, so a checkpoint outlives changes to the code.

A position is nested ints (``actors.outline``); a checkpoint also keeps it as names: in each
block the instruction is named by its label (a step's method name, ``if_(cond)``,
``while_(cond)``, ``return_``) and which occurrence of that label it is. Under a changed outline
the names are looked up again. Between two instructions of a block the anchor is the step that
ran last, so steps appended or inserted after it run next; edited bodies change nothing. A name
that is gone raises ``MissingStepError`` naming it.
"""

from __future__ import annotations

from typing import Any

from actors.errors import SpecError
from actors.outline import Outline, Position, _Block, _If, _name, _Return, _Step, _While

NamedPosition = tuple[Any, ...] | None


class MissingStepError(SpecError):
    """A checkpoint's position names a step the outline no longer has."""

    def __init__(self, label: str) -> None:
        super().__init__(label)
        self.label = label


def _label(instruction: Any) -> str:
    if isinstance(instruction, _Step):
        return _name(instruction.method)
    if isinstance(instruction, _While):
        return f"while_({_name(instruction.condition)})"
    if isinstance(instruction, _If):
        return "if_(" + ",".join(_name(condition) for condition, _ in instruction.branches) + ")"
    if isinstance(instruction, _Return):
        return "return_"
    return type(instruction).__name__


def _key(block: _Block, index: int) -> tuple[str, int]:
    label = _label(block.instructions[index])
    occurrence = sum(1 for item in block.instructions[:index] if _label(item) == label)
    return label, occurrence


def _named(instruction: Any, position: Position) -> NamedPosition:
    if position is None:
        return None
    if isinstance(instruction, _Block):
        index, child = position
        # At the start of an instruction, the step that ran last is the anchor: steps inserted
        # after it run next. Inside one (a loop, a branch), the instruction itself is.
        after = _key(instruction, index - 1) if child is None and index > 0 else None
        return (_key(instruction, index), _named(instruction.instructions[index], child), after)
    if isinstance(instruction, _If):
        chosen, child = position
        if chosen == len(instruction.branches):
            branch, block = "else_", instruction.otherwise
        else:
            condition, block = instruction.branches[chosen]
            branch = _name(condition)
        return (branch, _named(block, child))
    if isinstance(instruction, _While):
        return (_named(instruction.body, position[0]),) if position else ()
    return None


def _numbered(instruction: Any, named: NamedPosition) -> Position:
    if named is None:
        return None
    if isinstance(instruction, _Block):
        return _numbered_in_block(instruction, named)
    if isinstance(instruction, _If):
        branch, child = named
        if branch == "else_" and instruction.otherwise is not None:
            return (len(instruction.branches), _numbered(instruction.otherwise, child))
        for index, (condition, block) in enumerate(instruction.branches):
            if _name(condition) == branch:
                return (index, _numbered(block, child))
        raise MissingStepError(f"branch {branch}")
    if isinstance(instruction, _While):
        return (_numbered(instruction.body, named[0]),) if named else ()
    return None


def _numbered_in_block(block: _Block, named: tuple[Any, ...]) -> Position:
    (label, occurrence), child, after = named
    keys = [_key(block, index) for index in range(len(block.instructions))]
    if after is not None:
        if tuple(after) not in keys:
            raise MissingStepError(after[0])
        return (keys.index(tuple(after)) + 1, None)
    if (label, occurrence) not in keys:
        raise MissingStepError(label)
    index = keys.index((label, occurrence))
    return (index, _numbered(block.instructions[index], child))


def named_position(outline: Outline, position: Position) -> NamedPosition:
    """``position`` in ``outline`` as names."""
    return _named(outline._block, position)


def numbered_position(outline: Outline, named: NamedPosition) -> Position:
    """The position in ``outline`` that ``named`` names.

    Raises:
        MissingStepError: naming the first label ``outline`` no longer has.
    """
    return _numbered(outline._block, named)

"""The outline of a WorkChain and the interpreter that walks it one step at a time.

An outline is a tree of instructions: plain steps (methods of the work chain), ``if_`` with
``elif_``/``else_`` branches, ``while_`` loops and ``return_``. Where the walk stands is plain data
(nested tuples of ints), so a checkpoint can save it and a restored process goes on from there
without re-running finished steps or re-evaluating conditions that already chose a branch.

Positions: ``None`` means "at the start of this instruction". A block's position is
``(index, child_position)``; an ``if_``'s is ``(branch, child_position)``; a ``while_``'s is
``(child_position,)`` inside the body and ``()`` when its condition is to be checked again.
"""

from __future__ import annotations

import enum
import hashlib
import inspect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from actors.errors import SpecError
from actors.spec import ExitCode, check_exit_code

Position = tuple[Any, ...] | None
StepMethod = Callable[[Any], Any]
Condition = Callable[[Any], Any]


class Signal(enum.Enum):
    """What happened when the interpreter was asked for the next step."""

    #: A user step ran; more may follow.
    STEP = "step"
    #: The instruction completed without running a step (a false condition, an empty branch).
    DONE = "done"
    #: ``return_`` was reached: the outline stops here.
    RETURN = "return"


class Executed(NamedTuple):
    """The result of running up to one step: the signal, the step's return, the new position.

    ``position`` is None when the instruction completed with this step; ``step`` names the
    method that ran, for error messages.
    """

    signal: Signal
    value: Any
    position: Position
    step: str = ""


class Instruction(Protocol):
    """A node of the outline tree."""

    def execute(self, workchain: Any, position: Position) -> Executed:
        """Run until one user step has run, or this instruction is complete."""
        ...

    def describe(self, indent: str) -> list[str]:
        """Lines of a readable rendering of this instruction."""
        ...


def _name(function: Callable[..., Any]) -> str:
    return getattr(function, "__name__", repr(function))


def _check_callable(item: Any, where: str) -> None:
    """Refuse, at definition, what the engine could not call as ``item(workchain)``."""
    if not callable(item):
        raise SpecError(
            f"{where}: {item!r} is not a step; use work chain methods (cls.step), if_(...), "
            "while_(...) or return_"
        )
    try:
        signature = inspect.signature(item)
    except (TypeError, ValueError):
        return  # a builtin or extension callable without a signature: it will tell at run time
    try:
        signature.bind(object())
    except TypeError:
        raise SpecError(
            f"{where}: {_name(item)}{signature} cannot be called with just the work chain; "
            "steps and conditions are methods taking only self (def step(self): ...)"
        ) from None


@dataclass(frozen=True, slots=True)
class _Step:
    method: StepMethod

    def execute(self, workchain: Any, position: Position) -> Executed:
        del position
        return Executed(Signal.STEP, self.method(workchain), None, _name(self.method))

    def describe(self, indent: str) -> list[str]:
        return [f"{indent}{_name(self.method)}"]


@dataclass(frozen=True, slots=True)
class _Block:
    instructions: tuple[Instruction, ...]

    @classmethod
    def of(cls, items: Sequence[Any], where: str) -> _Block:
        return cls(tuple(_as_instruction(item, where) for item in items))

    def execute(self, workchain: Any, position: Position) -> Executed:
        index, child = position if position is not None else (0, None)
        while index < len(self.instructions):
            executed = self.instructions[index].execute(workchain, child)
            if executed.signal is Signal.DONE:
                index, child = index + 1, None
                continue
            if executed.signal is Signal.RETURN:
                return executed
            if executed.position is not None:
                return executed._replace(position=(index, executed.position))
            if index + 1 < len(self.instructions):
                return executed._replace(position=(index + 1, None))
            return executed
        return Executed(Signal.DONE, None, None)

    def describe(self, indent: str) -> list[str]:
        return [line for item in self.instructions for line in item.describe(indent)]


def _evaluate(condition: Condition, workchain: Any) -> bool:
    """Call a condition; what it returns must say true or false by itself.

    ``bool`` and any type that defines ``__bool__`` (``numpy.bool_``, a number) are read as
    truth values, as plumpy does. ``None`` and values that are true merely for being non-empty
    (a str such as 'false', a list) are refused: they are a forgotten ``return`` or a bug.
    """
    result = condition(workchain)
    if isinstance(result, bool):
        return result
    if result is not None and hasattr(type(result), "__bool__"):
        return bool(result)
    raise SpecError(
        f"condition {type(workchain).__name__}.{_name(condition)} returned "
        f"{type(result).__name__} {result!r}; an outline condition must return True or False "
        "(use bool(...) or a comparison)"
    )


class _IfBuilder:
    """What ``if_(condition)`` returns: call it with the branch's steps."""

    def __init__(self, parent: _If | None, condition: Condition, keyword: str) -> None:
        _check_callable(condition, f"{keyword} condition")
        self._parent = parent
        self._condition = condition
        self._keyword = keyword

    def __call__(self, *steps: Any) -> _If:
        branch = (self._condition, _Block.of(steps, f"{self._keyword}({_name(self._condition)})"))
        if self._parent is None:
            return _If((branch,), None)
        return self._parent._with_branch(branch)


@dataclass(frozen=True, slots=True)
class _If:
    branches: tuple[tuple[Condition, _Block], ...]
    otherwise: _Block | None

    def _with_branch(self, branch: tuple[Condition, _Block]) -> _If:
        if self.otherwise is not None:
            raise SpecError("elif_ after else_: the else_ branch must come last")
        return _If((*self.branches, branch), None)

    def elif_(self, condition: Condition) -> _IfBuilder:
        """Add a branch taken when the earlier conditions were false and this one is true."""
        return _IfBuilder(self, condition, "elif_")

    def else_(self, *steps: Any) -> _If:
        """Add the branch taken when every condition was false."""
        if self.otherwise is not None:
            raise SpecError("else_ given twice for one if_")
        return _If(self.branches, _Block.of(steps, "else_"))

    def _branch(self, index: int) -> _Block:
        return self.otherwise if index == len(self.branches) else self.branches[index][1]  # type: ignore[return-value]

    def execute(self, workchain: Any, position: Position) -> Executed:
        if position is None:
            chosen = next(
                (i for i, (cond, _b) in enumerate(self.branches) if _evaluate(cond, workchain)),
                None,
            )
            if chosen is None:
                if self.otherwise is None:
                    return Executed(Signal.DONE, None, None)
                chosen = len(self.branches)
            child: Position = None
        else:
            chosen, child = position
        executed = self._branch(chosen).execute(workchain, child)
        if executed.signal is Signal.STEP and executed.position is not None:
            return executed._replace(position=(chosen, executed.position))
        return executed._replace(position=None)

    def describe(self, indent: str) -> list[str]:
        lines: list[str] = []
        for number, (condition, block) in enumerate(self.branches):
            keyword = "if_" if number == 0 else "elif_"
            lines.append(f"{indent}{keyword}({_name(condition)}):")
            lines.extend(block.describe(indent + "  "))
        if self.otherwise is not None:
            lines.append(f"{indent}else_:")
            lines.extend(self.otherwise.describe(indent + "  "))
        return lines


class _WhileBuilder:
    def __init__(self, condition: Condition) -> None:
        _check_callable(condition, "while_ condition")
        self._condition = condition

    def __call__(self, *steps: Any) -> _While:
        return _While(self._condition, _Block.of(steps, f"while_({_name(self._condition)})"))


@dataclass(frozen=True, slots=True)
class _While:
    condition: Condition
    body: _Block

    def execute(self, workchain: Any, position: Position) -> Executed:
        child: Position = position[0] if position else None
        while True:
            if child is None and not _evaluate(self.condition, workchain):
                return Executed(Signal.DONE, None, None)
            executed = self.body.execute(workchain, child)
            if executed.signal is Signal.RETURN:
                return executed
            if executed.signal is Signal.STEP:
                after = executed.position
                return executed._replace(position=(after,) if after is not None else ())
            child = None  # the body ran no step this round: check the condition again

    def describe(self, indent: str) -> list[str]:
        return [f"{indent}while_({_name(self.condition)}):", *self.body.describe(indent + "  ")]


class _Return:
    """``return_`` stops the outline; ``return_(exit_code)`` stops it with that exit code."""

    __slots__ = ("exit_code",)

    def __init__(self, exit_code: ExitCode | None = None) -> None:
        self.exit_code = exit_code

    def __call__(self, exit_code: ExitCode | int) -> _Return:
        if isinstance(exit_code, int) and not isinstance(exit_code, bool):
            exit_code = ExitCode(exit_code)
        if not isinstance(exit_code, ExitCode):
            raise SpecError(f"return_ takes an ExitCode or an int status, not {exit_code!r}")
        return _Return(check_exit_code(exit_code, "return_"))

    def execute(self, workchain: Any, position: Position) -> Executed:
        del workchain, position
        return Executed(Signal.RETURN, self.exit_code, None)

    def describe(self, indent: str) -> list[str]:
        suffix = f"({self.exit_code.status})" if self.exit_code else ""
        return [f"{indent}return_{suffix}"]

    def __repr__(self) -> str:
        return "return_" if self.exit_code is None else f"return_({self.exit_code!r})"


def if_(condition: Condition) -> _IfBuilder:
    """Run the following steps only when ``condition`` (a method returning bool) is true.

    ``if_(cls.a)(cls.x).elif_(cls.b)(cls.y).else_(cls.z)``: exactly one branch runs.
    """
    return _IfBuilder(None, condition, "if_")


def while_(condition: Condition) -> _WhileBuilder:
    """Repeat the following steps while ``condition`` (a method returning bool) is true."""
    return _WhileBuilder(condition)


#: Stop the outline here; ``return_(exit_code)`` also sets the exit code.
return_ = _Return()


def _as_instruction(item: Any, where: str) -> Instruction:
    if isinstance(item, _Step | _Block | _If | _While | _Return):
        return item
    if isinstance(item, _IfBuilder | _WhileBuilder):
        raise SpecError(
            f"{where}: a condition without steps; write if_(cls.cond)(cls.step, ...), "
            "with the steps in a second pair of parentheses"
        )
    _check_callable(item, where)
    return _Step(item)


def _callables(instruction: Any) -> Iterator[Callable[..., Any]]:
    """The steps and conditions of ``instruction``, in outline order."""
    if isinstance(instruction, _Step):
        yield instruction.method
    elif isinstance(instruction, _Block):
        for item in instruction.instructions:
            yield from _callables(item)
    elif isinstance(instruction, _If):
        for condition, block in instruction.branches:
            yield condition
            yield from _callables(block)
        if instruction.otherwise is not None:
            yield from _callables(instruction.otherwise)
    elif isinstance(instruction, _While):
        yield instruction.condition
        yield from _callables(instruction.body)


class Outline:
    """The whole outline of a work chain class."""

    __slots__ = ("_block",)

    def __init__(self, *steps: Any) -> None:
        if not steps:
            raise SpecError("spec.outline() needs at least one step")
        self._block = _Block.of(steps, "spec.outline")

    def execute(self, workchain: Any, position: Position) -> Executed:
        """Run the next step from ``position``; see ``Executed``."""
        return self._block.execute(workchain, position)

    def describe(self) -> str:
        """A readable rendering, one instruction per line."""
        return "\n".join(self._block.describe(""))

    def names(self) -> list[str]:
        """The names of its steps and conditions, in outline order."""
        return [_name(item) for item in _callables(self._block)]

    def fingerprint(self) -> str:
        """A short hash of the outline's shape: a checkpoint taken under another outline is
        refused instead of resuming at a position that now means something else."""
        return hashlib.sha256(self.describe().encode()).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"<Outline {self.describe()!r}>"

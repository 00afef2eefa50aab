"""The benchmark workloads written for aiida-core 2.9, in the shapes of the workactors ones.

Imported only by the shared ``benchmarks/venv_peer/runner.py`` inside the aiida-core virtual
environment, never by workactors: ``open_session`` creates the profile the runner works in.
Each entry of ``WORKLOADS`` maps ``name`` or ``name:variant`` (the harness's keys) to a
factory that sets the workload up for a batch size and returns its ``run_once(i)``; like the
workactors side, every iteration checks its result so that a wrong engine cannot look fast.

aiida-core differences that shape the code (and are stated in the report):

- a ``workfunction`` may not create data, so ``workfunction_add[workfunction]`` stores its sum
  itself, and the nested workload's inner process is a ``calcfunction``;
- ``ToContext`` takes one node per key, so the ten children of the fan-out go through
  ``append_``, as on workactors;
- without a broker, a work chain run with ``run`` awaits its children by polling the database
  every ``runner.poll.interval`` seconds (``verdi presto`` sets 1 s; see ``runner.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiida import orm
from aiida.engine import WorkChain, append_, calcfunction, run, while_, workfunction

FAN_OUT = 10
LOOP_COUNT = 10
RunOnce = Callable[[int], None]
PROFILE = "workactors-bench"
# What `verdi presto` sets for a new profile; with no broker it is the period at which a work
# chain polls the database for the end of the children it waits on.
POLL_INTERVAL_S = 1


def open_session(home: Path, _config: dict[str, Any]) -> dict[str, Any]:
    """Create and load a profile in ``home`` (``AIIDA_PATH`` points there); its settings."""
    import aiida
    from aiida.manage.configuration import create_profile, get_config, load_profile

    config = get_config(create=True)
    storage = home / "storage"
    create_profile(
        config,
        name=PROFILE,
        email="bench@localhost",
        storage_backend="core.sqlite_dos",
        storage_config={"filepath": str(storage)},
        broker_backend=None,
        broker_config=None,
    )
    config.set_option("runner.poll.interval", POLL_INTERVAL_S, scope=PROFILE)
    config.set_default_profile(PROFILE, overwrite=True)
    config.store()
    load_profile(PROFILE, allow_switch=True)
    return {
        "aiida_version": aiida.__version__,
        "profile": {
            "storage_backend": "core.sqlite_dos",
            "broker": None,
            "runner.poll.interval": POLL_INTERVAL_S,
            "storage": str(storage),
        },
    }


def _check(what: str, got: int, expected: int) -> None:
    if got != expected:
        raise RuntimeError(f"{what} returned {got}, expected {expected}")


@calcfunction
def add_calc(a: orm.Int, b: orm.Int) -> orm.Int:
    """Workload 1, the aiida-native way: a calcfunction creates the sum."""
    return a + b


@workfunction
def add_work(a: orm.Int, b: orm.Int) -> orm.Int:
    """Workload 1 as a workfunction: it must store the node it returns itself."""
    return orm.Int(a.value + b.value).store()


@calcfunction
def increment(a: orm.Int, b: orm.Int) -> orm.Int:
    """The inner process of workload 2 (a calcfunction: workfunctions cannot create data)."""
    return a + b


@workfunction
def outer(a: orm.Int) -> orm.Int:
    """Workload 2: a workfunction calling another process function once."""
    return increment(a, orm.Int(1))


class ThreeSteps(WorkChain):
    """Workload 3: three steps sharing ``ctx``, one Int out."""

    @classmethod
    def define(cls, spec: Any) -> None:
        """Input x, output y = x + 1."""
        super().define(spec)
        spec.input("x", valid_type=orm.Int)
        spec.output("y", valid_type=orm.Int)
        spec.outline(cls.start, cls.add_one, cls.finish)

    def start(self) -> None:
        """Put x in ctx."""
        self.ctx.value = self.inputs.x.value

    def add_one(self) -> None:
        """Change ctx."""
        self.ctx.value += 1

    def finish(self) -> None:
        """Emit y."""
        self.out("y", orm.Int(self.ctx.value).store())


class Leaf(WorkChain):
    """A one-step child work chain: y = x + 1."""

    @classmethod
    def define(cls, spec: Any) -> None:
        """Input x, output y."""
        super().define(spec)
        spec.input("x", valid_type=orm.Int)
        spec.output("y", valid_type=orm.Int)
        spec.outline(cls.emit)

    def emit(self) -> None:
        """Emit y."""
        self.out("y", orm.Int(self.inputs.x.value + 1).store())


class FanOut(WorkChain):
    """Workload 4: submit ten ``Leaf`` children, gather them through the context."""

    @classmethod
    def define(cls, spec: Any) -> None:
        """Input x, output the sum of the children's outputs."""
        super().define(spec)
        spec.input("x", valid_type=orm.Int)
        spec.output("total", valid_type=orm.Int)
        spec.outline(cls.launch, cls.gather)

    def launch(self) -> None:
        """Submit the children; the next step waits for all of them."""
        base = self.inputs.x.value
        for k in range(FAN_OUT):
            self.to_context(children=append_(self.submit(Leaf, x=orm.Int(base + k))))

    def gather(self) -> None:
        """Sum what the children emitted."""
        total = sum(child.outputs.y.value for child in self.ctx.children)
        self.out("total", orm.Int(total).store())


class Loop(WorkChain):
    """Workload 5: a ``while_`` whose body runs ten times."""

    @classmethod
    def define(cls, spec: Any) -> None:
        """Input x, output y = x + 10."""
        super().define(spec)
        spec.input("x", valid_type=orm.Int)
        spec.output("y", valid_type=orm.Int)
        spec.outline(cls.start, while_(cls.more)(cls.body), cls.finish)

    def start(self) -> None:
        """Start counting."""
        self.ctx.count = 0
        self.ctx.value = self.inputs.x.value

    def more(self) -> bool:
        """True ten times."""
        return bool(self.ctx.count < LOOP_COUNT)

    def body(self) -> None:
        """One turn."""
        self.ctx.count += 1
        self.ctx.value += 1

    def finish(self) -> None:
        """Emit y."""
        self.out("y", orm.Int(self.ctx.value).store())


class Waiter(WorkChain):
    """Workload 7's unit: a work chain that waits on one child."""

    @classmethod
    def define(cls, spec: Any) -> None:
        """Input x, output the child's y."""
        super().define(spec)
        spec.input("x", valid_type=orm.Int)
        spec.output("y", valid_type=orm.Int)
        spec.outline(cls.launch, cls.finish)

    def launch(self) -> None:
        """Submit the child and wait for it."""
        self.to_context(child=self.submit(Leaf, x=self.inputs.x))

    def finish(self) -> None:
        """Pass the child's output on."""
        self.out("y", self.ctx.child.outputs.y)


class Driver(WorkChain):
    """Launches ``n`` waiters at once, so that all of them wait concurrently."""

    @classmethod
    def define(cls, spec: Any) -> None:
        """Input n, output the sum of the waiters' outputs."""
        super().define(spec)
        spec.input("n", valid_type=orm.Int)
        spec.input("base", valid_type=orm.Int)
        spec.output("total", valid_type=orm.Int)
        spec.outline(cls.launch, cls.gather)

    def launch(self) -> None:
        """Submit every waiter in one step."""
        base = self.inputs.base.value
        for k in range(self.inputs.n.value):
            self.to_context(waiters=append_(self.submit(Waiter, x=orm.Int(base + k))))

    def gather(self) -> None:
        """Sum the waiters' outputs."""
        total = sum(waiter.outputs.y.value for waiter in self.ctx.waiters)
        self.out("total", orm.Int(total).store())


def _add_calc(_batch: int | None) -> RunOnce:
    def run_once(i: int) -> None:
        _check(f"add_calc({i}, 1)", add_calc(orm.Int(i), orm.Int(1)).value, i + 1)

    return run_once


def _add_work(_batch: int | None) -> RunOnce:
    def run_once(i: int) -> None:
        _check(f"add_work({i}, 1)", add_work(orm.Int(i), orm.Int(1)).value, i + 1)

    return run_once


def _nested(_batch: int | None) -> RunOnce:
    def run_once(i: int) -> None:
        _check(f"outer({i})", outer(orm.Int(i)).value, i + 1)

    return run_once


def _three_steps(_batch: int | None) -> RunOnce:
    def run_once(i: int) -> None:
        _check(f"ThreeSteps(x={i})", run(ThreeSteps, x=orm.Int(i))["y"].value, i + 1)

    return run_once


def _fan_out(_batch: int | None) -> RunOnce:
    def run_once(i: int) -> None:
        base = i * FAN_OUT
        expected = sum(base + k + 1 for k in range(FAN_OUT))
        _check(f"FanOut(x={base})", run(FanOut, x=orm.Int(base))["total"].value, expected)

    return run_once


def _loop(_batch: int | None) -> RunOnce:
    def run_once(i: int) -> None:
        _check(f"Loop(x={i})", run(Loop, x=orm.Int(i))["y"].value, i + LOOP_COUNT)

    return run_once


def run_driver(n: int, base: int) -> None:
    """One batch of ``n`` waiters, checked."""
    expected = sum(base + k + 1 for k in range(n))
    outputs = run(Driver, n=orm.Int(n), base=orm.Int(base))
    _check(f"Driver(n={n})", outputs["total"].value, expected)


def _scale(batch: int | None) -> RunOnce:
    if batch is None or batch < 1:
        raise ValueError("scale_wait needs a batch of at least one work chain")
    # Warm-up with a small batch (the same rule as on workactors): first-call costs only.
    run_driver(min(batch, 20), base=-(10**9))

    def run_once(i: int) -> None:
        run_driver(batch, base=i * batch)

    return run_once


WORKLOADS: dict[str, Callable[[int | None], RunOnce]] = {
    "workfunction_add:calcfunction": _add_calc,
    "workfunction_add:workfunction": _add_work,
    "workfunction_nested": _nested,
    "workchain_3step": _three_steps,
    "workchain_fanout": _fan_out,
    "workchain_while": _loop,
    "scale_wait": _scale,
}

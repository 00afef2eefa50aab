"""``ProcessDriver``: the decisions of one process, in the order its actor must carry them out.

The driver does no I/O, so these tests feed it events and read its commands directly; the
actor that carries them out is tested through the runtime everywhere else.
"""

from __future__ import annotations

import contextlib

from actors import ProcessState
from actors.driver import (
    Checkpoint,
    CheckpointFailed,
    End,
    KillChildren,
    Passivate,
    ProcessDriver,
    Record,
    RequestStep,
    Subscribe,
    Subscribed,
    Unsubscribe,
)
from actors.process_messages import Continue, Kill, Pause, Play, Start, Suspend
from actors.registry_messages import ChildTerminated
from actors.test_utils import DummyProcess
from actors.workchain import WorkChain, WorkChainSpec
from provenance import Int


class TwoSteps(WorkChain):
    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.output("n", valid_type=Int)
        spec.outline(cls.first, cls.second)

    def first(self) -> None:
        self.ctx.n = 1

    def second(self) -> None:
        self.out("n", Int(self.ctx.n + 1))


class Waits(WorkChain):
    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.outline(cls.wait, cls.after)

    def wait(self) -> None:
        self.insert_barrier(101)
        self.insert_barrier(102)

    def after(self) -> None:
        pass


def driver_of(process: WorkChain | DummyProcess, *, durable: bool = True, paused: bool = False):
    return ProcessDriver(process, contextlib.nullcontext, durable=durable, paused=paused)


def test_a_durable_step_is_checkpointed_before_the_next_is_asked_for() -> None:
    driver = driver_of(TwoSteps())

    commands = driver.handle(Start())

    assert commands[-2:] == [Checkpoint(), RequestStep()]
    assert isinstance(commands[0], Record)  # RUNNING recorded first


def test_the_last_step_ends_the_process_in_one_end_command() -> None:
    driver = driver_of(TwoSteps())
    driver.handle(Start())

    (end,) = driver.handle(Continue())

    assert end == End(ProcessState.FINISHED, None)
    assert driver.process.state is ProcessState.FINISHED
    assert driver.handle(Continue()) == []  # nothing after the end


def test_a_paused_process_runs_no_step_until_played() -> None:
    driver = driver_of(TwoSteps(), paused=True)
    assert driver.started() == [Record((driver.process.node.set_process_attributes(),))]

    commands = driver.handle(Start())
    assert not any(isinstance(command, Checkpoint) for command in commands)
    assert driver.process.ctx.get("n") is None

    played = driver.handle(Play())
    assert played[-1] == RequestStep()
    assert driver.handle(Pause())[0] == Record((driver.process.node.set_process_attributes(),))


def test_a_wait_subscribes_and_checkpoints_before_it_passivates() -> None:
    driver = driver_of(Waits())
    commands = driver.handle(Start())
    assert commands[-1] == Subscribe(frozenset({101, 102}), remote=True)

    answer = Subscribed(((101, None, None, None), (102, None, None, None)))
    after = driver.handle(answer)

    assert [type(command).__name__ for command in after] == ["Checkpoint", "Passivate"]


def test_an_awaited_child_found_ended_releases_the_waiter_at_once() -> None:
    driver = driver_of(Waits())
    driver.handle(Start())
    ended = ProcessState.FINISHED

    after = driver.handle(Subscribed(((101, ended, None, None), (102, None, ended, None))))

    assert after[0] == Unsubscribe(102)  # found in the database: the remote wait is dropped
    assert after[-2:] == [Checkpoint(), RequestStep()]
    assert driver.process.state is ProcessState.RUNNING


def test_the_waiter_goes_on_only_when_its_last_child_ends() -> None:
    driver = driver_of(Waits())
    driver.handle(Start())
    driver.handle(Subscribed(((101, None, None, None), (102, None, None, None))))

    assert driver.handle(ChildTerminated(101, ProcessState.FINISHED)) == []
    assert driver.handle(ChildTerminated(102, ProcessState.FINISHED))[-1] == RequestStep()


def test_a_wait_on_a_process_not_running_here_fails_an_ephemeral_runtime() -> None:
    driver = driver_of(Waits(), durable=False)
    driver.handle(Start())

    (end,) = driver.handle(Subscribed(((101, None, None, None),)))

    assert isinstance(end, End)
    assert end.state is ProcessState.EXCEPTED
    assert "is not running in this runtime" in str(end.error)


def test_a_kill_kills_the_children_first_then_ends() -> None:
    driver = driver_of(Waits())
    driver.handle(Start())

    kill_children, end = driver.handle(Kill("enough"))

    assert isinstance(kill_children, KillChildren)
    assert "was killed: enough" in kill_children.message
    assert isinstance(end, End)
    assert end.state is ProcessState.KILLED


def test_a_failed_checkpoint_ends_the_process_excepted_without_another_checkpoint() -> None:
    driver = driver_of(TwoSteps())
    driver.handle(Start())

    (end,) = driver.handle(CheckpointFailed(OSError("disk full")))

    assert end.state is ProcessState.EXCEPTED
    assert end.checkpoint is False


def test_a_suspended_process_ignores_what_comes_after() -> None:
    driver = driver_of(DummyProcess())

    assert [type(command).__name__ for command in driver.handle(Suspend())] == ["Stop"]
    assert driver.handle(Start()) == []


def test_a_waiter_whose_children_all_run_here_is_passivated_on_all_of_them() -> None:
    driver = driver_of(Waits())
    driver.handle(Start())

    after = driver.handle(Subscribed(()))  # both live here: nothing gone

    assert after[-1] == Passivate(frozenset({101, 102}))

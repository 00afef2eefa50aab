"""``Reply``: the one-shot answer a writer waits for."""

import threading

import pytest

from provenance.actor_messages import Reply


def test_a_waiter_on_another_thread_gets_the_answer() -> None:
    reply: Reply[int] = Reply()
    got: list[int] = []
    waiter = threading.Thread(target=lambda: got.append(reply.result(timeout=10)))
    waiter.start()
    reply.set_result(7)
    waiter.join(timeout=10)
    assert got == [7]


def test_an_answered_reply_answers_every_later_call_at_once() -> None:
    reply: Reply[str] = Reply()
    assert not reply.done()
    reply.set_result("pks")
    assert reply.done()
    assert reply.result(timeout=0) == "pks"
    assert reply.result() == "pks"


def test_an_error_is_raised_to_the_waiter_each_time_it_asks() -> None:
    reply: Reply[None] = Reply()
    reply.set_exception(ValueError("refused"))
    for _ in range(2):
        with pytest.raises(ValueError, match="refused"):
            reply.result(timeout=0)


def test_no_answer_in_time_is_a_timeout_error() -> None:
    with pytest.raises(TimeoutError, match=r"did not answer within 0\.01 s"):
        Reply[int]().result(timeout=0.01)


def test_a_reply_is_answered_once() -> None:
    reply: Reply[int] = Reply()
    reply.set_result(1)
    with pytest.raises(RuntimeError, match="answered already"):
        reply.set_exception(ValueError("late"))
    assert reply.result(timeout=0) == 1


def test_done_stays_true_while_a_waiter_reads_the_answer() -> None:
    """``done`` is what the actor checks before answering a write whose update failed; it must
    not read a waiter's brief hold of the lock as 'not answered yet'."""
    reply: Reply[int] = Reply()
    reply.set_result(3)
    stop = threading.Event()

    def read_again_and_again() -> None:
        while not stop.is_set():
            reply.result(timeout=1)

    reader = threading.Thread(target=read_again_and_again)
    reader.start()
    try:
        assert all(reply.done() for _ in range(20_000))
    finally:
        stop.set()
        reader.join(timeout=10)

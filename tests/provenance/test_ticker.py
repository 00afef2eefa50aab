"""``Ticker``: one call back per arming, however often it is armed meanwhile."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from provenance.ticker import Ticker


class Calls:
    """Counts call backs and lets a test wait for the n-th."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = threading.Condition()

    def __call__(self) -> None:
        with self._changed:
            self.count += 1
            self._changed.notify_all()

    def wait_for(self, count: int) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.count >= count, timeout=10)


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def ticker(calls: Calls) -> Iterator[Ticker]:
    ticker = Ticker(0.01, calls, "test-ticker")
    yield ticker
    ticker.close()


def test_arming_calls_back_once_after_the_delay(ticker: Ticker, calls: Calls) -> None:
    ticker.arm()
    assert calls.wait_for(1)
    assert calls.count == 1


def test_closing_drops_a_pending_call_back_however_often_it_was_armed(calls: Calls) -> None:
    ticker = Ticker(60.0, calls, "test-ticker")  # armed for the whole test
    for _ in range(100):
        ticker.arm()
    ticker.close()
    assert calls.count == 0


def test_arming_after_the_call_back_calls_back_again(ticker: Ticker, calls: Calls) -> None:
    ticker.arm()
    assert calls.wait_for(1)
    ticker.arm()
    assert calls.wait_for(2)


def test_every_arming_is_followed_by_a_call_back(ticker: Ticker, calls: Calls) -> None:
    # Armings racing the ticker's thread as it disarms: none is left without a call back.
    for round_ in range(1, 51):
        before = calls.count
        ticker.arm()
        assert calls.wait_for(before + 1), f"no call back after arming in round {round_}"

"""A reusable one-shot delay: one thread per owner instead of one ``threading.Timer`` per use.

The provenance actor arms it after a write nobody waits for; when the delay has passed it calls
back once (the actor then commits). Starting a thread per arming cost more than the commit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Ticker:
    """Calls ``callback`` ``delay`` seconds after ``arm()``; arming while armed does nothing."""

    def __init__(self, delay: float, callback: Callable[[], None], name: str) -> None:
        self._delay = delay
        self._callback = callback
        self._condition = threading.Condition()
        self._armed = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def arm(self) -> None:
        """Call back after the delay, unless already armed."""
        if self._armed:
            # Armed already: the callback is still to come (it disarms before calling back),
            # so whatever the caller did before arming is covered without taking the lock.
            return
        with self._condition:
            if not self._armed:
                self._armed = True
                self._condition.notify()

    def close(self) -> None:
        """Stop the thread; a pending callback is dropped."""
        with self._condition:
            self._closed = True
            self._condition.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._armed or self._closed)
                if self._closed:
                    return
                # Wait out the delay unless closed meanwhile.
                if self._condition.wait_for(lambda: self._closed, timeout=self._delay):
                    return
                self._armed = False
            self._callback()

"""Sizes that define the shape of the work chain workloads, shared by the engine sides.

``benchmarks/aiida_peer/flows.py`` keeps its own copy (it runs in aiida-core's interpreter,
which cannot import this package); ``tests/benchmarks`` checks that the copies agree.
"""

from __future__ import annotations

#: Children a ``FanOut`` work chain submits.
FAN_OUT = 10
#: Children a ``Pair`` work chain submits (workactors only: issue 9's messages per chain).
PAIR = 2
#: Turns of the ``while_`` loop in ``Loop``.
LOOP_COUNT = 10

"""Tests that need the network (pip installing a peer) are collected only when asked for.

``WORKACTORS_BENCH_NETWORK=1 pytest tests/benchmarks -m network`` runs them; without the
variable they are deselected (not skipped), so that ``pytest`` passes on a machine without
network access.
"""

from __future__ import annotations

import os

import pytest

NETWORK_ENV = "WORKACTORS_BENCH_NETWORK"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect ``network`` tests unless ``WORKACTORS_BENCH_NETWORK=1``."""
    if os.environ.get(NETWORK_ENV) == "1":
        return
    deselected = [item for item in items if item.get_closest_marker("network")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("network")]

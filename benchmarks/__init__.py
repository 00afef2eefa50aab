"""Benchmarks of workactors, built to compare engines on the same workloads.

``python -m benchmarks`` runs every registered workload on every available peer (engine) and
prints one table. Workloads (``benchmarks.workloads``) and peers (``benchmarks.peers``) are
registries rather than code paths in the harness, so that adding aiida-core later means adding a
peer and its implementations of the same workload names, not touching the timing or reporting.
"""

from __future__ import annotations

__all__: list[str] = []

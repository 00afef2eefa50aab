"""Benchmarks of workactors, built to compare engines on the same workloads.

``python -m benchmarks`` runs every registered workload on every default peer (the primitives'
baseline and workactors) and prints one table; ``--peer aiida`` adds aiida-core 2.9, run in its
own virtual environment, with repeats interleaved and the ratios in a second table. Workloads
(``benchmarks.workloads``) and peers (``benchmarks.peers``) are registries rather than code
paths in the harness: a new engine is a peer plus its implementations of the same workload
names, and the timing and reporting stay as they are.
"""

from __future__ import annotations

__all__: list[str] = []

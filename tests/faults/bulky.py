"""A work chain whose checkpoint outgrows a small file size limit (an importable class)."""

from __future__ import annotations

from actors import WorkChain
from actors.workchain import WorkChainSpec

BLOB_BYTES = 8 << 20


class Bulky(WorkChain):
    """Puts 8 MB into ctx in its first step, so the checkpoint after it cannot be written."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.outline(cls.grow, cls.never)

    def grow(self) -> None:
        self.ctx.blob = "x" * BLOB_BYTES

    def never(self) -> None:
        raise AssertionError("the checkpoint after grow cannot be written")

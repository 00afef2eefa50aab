"""``python -m actors.cli``, the same as the ``workactors`` console script."""

from __future__ import annotations

from actors.cli import main

main()

"""Durable processes: checkpoints and reentrant file locks (see the durable-processes issue)."""

__all__: list[str] = []

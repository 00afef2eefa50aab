"""The error of the legacy adapters, under ``ActorError``."""

from __future__ import annotations

from actors.errors import ActorError


class LegacyWorkflowError(ActorError, RuntimeError):
    """A legacy workflow was used in a way its API does not allow."""

"""Intents: pause, play or kill asked for a process that no runtime holds right now.

Where an intent is kept is the checkpoint store's business (``CheckpointStore.record_intent`` and
``take_intent``); these are the file store's functions, for the CLI that writes into a home.
"""

from persistence.intents import (
    INTENT_SUFFIX,
    Action,
    Intent,
    intent_path,
    read_intent,
    take_intent,
    write_intent,
)

__all__ = [
    "INTENT_SUFFIX",
    "Action",
    "Intent",
    "intent_path",
    "read_intent",
    "take_intent",
    "write_intent",
]

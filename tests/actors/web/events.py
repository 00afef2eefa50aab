"""Reading server-sent events from a real server in tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx


def sse_events(answer: httpx.Response) -> Iterator[tuple[str, str]]:
    """The (event, data) pairs of an event stream as they arrive; comments are skipped."""
    event, data = "message", []
    for line in answer.iter_lines():
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "message", []
        elif line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data.append(line.removeprefix("data: "))

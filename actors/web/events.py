"""Server-sent event streams of the live pages: the process list (with the page's filters)
and one process. Each sends HTML fragments rendered by the same templates as the pages."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from actors.web import reads
from actors.web.filters import ProcessFilter
from actors.web.live import fragment_stream
from actors.web.security import signed_in
from actors.web.state import path_pk, web_state

_HEADERS = {"cache-control": "no-store", "x-accel-buffering": "no"}


def _stream(request: Request, render: Callable[[], str], event: str) -> Response:
    state = web_state(request)
    stream = fragment_stream(state.watcher, render, event)
    return StreamingResponse(stream, media_type="text/event-stream", headers=_HEADERS)


def process_list_events(request: Request) -> Response:
    """``/events/processes?filters``: the list's table each time it changes."""
    state = web_state(request)
    chosen = ProcessFilter.from_query(request.query_params)
    can_write = signed_in(request, state.settings)
    template = state.templates.get_template("_process_table.html")

    def render() -> str:
        listing = reads.processes(state.runtime, chosen)
        return template.render(listing=listing, chosen=chosen, can_write=can_write)

    return _stream(request, render, "table")


def process_events(request: Request) -> Response:
    """``/events/processes/{pk}``: the body of a process page each time it changes."""
    state = web_state(request)
    pk = path_pk(request)
    reads.process(state.runtime, pk)  # an unknown pk is a 404 now, not an empty stream
    template = state.templates.get_template("_process_body.html")

    def render() -> str:
        return template.render(view=reads.process(state.runtime, pk))

    return _stream(request, render, "body")

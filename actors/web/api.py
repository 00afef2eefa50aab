"""The JSON API behind the pages, and the writes (pause, play, kill) the pages' buttons send.

Reads answer the CLI's ``--json`` documents (``actors.cli.jsonout``), so scripts see one shape
whichever they use. Writes are ``POST`` and pass ``security.check_write`` first.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from actors.cli import jsonout
from actors.cli.control import Outcome, control_one
from actors.cli.daemon_status import status_json
from actors.control import Action
from actors.web import reads
from actors.web.bodies import JSON, form_fields, json_object, media_type
from actors.web.errors import BadRequestError
from actors.web.filters import ProcessFilter
from actors.web.pages import page
from actors.web.security import CSRF_FIELD, check_write
from actors.web.state import MAX_PK, path_pk, web_state

#: Most pks one write may name.
MAX_SELECTION = 1_000
#: Longest kill message accepted.
MAX_MESSAGE = 1_000


def processes(request: Request) -> Response:
    """``GET /api/processes``: one page of processes, newest first, with the page's numbers
    (``more``: the count stopped, at least ``total`` match)."""
    chosen = ProcessFilter.from_query(request.query_params)
    listing = reads.processes(web_state(request).runtime, chosen)
    return JSONResponse(
        {
            "total": listing.total,
            "more": listing.more,
            "page": chosen.page,
            "per_page": chosen.per_page,
            "pages": listing.pages,
            "processes": [jsonout.process_summary(node) for node in listing.processes],
        }
    )


def process(request: Request) -> Response:
    """``GET /api/processes/{pk}``: what ``process show --json`` prints, and the report tree."""
    shown = reads.process(web_state(request).runtime, path_pk(request))
    return JSONResponse(
        {**jsonout.process_detail(shown.detail), "report": jsonout.process_report(shown.tree)}
    )


def node(request: Request) -> Response:
    """``GET /api/nodes/{pk}``: what ``node show --json`` prints."""
    return JSONResponse(
        jsonout.node_detail(reads.node(web_state(request).runtime, path_pk(request)))
    )


def daemon(request: Request) -> Response:
    """``GET /api/daemon``: ``daemon status --json`` and the checkpoints in ``running/failed``."""
    found = reads.daemon(web_state(request).runtime)
    return JSONResponse(
        {
            **status_json(found.seen),
            "failed_checkpoints": [jsonout.failed_checkpoint(c) for c in found.failed],
            "shared_database_workers": found.shared_workers,
        }
    )


def _action(request: Request) -> Action:
    name = request.path_params["action"]
    try:
        return Action(name)
    except ValueError:
        known = ", ".join(action.value for action in Action)
        raise BadRequestError(f"{name!r} is not an action; use one of {known}") from None


def _pk(value: Any) -> int:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise BadRequestError(f"pks: {value!r} is not an integer pk") from None
    if not 0 < pk <= MAX_PK:
        raise BadRequestError(f"pks: {pk} is not a valid pk")
    return pk


async def _body(request: Request) -> tuple[list[int], str | None, str]:
    """The pks, message and CSRF token of a write, from a JSON body or a form."""
    if media_type(request) == JSON:
        document = await json_object(request)
        pks, message, csrf = document.get("pks", []), document.get("message"), ""
        if not isinstance(pks, list):
            raise BadRequestError('pks: give a list of pks, such as {"pks": [3, 4]}')
    else:
        fields = await form_fields(request)
        pks = fields.get("pks", [])
        message = next(iter(fields.get("message", [])), "").strip() or None
        csrf = next(iter(fields.get(CSRF_FIELD, [])), "")
    if isinstance(message, str) and not message.strip():
        message = None
    if message is not None and (not isinstance(message, str) or len(message) > MAX_MESSAGE):
        raise BadRequestError(f"message: give text of at most {MAX_MESSAGE} characters")
    return [_pk(pk) for pk in pks], message, csrf


async def control(request: Request) -> Response:
    """``POST /api/processes/{action}`` (pks in the body) and ``POST
    /api/processes/{pk}/{action}``: pause, play or kill, one outcome per pk.

    The status is 409 if any pk could not be reached (each outcome says why). A form posted
    without JavaScript gets a page of the outcomes; anything else gets JSON.
    """
    state = web_state(request)
    action = _action(request)
    pks, message, csrf = await _body(request)
    check_write(request, state.settings, csrf)
    if "pk" in request.path_params:
        pks = [path_pk(request)]
    if not pks:
        raise BadRequestError(f"select at least one process to {action.value}")
    if len(pks) > MAX_SELECTION:
        raise BadRequestError(f"at most {MAX_SELECTION} pks in one request, not {len(pks)}")
    outcomes: list[Outcome] = await run_in_threadpool(
        lambda: [control_one(state.runtime, pk, action, message) for pk in dict.fromkeys(pks)]
    )
    status = 409 if any(outcome.failed for outcome in outcomes) else 200
    if _wants_html(request):
        return page(request, "outcomes.html", status=status, outcomes=outcomes, action=action)
    return JSONResponse([outcome.as_json() for outcome in outcomes], status_code=status)


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept

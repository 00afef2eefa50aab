"""The HTML pages: the process list, one process, one node with its graph, the daemon, and
signing in. Each reads through ``actors.web.reads`` and renders an autoescaped template."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from actors.cli.queries import NotAProcessError
from actors.web import reads
from actors.web.bodies import form_fields
from actors.web.errors import BadRequestError, ForbiddenError
from actors.web.filters import ProcessFilter
from actors.web.graphs import DEFAULT_DEPTH, MAX_DEPTH, graph_svg, inline_svg
from actors.web.security import same_origin, set_token_cookie, signed_in
from actors.web.state import path_pk, web_state
from provenance import ProcessState


def page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    """Render ``template`` with what every page needs (sign-in state, CSRF token)."""
    state = web_state(request)
    can_write = signed_in(request, state.settings)
    return state.templates.TemplateResponse(
        request,
        template,
        {
            "can_write": can_write,
            "csrf": state.settings.csrf_token if can_write else "",
            "states": list(ProcessState),
            **context,
        },
        status_code=status,
    )


def processes_page(request: Request) -> Response:
    """``/``: the filtered process list, updated live."""
    chosen = ProcessFilter.from_query(request.query_params)
    listing = reads.processes(web_state(request).runtime, chosen)
    return page(request, "processes.html", listing=listing, chosen=chosen)


def process_page(request: Request) -> Response:
    """``/processes/{pk}``: one process, its data, call tree and report, updated live."""
    pk = path_pk(request)
    try:
        shown = reads.process(web_state(request).runtime, pk)
    except NotAProcessError:
        return RedirectResponse(f"/nodes/{pk}", status_code=303)  # a data node has its page
    return page(request, "process.html", view=shown)


def graph_depth(request: Request) -> int:
    """The ``?depth=`` of a graph.

    Raises:
        BadRequestError: for anything but an integer from 0 to ``MAX_DEPTH``.
    """
    value = request.query_params.get("depth", str(DEFAULT_DEPTH))
    if not value.isdigit() or int(value) > MAX_DEPTH:
        raise BadRequestError(f"depth: {value!r} is not an integer from 0 to {MAX_DEPTH}")
    return int(value)


def node_page(request: Request) -> Response:
    """``/nodes/{pk}``: any node, its attributes and links, and its graph to click through."""
    runtime = web_state(request).runtime
    pk, depth = path_pk(request), graph_depth(request)
    detail = reads.node(runtime, pk)
    with runtime.storage.read_session() as session:
        svg = inline_svg(graph_svg(session, pk, depth))
    return page(request, "node.html", detail=detail, svg=svg, depth=depth, max_depth=MAX_DEPTH)


def node_graph(request: Request) -> Response:
    """``/nodes/{pk}/graph.svg``: the graph alone, each node a link to its page."""
    runtime = web_state(request).runtime
    pk, depth = path_pk(request), graph_depth(request)
    with runtime.storage.read_session() as session:
        svg = graph_svg(session, pk, depth)
    return Response(svg, media_type="image/svg+xml")


def daemon_page(request: Request) -> Response:
    """``/daemon``: workers, their OS pids and what each holds; checkpoints waiting or failed."""
    return page(request, "daemon.html", daemon=reads.daemon(web_state(request).runtime))


def login_page(request: Request) -> Response:
    """``/login``: a form for the token."""
    return page(request, "login.html", error="")


async def login(request: Request) -> Response:
    """``POST /login``: check the token and sign the browser in with a cookie."""
    settings = web_state(request).settings
    if not same_origin(request):
        raise ForbiddenError("refused: the sign-in form was not sent from this dashboard")
    token = next(iter((await form_fields(request)).get("token", [])), "")
    if not settings.token_matches(token.strip()):
        return page(request, "login.html", status=403, error="That is not the token.")
    response = RedirectResponse("/", status_code=303)
    set_token_cookie(response, settings)
    return response


def logout(request: Request) -> Response:
    """``POST /logout``: forget the cookie (same origin only, so no page elsewhere can)."""
    if not same_origin(request):
        raise ForbiddenError("refused: the sign-out form was not sent from this dashboard")
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(web_state(request).settings.cookie_name, path="/")
    return response

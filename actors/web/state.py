"""What every request handler of one dashboard shares: its settings, runtime, templates and
change watcher, kept on ``app.state`` and read back typed."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.templating import Jinja2Templates

from actors.runtime import Runtime
from actors.web.live import ChangeWatcher
from actors.web.settings import WebSettings
from provenance.errors import NotExistentError

#: The largest pk a URL may name: SQLite and PostgreSQL integers are 64-bit.
MAX_PK = 2**63 - 1


@dataclass(slots=True)
class WebState:
    """One dashboard's shared objects."""

    settings: WebSettings
    runtime: Runtime
    templates: Jinja2Templates
    watcher: ChangeWatcher


def web_state(request: Request) -> WebState:
    """The shared objects of the dashboard serving ``request``."""
    found: WebState = request.app.state.web
    return found


def path_pk(request: Request) -> int:
    """The ``{pk}`` of the path, within the range a database can hold.

    Raises:
        NotExistentError: for a pk no database can hold (as for any unknown pk).
    """
    pk: int = request.path_params["pk"]
    if not 0 < pk <= MAX_PK:
        raise NotExistentError(f"no node with pk {pk} in the provenance database")
    return pk

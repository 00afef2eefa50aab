"""The OpenAPI description of the JSON API, served at ``/api/openapi.json``.

Starlette gives no schema of its own, so the routes are described here, next to nothing else,
and a test checks that every ``/api/`` route is described.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

_PK = {"name": "pk", "in": "path", "required": True, "schema": {"type": "integer"}}
_ERROR = {"description": 'An error: `{"error": message, "status": code}`'}
_FILTERS = [
    {
        "name": "state",
        "in": "query",
        "schema": {"type": "string"},
        "description": "created, running, waiting, finished, excepted or killed",
    },
    {
        "name": "class",
        "in": "query",
        "schema": {"type": "string"},
        "description": "part of the process class or function name (case-insensitive)",
    },
    {
        "name": "label",
        "in": "query",
        "schema": {"type": "string"},
        "description": "part of the node label (case-insensitive)",
    },
    {
        "name": "exit_status",
        "in": "query",
        "schema": {"type": "string"},
        "description": "an integer, or `failed` for any non-zero status",
    },
    {
        "name": "since",
        "in": "query",
        "schema": {"type": "string"},
        "description": "created at or after: ISO 8601 time, or an age such as 30m, 2h, 7d",
    },
    {
        "name": "until",
        "in": "query",
        "schema": {"type": "string"},
        "description": "created at or before: ISO 8601 time, or an age",
    },
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
    {
        "name": "per_page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 500},
    },
]
_WRITE = {
    "security": [{"token": []}],
    "requestBody": {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "pks": {"type": "array", "items": {"type": "integer"}},
                        "message": {"type": "string"},
                    },
                }
            }
        }
    },
    "responses": {
        "200": {"description": "One outcome per pk: pk, action, result, ok, message"},
        "400": _ERROR,
        "403": _ERROR,
        "409": {"description": "Some pk could not be reached; its outcome says why"},
    },
}


def _read(summary: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": parameters,
            "responses": {"200": {"description": summary}, "400": _ERROR, "404": _ERROR},
        }
    }


SCHEMA: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "workactors dashboard", "version": "1"},
    "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
    "paths": {
        "/api/processes": _read("One page of processes, newest first", _FILTERS),
        "/api/processes/{pk}": _read("A process: inputs, outputs, caller, called, report", [_PK]),
        "/api/nodes/{pk}": _read("Any node: attributes and links", [_PK]),
        "/api/daemon": _read("The daemon: workers, held processes, checkpoints", []),
        "/api/processes/{action}": {
            "post": {
                "summary": "Pause, play or kill the processes named in the body",
                "parameters": [
                    {
                        "name": "action",
                        "in": "path",
                        "required": True,
                        "schema": {"enum": ["pause", "play", "kill"]},
                    }
                ],
                **_WRITE,
            }
        },
        "/api/processes/{pk}/{action}": {
            "post": {
                "summary": "Pause, play or kill one process",
                "parameters": [
                    _PK,
                    {
                        "name": "action",
                        "in": "path",
                        "required": True,
                        "schema": {"enum": ["pause", "play", "kill"]},
                    },
                ],
                **_WRITE,
            }
        },
        "/api/openapi.json": _read("This description", []),
    },
}


def openapi(request: Request) -> Response:
    """``GET /api/openapi.json``."""
    return JSONResponse(SCHEMA)

"""Request bodies of the writes, read with a size limit: a JSON object or an URL-encoded form
(what the pages' forms and their script send). Nothing else is accepted, so no multipart
parser is needed and no upload can fill the memory."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from actors.web.errors import BadRequestError, WebError

#: Largest body a write may have: a thousand pks and a message fit many times over.
MAX_BODY = 64 * 1024
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


class BodyTooLargeError(WebError):
    """A request body over ``MAX_BODY`` bytes."""

    status = 413


class UnsupportedBodyError(WebError):
    """A body that is neither JSON nor an URL-encoded form."""

    status = 415


async def _read(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise BodyTooLargeError(f"the body has {declared} bytes; at most {MAX_BODY} are read")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise BodyTooLargeError(f"the body has more than {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def media_type(request: Request) -> str:
    """The body's media type, without parameters (an empty body counts as a form)."""
    return request.headers.get("content-type", FORM).split(";", 1)[0].strip().lower() or FORM


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object.

    Raises:
        BadRequestError: if it is not JSON, or not an object.
        BodyTooLargeError: past ``MAX_BODY`` bytes.
    """
    try:
        document = json.loads(await _read(request) or b"{}")
    except ValueError as exc:
        raise BadRequestError(f"the body is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise BadRequestError('the body must be a JSON object such as {"pks": [3, 4]}')
    return document


async def form_fields(request: Request) -> dict[str, list[str]]:
    """The body as an URL-encoded form: each field's values, in order.

    Raises:
        UnsupportedBodyError: for any other media type (a multipart upload).
        BodyTooLargeError: past ``MAX_BODY`` bytes.
        BadRequestError: if it is not UTF-8.
    """
    kind = media_type(request)
    if kind != FORM:
        raise UnsupportedBodyError(f"send {JSON} or {FORM}, not {kind}")
    try:
        text = (await _read(request)).decode()
    except UnicodeDecodeError:
        raise BadRequestError("the form is not UTF-8") from None
    fields: dict[str, list[str]] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        fields.setdefault(name, []).append(value)
    return fields

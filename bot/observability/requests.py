"""Each inbound HTTP request's id, bound to everything logged for it and the turns it starts."""

from __future__ import annotations

import re
from collections.abc import Mapping

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from storage.unique_ids import unique_hex

REQUEST_ID_HEADER = "X-Request-Id"
# Where the id is kept on the request, for the access log (written after the handler is done).
REQUEST_ID = web.RequestKey("request_id", str)
# A request id taken from a caller: short, and nothing that could break a line or a query.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def request_id_of(headers: Mapping[str, str]) -> str:
    """The caller's X-Request-Id (from a proxy or a load balancer) if it is a sane token, so
    one request can be followed through both logs; else a new one."""
    given = headers.get(REQUEST_ID_HEADER) or ""
    return given if _SANE_REQUEST_ID.fullmatch(given) else unique_hex()


@web.middleware
async def request_ids(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bind the request's id to everything logged while it is handled, and to the turns it
    starts (a task created meanwhile copies it, so it travels into the turn taken after the
    platform was answered); the access log reads it from the request."""
    request_id = request_id_of(request.headers)
    request[REQUEST_ID] = request_id
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers[REQUEST_ID_HEADER] = request_id
            raise
    if not response.prepared:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response

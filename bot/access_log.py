"""The server's access log, which never holds a value from a query string.

Callers put secrets in query strings: Facebook checks the comment webhook by sending
`hub.verify_token` (FACEBOOK_VERIFY_TOKEN) in the query, and a browser's Referer or a
mistaken integration can carry a token the same way. aiohttp's own access log prints the whole
request line, so with `serve -v` the secret would end up in every log collector the school
ships its logs to. The bot needs no query value to be run or debugged, so every one is
replaced, whatever its name: a parameter added later cannot leak because nobody thought to
list it. The parameters' names stay, so the log still says what kind of request it was.

Each line is also given as fields (method, path, status, duration, the request's id) for a
structured log (bot.observability.logs), where the same values are hidden.
"""

from __future__ import annotations

import logging

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from bot.observability.requests import REQUEST_ID

HIDDEN = "[redacted]"


def without_query_values(target: str) -> str:
    """`target` (a path or URL, as it came) with every query value replaced by HIDDEN.

    A fragment is dropped too: it is never sent to a server, so one in a Referer is someone's
    own and not the server's to keep."""
    path, has_query, query = target.partition("#")[0].partition("?")
    if not has_query:
        return path
    shown = []
    for pair in query.split("&"):
        name, equals, value = pair.partition("=")
        if not equals:
            shown.append(HIDDEN if name else "")  # a bare value may be a token itself
        else:
            shown.append(f"{name}={HIDDEN}" if value else pair)
    return f"{path}?{'&'.join(shown)}"


class RedactingAccessLogger(AbstractAccessLogger):
    """One line per request: who asked, what (query values hidden), the answer, how long, and
    the caller's User-Agent, which says which platform it was."""

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        # The target as it was sent (still percent-encoded), so a decoded newline cannot forge
        # a second log line.
        target = without_query_values(request.rel_url.raw_path_qs)
        referer = request.headers.get("Referer")
        shown_referer = without_query_values(referer) if referer else "-"
        user_agent = request.headers.get("User-Agent", "-")
        fields = {
            "request_id": request.get(REQUEST_ID),
            "remote": request.remote or "-",
            "method": request.method,
            "path": target,
            "status": response.status,
            "bytes": response.body_length,
            "duration_s": round(time, 6),
            "referer": shown_referer,
            "user_agent": user_agent,
        }
        self.logger.info(
            '%s "%s %s HTTP/%d.%d" %d %d %.3fs "%s" "%s"',
            request.remote or "-",
            request.method,
            target,
            request.version.major,
            request.version.minor,
            response.status,
            response.body_length,
            time,
            shown_referer,
            user_agent,
            extra=fields,
        )

"""The comment webhooks: `/webhooks/comments` for automation tools, `/webhooks/facebook` for Pages.

Nothing is read before the signature is checked against the raw body, and nothing is stored
unless the whole request is good: a forged, unsigned or malformed request gets 401 or 400 and
changes nothing. The same comment delivered twice is stored once (it is looked up by the
sender's own id), so a platform retrying after a timeout is harmless.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.request_body import read_at_most
from bot.runtime import Runtime
from bot.webhooks.payloads import (
    MAX_BODY_BYTES as MAX_BODY,
)
from bot.webhooks.payloads import (
    MalformedPayload,
    parse_comment,
    parse_facebook_feed,
)
from bot.webhooks.signatures import facebook_challenge, verify_signature
from dialogs.services.comments.incoming import IncomingComment
from dialogs.services.errors import PolicybotError
from dialogs.services.school.schools import School

log = logging.getLogger(__name__)


COMMENTS_PATH = "/webhooks/comments"
FACEBOOK_PATH = "/webhooks/facebook"


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class CommentWebhooks:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def register(self, app: web.Application) -> None:
        app.router.add_post(COMMENTS_PATH, self.comments)
        app.router.add_get(FACEBOOK_PATH, self.facebook_verify)
        app.router.add_post(FACEBOOK_PATH, self.facebook_feed)

    async def _body(self, request: web.Request) -> bytes | web.Response:
        if request.content_type != "application/json":
            return _error(415, "send the comment as application/json")
        body = await read_at_most(request, MAX_BODY)
        if body is None:
            return _error(413, f"the body is larger than {MAX_BODY // 1024} KB")
        return body

    # -- automation tools --------------------------------------------------------------------

    async def comments(self, request: web.Request) -> web.Response:
        secrets = self.runtime.settings.webhooks.comment_secrets
        if not secrets:
            return _error(404, "comment webhooks are not set up on this server")
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        header = request.headers.get("X-Policybot-Signature")
        # Each school has its own secret; the one that verifies says whose comment it is.
        school = next(
            (
                s
                for s in self.runtime.directory.schools
                if s.id in secrets and verify_signature(body, header, secrets[s.id])
            ),
            None,
        )
        if school is None:
            return _error(401, "the X-Policybot-Signature header does not match the body")
        try:
            incoming = parse_comment(body, now=self.runtime.clock())
        except MalformedPayload as exc:
            return _error(400, exc.reason)
        try:
            reference, created = await self._store(school, incoming)
        except PolicybotError as exc:
            return _error(400, exc.message)
        return web.json_response(
            {"reference": reference, "duplicate": not created}, status=201 if created else 200
        )

    async def _store(self, school: School, incoming: IncomingComment) -> tuple[str, bool]:
        async with self.runtime.db.session() as session:
            services = self.runtime.services(session, self.runtime.clock())
            received = await services.comments.receive(school, incoming)
            reference = received.comment.reference
        return reference, received.created

    # -- Facebook Pages ----------------------------------------------------------------------

    async def facebook_verify(self, request: web.Request) -> web.Response:
        token = self.runtime.settings.webhooks.facebook_verify_token
        if token is None:
            return _error(404, "the Facebook webhook is not set up on this server")
        challenge = facebook_challenge(request.query, token)
        if challenge is None:
            # Asked again with a plain stand-in challenge: accepted means the token matched, and
            # only the challenge itself was refused.
            if facebook_challenge({**request.query, "hub.challenge": "0"}, token) is not None:
                return _error(
                    403,
                    "the hub.challenge must be 1 to 200 letters, digits, hyphens or underscores",
                )
            return _error(403, "the verify token does not match")
        return web.Response(text=challenge)

    async def facebook_feed(self, request: web.Request) -> web.Response:
        secret = self.runtime.settings.webhooks.facebook_app_secret
        if secret is None:
            return _error(404, "the Facebook webhook is not set up on this server")
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        if not verify_signature(body, request.headers.get("X-Hub-Signature-256"), secret):
            return _error(401, "the X-Hub-Signature-256 header does not match the body")
        try:
            comments = parse_facebook_feed(body, now=self.runtime.clock())
        except MalformedPayload as exc:
            return _error(400, exc.reason)
        stored = 0
        for incoming in comments:
            school = self._school_for_page(incoming.platform_account)
            if school is None:
                # A Page this server does not look after; Facebook must not retry it.
                log.info("Facebook comment for an unknown page ignored")
                continue
            try:
                _, created = await self._store(school, incoming)
            except PolicybotError as exc:
                log.warning("Facebook comment not stored: %s", exc.message)
                continue
            stored += created
        return web.json_response({"stored": stored})

    def _school_for_page(self, page_id: str | None) -> School | None:
        for school in self.runtime.directory.schools:
            if any(a.facebook_page_id == page_id for a in school.accounts if page_id):
                return school
        return None

"""The Slack channel: Bolt listeners that translate Slack to neutral input and back.

Every listener acknowledges first and does its work after, so Slack's 3-second limit is never
at risk. A person's answer is saved before any reply is sent: if Slack then refuses the reply,
the reply goes to the outbox and is retried, and the answer is never lost. Role checks happen in
the services; this module only says "no" nicely.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from functools import partial
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.channels.shared_files import read_files
from bot.channels.slack import ids
from bot.channels.slack.directory import SlackDirectory
from bot.channels.slack.home import home_view
from bot.channels.slack.inbound import checked_body, direct_message, http_error
from bot.channels.slack.modals import ask_modal, note_modal, status_modal
from bot.channels.slack.render import escape, fallback_text
from bot.channels.slack.transport import SlackTransport
from bot.channels.slack.web import API_FAILURES, FileFetcher, failure_of, web_client
from bot.config import SlackSettings
from bot.runtime import Runtime
from dialogs import case_actions
from dialogs.case_actions import Declined, FormWanted, Outcome
from dialogs.inbox import Arrival, Who
from dialogs.not_staff import (
    StaffButtonValue,
    asks_to_change_school,
    change_school_message,
    keeps_message,
    not_staff_message,
    school_chosen_message,
)
from dialogs.services.cases.card import CaseButtonValue, CaseVerb
from dialogs.services.errors import FormField, UploadRejected
from dialogs.services.keyed_locks import KeyedLocks
from dialogs.services.messages import IncomingFile, Message, MessageKind, UserInput
from dialogs.services.people import held_messages
from dialogs.services.people.directory import (
    DirectoryUnavailable,
    Found,
    Identified,
    Refusal,
    Refused,
)
from dialogs.services.posts.card import PostButtonValue, PostVerb
from dialogs.services.school.schools import Person, School
from storage.conversations import ConversationKey

log = logging.getLogger(__name__)

# Where a form's refusal is shown: the block of the modal (bot.channels.slack.modals) that
# holds the field it is about; anything else is shown under the text box.
FIELD_BLOCK = {
    FormField.NOTE: "text",
    FormField.QUESTION: "text",
    FormField.REASON: "text",
    FormField.STATUS: "status",
    FormField.OUTCOME: "outcome",
}
MODAL_VERB = {
    ids.NOTE_MODAL: CaseVerb.NOTE,
    ids.STATUS_MODAL: CaseVerb.STATUS,
    ids.ASK_MODAL: CaseVerb.ASK,
}

_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|[^>]*)?>")
_MENTION = re.compile(r"<[@#!]([^|>]+)(?:\|([^>]*))?>")


def from_slack_text(text: str) -> str:
    """What the person typed, undoing Slack's encoding: links become their address, and
    &amp; &lt; &gt; become the characters the person actually typed."""
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _MENTION.sub(lambda m: "@" + (m.group(2) or m.group(1)), text)
    return html.unescape(text)


def _form_errors(verb: CaseVerb, refused: Declined) -> dict[str, str]:
    """A refused form as Slack shows it: the error beside the field it is about."""
    if refused.unavailable:
        # The form stays open with what they wrote, so nothing is lost by saying so.
        return {
            "status" if verb is CaseVerb.STATUS else "text": "I can't reach my records just "
            "now, so this isn't saved yet. What you wrote is still here: please press the "
            "button again in a minute."
        }
    block = FIELD_BLOCK.get(refused.field, "text") if refused.field else "text"
    return {block: refused.message.text}


def _action_ts(body: dict[str, Any]) -> str:
    actions = body.get("actions")
    first = actions[0] if isinstance(actions, list) and actions else {}
    return str(first.get("action_ts") or "") if isinstance(first, dict) else ""


def _question_of(body: dict[str, Any], action: dict[str, Any]) -> str | None:
    """Which question a press answers: its actions block names it (ids.question_block_id), or,
    in a block of checkboxes, the block's Done button carries it. None for a message posted
    before buttons named their question, and for buttons that answer no question."""
    block_id = action.get("block_id")
    if block_id != ids.MULTI_BLOCK:
        return ids.question_of_block(block_id)
    message = body.get("message")
    blocks = message.get("blocks") if isinstance(message, dict) else None
    for block in blocks if isinstance(blocks, list) else ():
        if isinstance(block, dict) and block.get("block_id") == ids.MULTI_BLOCK:
            for element in block.get("elements") or ():
                if isinstance(element, dict) and element.get("action_id") == ids.MULTI_DONE:
                    value = element.get("value")
                    return value if isinstance(value, str) and value else None
    return None


def _moved_on(replies: Sequence[Message]) -> bool:
    return bool(replies) and replies[0].kind is MessageKind.MOVED_ON


def _only_shows(value: str) -> bool:
    """A button that only shows something (the photos of a post) answers no question, so the
    message it sits on keeps its buttons."""
    button = PostButtonValue.decode(value)
    return button is not None and button.verb is PostVerb.SHOW_MEDIA


class SlackChannel:
    def __init__(self, runtime: Runtime, settings: SlackSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.client = web_client(settings)
        self.transport = SlackTransport(self.client, partial(read_files, runtime))
        self.files = FileFetcher(settings, max_bytes=runtime.settings.evidence.largest_upload_bytes)
        # Who an account is, from Slack's own directory (users.info), for someone the
        # configuration does not list (dialogs.services.people.directory).
        self.people = SlackDirectory(self.client)
        runtime.platform_directories["slack"] = (self.people, self.people)
        self._first_contacts: KeyedLocks[str] = KeyedLocks()
        self.app = AsyncApp(
            client=self.client,
            signing_secret=settings.signing_secret,
            # Slack is answered when a listener returns, not when it acks: a message or a press
            # is journaled first, so an answer to Slack is never given for something that a
            # crash could still lose. Anything slower runs after the answer (`_later`).
            process_before_response=True,
            logger=logging.getLogger("slack_bolt"),
        )
        self._socket: AsyncSocketModeHandler | None = None
        self._register()

    # -- wiring --------------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app
        app.event("message")(self._on_message)
        app.event("app_home_opened")(self._on_home_opened)
        app.action(ids.BUTTON_PATTERN)(self._on_button)
        app.action(ids.MULTI_SELECT_PATTERN)(self._on_checkbox)
        app.action(ids.MULTI_DONE)(self._on_multi_done)
        app.command(ids.SLASH_COMMAND)(self._on_command)
        app.shortcut(ids.REPORT_SHORTCUT)(self._on_report_shortcut)
        app.view(ids.NOTE_MODAL)(self._on_case_form)
        app.view(ids.STATUS_MODAL)(self._on_case_form)
        app.view(ids.ASK_MODAL)(self._on_case_form)

    async def handle_http(self, request: web.Request) -> web.Response:
        """POST /slack/events: nothing in the body is read until Slack's signature and
        timestamp are checked over the raw bytes (bot.channels.slack.inbound), and only then is
        it handed to Bolt, which parses it outside its own signature check."""
        checked = await checked_body(request, self.settings.signing_secret)
        if isinstance(checked, web.Response):
            return checked
        event = direct_message(checked.body)
        if event is not None:
            return await self._direct_message(event, checked.body)
        try:
            bolt_request = AsyncBoltRequest(
                body=checked.text,
                query=request.query_string,
                headers=request.headers,  # type: ignore[arg-type]
            )
        except (TypeError, ValueError, KeyError, AttributeError, IndexError):
            return http_error(400, "the body is not a request Slack sends")
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    async def _direct_message(self, event: dict[str, Any], body: dict[str, Any]) -> web.Response:
        """A message in a direct message, taken without Bolt: it is most of what Slack sends,
        and under a burst Bolt's dispatch (parsing the body again, verifying it again, a Web
        API client and a context for each request, matching every listener) was half the cost
        of acknowledging it. The signature is checked (`checked_body`) and the listener is the
        one Bolt would call, answered as Bolt answers: 200 once it returns, 500 if it fails
        (Slack then sends it again, and its event id makes that a no-op)."""
        try:
            await self._on_message(event, body)
        except Exception as exc:
            log.error("a direct message could not be taken (%s)", type(exc).__name__)
            return web.Response(status=500)
        return web.Response(status=200)

    async def start(self) -> None:
        """One connection pool for every Web API call. Without it the Slack SDK opens a new
        session (a new TCP and TLS connection to Slack) for each reply, which costs more than
        the turn that produced it."""
        if self.client.session is None or self.client.session.closed:
            self.client.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.client.timeout)
            )

    async def start_socket_mode(self) -> None:
        assert self.settings.app_token is not None
        # Over HTTP the route holds turns back while Slack's request is answered (bot.app);
        # over the websocket nothing else can, and Slack waits for the acknowledgement the same.
        self.app.use(self._admitting)
        self._socket = AsyncSocketModeHandler(
            self.app, self.settings.app_token, web_client=self.client
        )
        await self._socket.connect_async()  # type: ignore[no-untyped-call]

    async def _admitting(self, next_: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        """Bolt middleware: turns yield while this request is answered (runner.admitting)."""
        with self.runtime.runner.admitting():
            return await next_()

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        try:
            # Turns under way finish; replies still waiting on Slack are in the outbox, so a
            # stop is not held up for long by Slack's rate limits.
            async with asyncio.timeout(10):
                await self.runtime.runner.settled()
        except TimeoutError:
            log.warning("stopping with Slack work still under way; the outbox keeps its replies")
        await self.files.close()
        if self.client.session is not None:
            await self.client.session.close()
            self.client.session = None

    # -- who is who ----------------------------------------------------------------------

    def _person(self, user_id: str, school: School | None = None) -> tuple[School, Person] | None:
        for found_school, person in self.runtime.directory.by_slack_user(user_id):
            if school is None or found_school.id == school.id:
                return found_school, person
        return None

    async def _identify(self, user_id: str) -> Identified:
        """Who an account is: listed, learned, or asked of Slack (staff_directory)."""
        runtime = self.runtime
        return await runtime.staff.identify(
            runtime.db.session, "slack", user_id, self.people, runtime.clock()
        )

    async def _who(self, user_id: str, dm_channel: str | None = None) -> Who | Message:
        """The school and person writing, or what to tell someone the bot cannot take as staff.
        Someone listed or already learned is known at once (with, now and then, a check that
        they are still a member); anyone else is looked up in Slack's directory."""
        identified = await self._identify(user_id)
        if not isinstance(identified, Found):
            return not_staff_message(identified, "Slack")
        channel = dm_channel or await self.transport.dm_channel(user_id)
        key = ConversationKey("slack", user_id, channel)
        return Who(person=identified.person, school=identified.school, key=key)

    async def _first_contact(self, user_id: str, channel: str) -> None:
        """After Slack has its answer: who someone the bot did not know is, and then what they
        wrote (held until now), taken in order; or, if they cannot be taken as staff, why, and
        what they wrote is kept only if they may yet be."""
        async with self._first_contacts.hold(user_id):
            identified = await self._identify(user_id)
            await self._after_identified(user_id, channel, identified)

    async def _chose_school(self, body: dict[str, Any], choice: StaffButtonValue) -> None:
        """Someone whose email fits several schools pressed the one they work at."""
        runtime = self.runtime
        user = str(body["user"]["id"])
        channel = self._dm_of(body) or await self.transport.dm_channel(user)
        school = runtime.directory.school(choice.reference)
        async with self._first_contacts.hold(user):
            identified: Identified
            try:
                profile = await self.people.profile(user)
            except DirectoryUnavailable:
                identified = Refused(Refusal.UNAVAILABLE)
            else:
                identified = await runtime.staff.learn(
                    runtime.db.session, "slack", user, profile, runtime.clock(), school=school
                )
            if isinstance(identified, Found):
                chosen = escape(identified.school.name)
                await self._mark(body, f":white_check_mark: You chose: {chosen}")
                await self.transport.post(channel, [school_chosen_message(identified.school)])
            await self._after_identified(user, channel, identified)

    async def _after_identified(self, user_id: str, channel: str, identified: Identified) -> None:
        runtime = self.runtime
        async with runtime.db.session() as session:
            held = await held_messages.held_for(session, "slack", user_id)
        if not isinstance(identified, Found):
            if not keeps_message(identified):
                async with runtime.db.session() as session:
                    for row in held:
                        assert row.id is not None
                        await held_messages.let_go(session, row.id)
            await self.transport.post(channel, [not_staff_message(identified, "Slack")])
            return
        key = ConversationKey("slack", user_id, channel)
        who = Who(person=identified.person, school=identified.school, key=key)
        for row in held:
            assert row.id is not None
            delivery_id = row.delivery_id or f"held:{row.id}"
            await self._admit_message(who, row.text, list(row.files or []), delivery_id)
            async with runtime.db.session() as session:
                await held_messages.let_go(session, row.id)

    # -- replies -------------------------------------------------------------------------

    async def _reply(self, who: Who, messages: Sequence[Message]) -> None:
        """Send replies in order; whatever Slack refuses goes to the outbox to be retried."""

        async def post(message: Message) -> None:
            await self.transport.post(who.key.conversation_key, [message])

        await self.runtime.runner.send_replies(who, messages, post)

    def _later(self, work: Coroutine[Any, Any, object]) -> None:
        """Work that calls Slack, done after Slack has its answer: Slack allows 3 seconds, and
        its own rate limits could hold such a call far longer."""
        self.runtime.runner.in_background(work)

    async def _turn(self, who: Who, given: UserInput, delivery_id: str | None) -> None:
        replies = await self.runtime.runner.handle(who, given, delivery_id=delivery_id)
        await self._reply(who, replies)

    # -- direct messages -----------------------------------------------------------------

    async def _on_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("channel_type") != "im" or event.get("bot_id"):
            return
        if event.get("subtype") not in (None, "file_share"):
            return  # edits, deletions and joins are not answers
        user, channel = event.get("user"), event.get("channel")
        if not isinstance(user, str) or not isinstance(channel, str):
            return
        text = from_slack_text(str(event.get("text") or ""))
        shared_files = [f for f in event.get("files") or [] if isinstance(f, dict)]
        if not shared_files and not text.strip():
            return
        delivery_id = body.get("event_id")
        if not self.runtime.staff.is_known("slack", user):
            # Someone new: what they wrote is kept before Slack is answered, and who they are
            # is asked of Slack after it (users.info could take longer than Slack waits).
            async with self.runtime.db.session() as session:
                await held_messages.hold(
                    session,
                    platform="slack",
                    user_id=user,
                    conversation=channel,
                    text=text,
                    files=shared_files,
                    delivery_id=delivery_id if isinstance(delivery_id, str) else None,
                    now=self.runtime.clock(),
                )
            self._later(self._first_contact(user, channel))
            return
        who = await self._who(user, channel)
        if isinstance(who, Message):
            self._later(self.transport.post(channel, [who]))
            return
        if asks_to_change_school(text):
            schools = self.runtime.staff.schools_for(who.person)
            offer = change_school_message(who.school, schools)
            self._later(self.transport.post(channel, [offer]))
            return
        await self._admit_message(who, text, shared_files, delivery_id)

    async def _admit_message(
        self, who: Who, text: str, shared_files: list[dict[str, Any]], delivery_id: object
    ) -> None:
        async def then(arrival: Arrival) -> None:
            await self.runtime.runner.take(
                arrival,
                UserInput(text=text),
                files=shared_files,
                fetch=self.files.fetch,
                send=partial(self._reply, who),
            )

        # Journaled before anything else, files included by name: a restart while they
        # download loses neither the text nor the fact that files were on their way.
        await self.runtime.runner.admit(
            who,
            UserInput(text=text),
            file_names=[str(f.get("name") or "a file") for f in shared_files],
            delivery_id=delivery_id if isinstance(delivery_id, str) else None,
            then=then,
        )

    async def _on_button(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        value = str(action.get("value") or "")
        school_choice = StaffButtonValue.decode(value)
        if school_choice is not None:
            self._later(self._chose_school(body, school_choice))
            return
        case_button = CaseButtonValue.decode(value)
        if case_button is not None:
            self._later(self._on_case_button(body, case_button))
            return
        label = html.unescape(str((action.get("text") or {}).get("text") or value))
        given = UserInput(value=value, question=_question_of(body, action))
        await self._pressed(body, given, label, f"{body['user']['id']}:{action.get('action_ts')}")

    async def _pressed(
        self, body: dict[str, Any], given: UserInput, chosen: str, delivery_id: str
    ) -> None:
        """Journal a press in a DM before Slack is answered; its turn follows, after this
        person's earlier messages, and then its message is marked: answered, or, when the
        question had moved on (nothing was changed), as an old question. A press anywhere else
        needs Slack to find the person's DM, which waits until Slack has its answer."""
        user, dm_channel = str(body["user"]["id"]), self._dm_of(body)

        async def then(arrival: Arrival) -> None:
            replies = await self.runtime.runner.handle(arrival.who, given, arrival=arrival)
            if _moved_on(replies):
                await self._mark(body, ":leftwards_arrow_with_hook: This question has moved on.")
            elif not _only_shows(given.value or ""):
                await self._mark(body, f":white_check_mark: You chose: {escape(chosen)}")
            await self._reply(arrival.who, replies)

        async def admit() -> None:
            who = await self._who(user, dm_channel)
            if isinstance(who, Message):
                await self.transport.post(await self.transport.dm_channel(user), [who])
                return
            await self.runtime.runner.admit(who, given, delivery_id=delivery_id, then=then)

        if dm_channel is None or self._person(user) is None:
            self._later(admit())
        else:
            await admit()

    async def _on_checkbox(self, ack: AsyncAck) -> None:
        await ack()  # ticking a box is not an answer yet; Done sends them all

    async def _on_multi_done(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await ack()
        user = body["user"]["id"]
        who = await self._who(user, self._dm_of(body))
        if isinstance(who, Message):
            return
        state = ((body.get("state") or {}).get("values") or {}).get(ids.MULTI_BLOCK) or {}
        picked = [
            option["value"]
            for element in state.values()
            for option in element.get("selected_options") or []
        ]
        labels = [
            html.unescape(option["text"]["text"])
            for element in state.values()
            for option in element.get("selected_options") or []
        ]
        given = UserInput(value=",".join(picked), question=_question_of(body, action))
        delivery_id = f"{user}:{action.get('action_ts')}"
        await self._pressed(body, given, ", ".join(labels) or "nothing", delivery_id)

    def _dm_of(self, body: dict[str, Any]) -> str | None:
        channel = body.get("channel") or {}
        channel_id = channel.get("id") if isinstance(channel, dict) else None
        return channel_id if isinstance(channel_id, str) and channel_id.startswith("D") else None

    async def _mark(self, body: dict[str, Any], note: str) -> None:
        """Take the buttons off a pressed question so it cannot be answered twice, and say
        why (`note` is mrkdwn, escaped by the caller)."""
        message = body.get("message")
        channel = self._dm_of(body)
        if not isinstance(message, dict) or channel is None:
            return
        blocks = [b for b in message.get("blocks") or [] if b.get("type") != "actions"]
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
        try:
            fallback = str(message.get("text") or note)
            await self.transport.update(channel, str(message.get("ts")), blocks, fallback)
        except API_FAILURES as exc:
            # Only the look of an old message: the press itself is taken all the same.
            log.info("could not mark a question answered: %s", failure_of(exc))

    # -- the slash command, the home tab, the shortcut ---------------------------------

    async def _on_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        user = str(command.get("user_id"))
        await ack(text="I've replied in our direct messages.")
        self._later(self._command_turn(user, command))

    async def _command_turn(self, user: str, command: dict[str, Any]) -> None:
        try:
            who = await self._who(user)
            if isinstance(who, Message):
                await self.transport.post(await self.transport.dm_channel(user), [who])
                return
        except API_FAILURES as exc:
            log.warning("could not open a DM for a slash command: %s", failure_of(exc))
            return
        text = from_slack_text(str(command.get("text") or "")).strip()
        if not text:
            # A bare /policy is not an answer: show where the person is (or the menu).
            await self._reply(who, await self.runtime.runner.opening(who))
            return
        await self._turn(who, UserInput(text=text), f"command:{command.get('trigger_id')}")

    async def _on_home_opened(self, event: dict[str, Any]) -> None:
        if event.get("tab") not in (None, "home"):
            return
        self._later(self._publish_home(str(event.get("user"))))

    async def _publish_home(self, user: str) -> None:
        identified = await self._identify(user)
        found = (identified.school, identified.person) if isinstance(identified, Found) else None
        view = await home_view(
            self.runtime, found[0] if found else None, found[1] if found else None
        )
        await self.client.views_publish(user_id=user, view=view)

    async def _on_report_shortcut(self, ack: AsyncAck, shortcut: dict[str, Any]) -> None:
        await ack()
        self._later(self._report_flagged(shortcut))

    async def _report_flagged(self, shortcut: dict[str, Any]) -> None:
        user = str(shortcut["user"]["id"])
        who = await self._who(user)
        if isinstance(who, Message):
            await self.transport.post(await self.transport.dm_channel(user), [who])
            return
        captured = await self._capture(shortcut)
        files, problems = await self._flagged_files(shortcut)
        if problems:
            await self._reply(who, problems)
        replies = await self.runtime.runner.start_with_capture(
            who,
            "report_abuse",
            captured,
            delivery_id=f"shortcut:{shortcut.get('action_ts')}",
            files=files,
        )
        await self._reply(who, replies)

    async def _flagged_files(
        self, shortcut: dict[str, Any]
    ) -> tuple[list[IncomingFile], list[Message]]:
        """The flagged message's own files (a posted screenshot or photo), fetched now, because
        the person who posted them may delete them; one that can't be fetched is explained."""
        fetched: list[IncomingFile] = []
        problems: list[Message] = []
        for file in (shortcut.get("message") or {}).get("files") or []:
            if not isinstance(file, dict):
                continue
            try:
                fetched.append(await self.files.fetch(file))
            except UploadRejected as exc:
                problems.append(Message(kind=MessageKind.HINT, text=exc.message))
        return fetched, problems

    async def _capture(self, shortcut: dict[str, Any]) -> dict[str, Any]:
        message = shortcut.get("message") or {}
        channel = (shortcut.get("channel") or {}).get("id")
        permalink = None
        try:
            response = await self.client.chat_getPermalink(
                channel=str(channel), message_ts=str(message.get("ts"))
            )
            permalink = response.get("permalink")
        except API_FAILURES as exc:
            log.info("no permalink for a reported message: %s", failure_of(exc))
        return {
            "platform": "Slack",
            "text": from_slack_text(str(message.get("text") or "")),
            "author": message.get("user") or message.get("username") or message.get("bot_id"),
            "channel": channel,
            "channel_name": (shortcut.get("channel") or {}).get("name"),
            "ts": message.get("ts"),
            "permalink": permalink,
        }

    # -- case cards in the safeguarding channel ----------------------------------------

    async def _actor(self, body: dict[str, Any]) -> tuple[School, Person] | None:
        """Who pressed a case card's button: a lead listed by email may never have written to
        the bot, so they are looked up like anyone new."""
        channel = (body.get("channel") or {}).get("id")
        school = self.runtime.directory.by_slack_channel(str(channel), "safeguarding")
        if school is None:
            return None
        user = str(body["user"]["id"])
        identified = await self._identify(user)
        if isinstance(identified, Found) and identified.school.id == school.id:
            return identified.school, identified.person
        return self._person(user, school)

    async def _on_case_button(self, body: dict[str, Any], button: CaseButtonValue) -> None:
        channel = str((body.get("channel") or {}).get("id"))
        user = str(body["user"]["id"])
        actor = await self._actor(body)
        # One press is acted on once: the same interaction sent again (a replay) changes
        # nothing and, for an export, makes no second pack.
        delivery = f"button:{user}:{body.get('trigger_id') or ''}:{_action_ts(body)}"
        async with case_actions.press(
            self.runtime.unit_of_work, button, actor, source="slack", delivery_id=delivery
        ) as pressed:
            if isinstance(pressed, Declined):
                await self.transport.ephemeral(channel, user, pressed.message)
                return
            if isinstance(pressed, FormWanted):
                assert actor is not None
                await self._open_form(body, channel, actor[0], button.reference, pressed)
                return
            if pressed is None:
                return  # a replay of a press already acted on
            if pressed.pack is not None:
                await self._hand_over_pack(channel, user, pressed)
            else:
                await self.transport.ephemeral(channel, user, pressed.message)

    async def _open_form(
        self, body: dict[str, Any], channel: str, school: School, reference: str, form: FormWanted
    ) -> None:
        metadata = json.dumps({"reference": reference, "school": school.id, "channel": channel})
        if form.verb is CaseVerb.NOTE:
            view = note_modal(reference, metadata)
        elif form.verb is CaseVerb.ASK:
            view = ask_modal(reference, metadata)
        else:
            view = status_modal(form.case, metadata)
        await self.client.views_open(trigger_id=body["trigger_id"], view=view)

    async def _hand_over_pack(self, channel: str, user: str, outcome: Outcome) -> None:
        """An evidence pack goes to the handler's direct messages, never into the channel."""
        assert outcome.pack is not None
        dm = await self.transport.dm_channel(user)
        await self.client.files_upload_v2(
            channel=dm,
            file=str(outcome.pack),
            filename=outcome.pack.name,
            title=outcome.pack.name,
            initial_comment="\n".join(
                [fallback_text(outcome.message)]
                + [f"{escape(f.label)}: {escape(f.value)}" for f in outcome.message.facts]
            ),
        )
        await self.transport.ephemeral(
            channel,
            user,
            Message(
                kind=MessageKind.INFO,
                text="I've sent the evidence pack to you in a direct message.",
            ),
        )

    async def _on_case_form(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        metadata = json.loads(view.get("private_metadata") or "{}")
        school = self.runtime.directory.school(str(metadata.get("school")))
        user = str(body["user"]["id"])
        found = self._person(user, school) if school else None
        if school is None or found is None:
            await ack(
                response_action="errors",
                errors={"text": "Only the safeguarding lead or deputy can do this."},
            )
            return
        values = view.get("state", {}).get("values", {})

        def field(block: str) -> str | None:
            element = (values.get(block) or {}).get("value") or {}
            if "selected_option" in element:
                return (element.get("selected_option") or {}).get("value")
            return element.get("value")

        verb = MODAL_VERB.get(str(view.get("callback_id")), CaseVerb.STATUS)
        # A view is submitted once (a refused one, rolled back, can be sent again), so a
        # delivery of the same view is a replay: acknowledged, and nothing changes.
        outcome = await case_actions.submit(
            self.runtime.unit_of_work,
            found,
            source="slack",
            delivery_id=f"view:{view.get('id')}:{view.get('hash')}",
            verb=verb,
            reference=str(metadata.get("reference")),
            text=field("text"),
            status=field("status"),
            outcome=field("outcome"),
        )
        if isinstance(outcome, Declined):
            await ack(response_action="errors", errors=_form_errors(verb, outcome))
            return
        await ack()
        if outcome is None:
            return
        told = self.transport.ephemeral(str(metadata.get("channel")), user, outcome.message)
        self._later(told)

"""Activities written in one walk are the JSON msrest would write (teams/activity_json.py).

Compared over what the bot sends (every kind of message card, with and without mentions, as a
reply with its conversation reference applied, file consent cards, typing) and over generated
activities: JSON of any shape where the schema says "object", and values msrest treats in its
own way (a dict where a model is expected, a card that is a model, an enum inside a card), which
the one-walk path hands back to msrest.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    HeroCard,
    Mention,
    SuggestedActions,
)
from botframework.connector import models
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from hypothesis import given, settings
from hypothesis import strategies as st
from msrest.serialization import Model, Serializer

from bot.channels.teams import cards
from bot.channels.teams.activity_json import (
    FastBodies,
    activity_from_json,
    as_json,
    use_fast_bodies,
)
from bot.channels.teams.files import consent_card
from dialogs.services.messages import Button, Fact, InputKind, Message, MessageKind
from tests.fakes.botframework import activity as fake_activity
from tests.fakes.botframework import conversation_update_added as fake_conversation_update_added
from tests.fakes.botframework import invoke_action as fake_invoke_action

MODELS = {name: kind for name, kind in vars(models).items() if isinstance(kind, type)}


def msrest_body(activity: Activity) -> Any:
    serializer = Serializer(MODELS)  # type: ignore[no-untyped-call]
    return serializer.body(copy.deepcopy(activity), "Activity")  # type: ignore[no-untyped-call]


def fast_body(activity: Activity) -> Any:
    serializer = FastBodies(MODELS)  # type: ignore[no-untyped-call]
    return serializer.body(copy.deepcopy(activity), "Activity")


def as_reply(activity: Activity) -> Activity:
    """As TurnContext sends a reply: addressed from the conversation it answers."""
    incoming = Activity(
        type=ActivityTypes.message,
        id="1733550000000",
        channel_id="msteams",
        service_url="https://smba.trafficmanager.net/uk/",
        from_property=ChannelAccount(id="29:staff", name="Staff Member", aad_object_id="aad-1"),
        recipient=ChannelAccount(id="28:bot", name="policybot"),
        conversation=ConversationAccount(
            id="a:1xyz", conversation_type="personal", tenant_id="tenant-1"
        ),
        timestamp=datetime(2026, 12, 7, 3, 0, 1, 123456, tzinfo=UTC),
        locale="en-GB",
    )
    reference: ConversationReference = TurnContext.get_conversation_reference(incoming)
    return TurnContext.apply_conversation_reference(activity, reference)


def card_activity(message: Message, *, mention: bool = False) -> Activity:
    card = cards.card_for(message)
    if mention:
        card = cards.with_mentions(card, [("29:lead", "Lead <b>DSL</b>")], after_title=True)
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    activity.summary = cards.summary_text(message)
    return activity


def message(kind: MessageKind, expects: InputKind) -> Message:
    return Message(
        kind=kind,
        title="A title with “quotes” & <tags>",
        text="First line\nSecond line ✓",
        facts=(Fact(label="When", value="Monday"), Fact(label="Where", value="Online")),
        buttons=(
            Button(value="yes", label="Yes", style="primary"),
            Button(value="no", label="No", style="danger"),
        ),
        expects=expects,
    )


@pytest.mark.parametrize("kind", list(MessageKind))
@pytest.mark.parametrize("expects", list(InputKind))
@pytest.mark.parametrize("mention", [False, True])
def test_every_card_the_bot_sends_is_the_same_json(
    kind: MessageKind, expects: InputKind, mention: bool
) -> None:
    activity = as_reply(card_activity(message(kind, expects), mention=mention))
    assert fast_body(activity) == msrest_body(activity)


def test_a_file_consent_card_and_typing_are_the_same_json(tmp_path: Path) -> None:
    offer = as_reply(
        consent_card("evidence.png", b"\x89PNG...", "evidence", store=tmp_path, kind="media")
    )
    typing = as_reply(Activity(type=ActivityTypes.typing))
    for activity in (offer, typing):
        assert fast_body(activity) == msrest_body(activity)


def test_models_lists_and_enums_are_written_as_msrest_writes_them() -> None:
    activity = as_reply(
        Activity(
            type=ActivityTypes.message,
            text="Pick one",
            entities=[Mention(mentioned=ChannelAccount(id="29:a", name="A"), text="<at>A</at>")],
            suggested_actions=SuggestedActions(
                to=["29:a"],
                actions=[CardAction(type="imBack", title="Go", value={"n": 1}), None],
            ),
            channel_data={"notification": {"alert": True}, "tenant": {"id": "t"}},
            local_timestamp=datetime(2026, 12, 7, 8, 30),
        )
    )
    assert fast_body(activity) == msrest_body(activity)


class Colour(Enum):
    RED = "red"


@pytest.mark.parametrize(
    "unusual",
    [
        # A dict where the schema has a model: msrest makes the model of it first.
        {"from_property": {"id": "29:x", "name": "X", "unknown": 1}},
        # A card that is itself a model, and an enum inside a card.
        {"attachments": [CardFactory.hero_card(HeroCard(title="Hero"))]},
        {"value": {"colour": Colour.RED}},
        {"channel_data": {1: "a key that is not a string"}},
    ],
)
def test_what_msrest_treats_its_own_way_is_left_to_msrest(unusual: dict[str, Any]) -> None:
    activity = as_reply(Activity(type=ActivityTypes.message, text="x"))
    for name, value in unusual.items():
        setattr(activity, name, value)
    assert fast_body(activity) == msrest_body(activity)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(card=JSON, data=JSON, text=st.text(), name=st.none() | st.text())
def test_any_json_in_an_activity_is_the_same_json(
    card: Any, data: Any, text: str, name: str | None
) -> None:
    activity = as_reply(
        Activity(
            type=ActivityTypes.message,
            text=text,
            value=data,
            attachments=[
                CardFactory.adaptive_card(card if isinstance(card, dict) else {"x": card})
            ],
        )
    )
    activity.from_property.name = name
    assert fast_body(activity) == msrest_body(activity)


def test_a_connector_client_is_given_the_one_walk_serializer_once() -> None:
    client = ConnectorClient(MicrosoftAppCredentials("", ""), base_url="http://127.0.0.1:9")
    use_fast_bodies(client)
    fast = client.conversations._serialize
    assert isinstance(fast, FastBodies)
    assert use_fast_bodies(client).conversations._serialize is fast


@settings(max_examples=100, deadline=None)
@given(name=st.none() | st.text(), tenant=st.none() | st.text(), locale=st.none() | st.text())
def test_a_conversation_reference_is_the_same_json(
    name: str | None, tenant: str | None, locale: str | None
) -> None:
    activity = as_reply(Activity(type=ActivityTypes.message, text="x", locale=locale))
    activity.from_property.name = name
    activity.conversation.tenant_id = tenant
    reference = TurnContext.get_conversation_reference(activity)
    assert as_json(reference) == reference.serialize()


# -- arriving activities ---------------------------------------------------------------------------


def model_state(value: Any) -> Any:
    """Everything a model holds, additional properties included, for comparison."""
    if isinstance(value, Model):
        attributes = {
            name: model_state(getattr(value, name, None)) for name in value._attribute_map
        }
        extra = model_state(getattr(value, "additional_properties", None))
        return (type(value).__name__, attributes, extra)
    if isinstance(value, list):
        return [model_state(item) for item in value]
    if isinstance(value, dict):
        return {key: model_state(item) for key, item in value.items()}
    return (type(value).__name__, value)


def msrest_read(body: Any) -> Any:
    try:
        return model_state(Activity().deserialize(copy.deepcopy(body)))
    except Exception as exc:
        return ("refused", type(exc).__name__, str(exc))


def fast_read(body: Any) -> Any:
    try:
        return model_state(activity_from_json(copy.deepcopy(body)))
    except Exception as exc:
        return ("refused", type(exc).__name__, str(exc))


SERVICE = "https://smba.trafficmanager.net/uk/"
TEAMS_SENDS = [
    fake_activity(service_url=SERVICE, text="hello"),
    fake_activity(
        service_url=SERVICE,
        text="<at>policybot</at> report",
        timestamp="2026-12-07T03:00:01.1234567Z",
        localTimestamp="2026-12-07T03:00:01.123+00:00",
        entities=[
            {"type": "mention", "mentioned": {"id": "28:bot", "name": "policybot"}, "text": "x"},
            {"type": "clientInfo", "locale": "en-GB", "country": "GB", "timezone": "Europe/London"},
        ],
        attachments=[
            {
                "contentType": "application/vnd.microsoft.teams.file.download.info",
                "name": "screenshot.png",
                "content": {"downloadUrl": "https://example.org/f", "fileType": "png"},
            }
        ],
        channelData={"tenant": {"id": "t"}, "team": {"id": "19:team"}, "channel": {"id": "19:c"}},
    ),
    fake_invoke_action("answer", {"value": "yes", "q": "Danger?"}, service_url=SERVICE),
    fake_conversation_update_added(service_url=SERVICE),
]


@pytest.mark.parametrize("body", TEAMS_SENDS)
def test_what_teams_sends_is_read_as_msrest_reads_it(body: dict[str, Any]) -> None:
    assert fast_read(body) == msrest_read(body)
    assert fast_read(body)[0] == "Activity"


ACTIVITY_KEYS = [d["key"] for d in Activity._attribute_map.values()]


@settings(max_examples=300, deadline=None)
@given(
    body=st.dictionaries(st.sampled_from(ACTIVITY_KEYS) | st.text(max_size=8), JSON, max_size=10),
    sender=st.dictionaries(st.sampled_from(["id", "name", "aadObjectId", "role", "x"]), JSON),
)
def test_any_json_is_read_or_refused_as_msrest_reads_or_refuses_it(
    body: dict[str, Any], sender: dict[str, Any]
) -> None:
    body = {**body, "from": sender}
    assert fast_read(body) == msrest_read(body)

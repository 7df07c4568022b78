"""Webhook bodies and signatures: only genuine, well-formed comments get through.

A webhook is open to the internet, so these tests hold the parsers to one promise above all:
whatever bytes arrive, the result is either a valid comment or MalformedPayload with a reason
that is safe to send back, never a crash, and never a comment that breaks a limit or hides
what it says. Signatures must accept exactly the sender's and nothing near it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.webhooks.payloads import (
    MAX_BODY_BYTES,
    NO_TEXT,
    UNKNOWN_AUTHOR,
    MalformedPayload,
    clean_text,
    parse_comment,
    parse_facebook_feed,
)
from bot.webhooks.signatures import facebook_challenge, sign, verify_signature
from dialogs.services.comments.incoming import (
    MAX_AUTHOR_CHARS,
    MAX_COMMENT_CHARS,
    MAX_EXTERNAL_ID_CHARS,
    MAX_LINK_CHARS,
    CommentSource,
    IncomingComment,
)

NOW = datetime(2026, 11, 20, 10, 5, tzinfo=UTC)
PAGE = "123"
FB_TIME = 1795168800  # 2026-11-20T10:00:00Z
SECRET = "s3cret-for-oakfield"
MISSING = object()
MARKER = "<script>MARKER-7f3a</script>"
FUZZ = settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
UNWANTED = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))] + [
    chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
]


def encode(value: object) -> bytes:
    return json.dumps(value).encode()


def comment(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "id": "zap-123",
        "account": "facebook",
        "author": "A Parent",
        "text": "When is sports day?",
        "link": "https://facebook.com/oakfield/posts/1",
        "received_at": "2026-11-20T10:00:00Z",
    }
    for key, value in changes.items():
        if value is MISSING:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def parse(**changes: object) -> IncomingComment:
    return parse_comment(encode(comment(**changes)), now=NOW)


def rejected(body: bytes, *, facebook: bool = False) -> str:
    parser: Callable[..., object] = parse_facebook_feed if facebook else parse_comment
    with pytest.raises(MalformedPayload) as caught:
        parser(body, now=NOW)
    return caught.value.reason


def rejected_comment(**changes: object) -> str:
    return rejected(encode(comment(**changes)))


def fb_value(**changes: object) -> dict[str, object]:
    value: dict[str, object] = {
        "item": "comment",
        "verb": "add",
        "comment_id": "123_456",
        "post_id": "123_789",
        "parent_id": "123_789",
        "from": {"id": "999", "name": "A Parent"},
        "message": "Hello",
        "created_time": FB_TIME,
    }
    for key, item in changes.items():
        if item is MISSING:
            value.pop(key, None)
        else:
            value[key] = item
    return value


def fb_change(**changes: object) -> dict[str, object]:
    return {"field": "feed", "value": fb_value(**changes)}


def fb_body(*changes: object, page: str = PAGE) -> bytes:
    return encode(
        {"object": "page", "entry": [{"id": page, "time": FB_TIME, "changes": list(changes)}]}
    )


def parse_fb(*changes: object) -> list[IncomingComment]:
    return parse_facebook_feed(fb_body(*changes), now=NOW)


def assert_valid(item: IncomingComment, source: CommentSource) -> None:
    """What every comment that gets past the parsers must satisfy, whatever it came from."""
    assert item.source is source
    assert 1 <= len(item.external_id) <= MAX_EXTERNAL_ID_CHARS
    assert 1 <= len(item.author) <= MAX_AUTHOR_CHARS
    assert 1 <= len(item.text) <= MAX_COMMENT_CHARS
    for value in (item.author, item.text, item.external_id):
        assert not any(ch in value for ch in UNWANTED)
        assert not any(0xD800 <= ord(ch) <= 0xDFFF for ch in value)
        assert value == value.strip()
        value.encode("utf-8")
    assert item.received_at.tzinfo is UTC
    assert NOW - timedelta(days=366) <= item.received_at <= NOW + timedelta(minutes=5)
    if item.link is not None:
        assert item.link[:8].lower() == "https://"
        assert len(item.link) <= MAX_LINK_CHARS
    if source is CommentSource.WEBHOOK:
        assert item.account_id is not None
        assert item.platform_account is None
    else:
        assert item.account_id is None
        assert item.platform_account is not None
        assert item.platform_account.isdigit()


# --- signatures -----------------------------------------------------------------------------


def test_sign_is_hmac_sha256_of_the_raw_body() -> None:
    # RFC 4231, test case 2
    assert sign(b"what do ya want for nothing?", "Jefe") == (
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    assert sign(b"what do ya want for nothing?", b"Jefe") == sign(
        b"what do ya want for nothing?", "Jefe"
    )


def test_sign_refuses_an_empty_secret() -> None:
    with pytest.raises(ValueError, match="empty"):
        sign(b"{}", "")


def test_a_correct_signature_verifies() -> None:
    body = encode(comment())
    assert verify_signature(body, sign(body, SECRET), SECRET)
    assert verify_signature(body, sign(body, SECRET), SECRET.encode())


def test_upper_case_hex_verifies() -> None:
    body = b'{"id": "x"}'
    header = sign(body, SECRET)
    assert verify_signature(body, "sha256=" + header.removeprefix("sha256=").upper(), SECRET)


@pytest.mark.parametrize(
    ("body", "header_body", "secret"),
    [
        (b'{"text": "hi"}', b'{"text": "hi!"}', SECRET),  # signature of another body
        (b'{"text": "hi"}', b'{"text": "hi"}', "another-school"),  # another secret
    ],
)
def test_a_signature_of_something_else_fails(body: bytes, header_body: bytes, secret: str) -> None:
    assert not verify_signature(body, sign(header_body, SECRET), secret)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha1=" + "0" * 40,
        "sha1=" + sign(b"body", SECRET).removeprefix("sha256="),
        "SHA256=" + sign(b"body", SECRET).removeprefix("sha256="),
        sign(b"body", SECRET)[:-1],  # truncated
        sign(b"body", SECRET) + "0",  # too long
        sign(b"body", SECRET).removeprefix("sha256="),  # no prefix
        " " + sign(b"body", SECRET),
        sign(b"body", SECRET) + "\n",
        "sha256=" + "g" * 64,  # not hex
        "sha256=" + "é" * 64,
        "sha256=",
    ],
)
def test_anything_but_the_exact_signature_fails(header: str | None) -> None:
    assert not verify_signature(b"body", header, SECRET)


@pytest.mark.parametrize("secret", ["", b""])
def test_an_empty_secret_verifies_nothing(secret: str | bytes) -> None:
    forged = "sha256=" + hmac.new(b"", b"body", hashlib.sha256).hexdigest()
    assert not verify_signature(b"body", forged, secret)


def challenge_query(**changes: str) -> dict[str, str]:
    query = {"hub.mode": "subscribe", "hub.verify_token": "tok-123", "hub.challenge": "1158201444"}
    query.update(changes)
    return query


def test_facebook_challenge_is_echoed_when_the_token_matches() -> None:
    assert facebook_challenge(challenge_query(), "tok-123") == "1158201444"
    assert facebook_challenge(challenge_query(**{"hub.challenge": "a" * 200}), "tok-123") == (
        "a" * 200
    )


@pytest.mark.parametrize(
    ("query", "verify_token"),
    [
        (challenge_query(), "another-token"),
        (challenge_query(**{"hub.verify_token": "tok-1234"}), "tok-123"),
        (challenge_query(**{"hub.verify_token": "tök-123"}), "tok-123"),
        (challenge_query(**{"hub.mode": "unsubscribe"}), "tok-123"),
        ({"hub.verify_token": "tok-123", "hub.challenge": "1"}, "tok-123"),
        ({"hub.mode": "subscribe", "hub.challenge": "1"}, "tok-123"),
        ({"hub.mode": "subscribe", "hub.verify_token": "tok-123"}, "tok-123"),
        (challenge_query(**{"hub.verify_token": ""}), ""),  # no token configured
        (challenge_query(**{"hub.challenge": "a" * 201}), "tok-123"),
        (challenge_query(**{"hub.challenge": ""}), "tok-123"),
        (challenge_query(**{"hub.challenge": "<script>alert(1)</script>"}), "tok-123"),
        (challenge_query(**{"hub.challenge": "123\r\nSet-Cookie: x=1"}), "tok-123"),
    ],
)
def test_facebook_challenge_is_refused(query: dict[str, str], verify_token: str) -> None:
    assert facebook_challenge(query, verify_token) is None


# --- our own JSON ---------------------------------------------------------------------------


def test_a_valid_comment() -> None:
    assert parse() == IncomingComment(
        source=CommentSource.WEBHOOK,
        external_id="zap-123",
        author="A Parent",
        text="When is sports day?",
        received_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        account_id="facebook",
        platform_account=None,
        link="https://facebook.com/oakfield/posts/1",
    )


def test_optional_fields_can_be_left_out() -> None:
    item = parse(link=MISSING, received_at=MISSING)
    assert item.link is None
    assert item.received_at == NOW
    assert item.received_at.tzinfo is UTC


@pytest.mark.parametrize("empty", [None, ""])
def test_empty_optional_fields_count_as_left_out(empty: object) -> None:
    item = parse(link=empty, received_at=empty)
    assert (item.link, item.received_at) == (None, NOW)


def test_now_in_another_zone_is_stored_in_utc() -> None:
    london_summer = timezone(timedelta(hours=1))
    item = parse_comment(encode(comment(received_at=MISSING)), now=NOW.astimezone(london_summer))
    assert item.received_at == NOW
    assert item.received_at.tzinfo is UTC


def test_a_naive_now_is_the_callers_mistake() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_comment(encode(comment()), now=datetime(2026, 11, 20, 10, 5))
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_facebook_feed(fb_body(fb_change()), now=datetime(2026, 11, 20, 10, 5))


def test_unknown_fields_are_ignored() -> None:
    assert parse(zap_meta={"step": 3, "tags": ["a", None]}, extra=1.5) == parse()


@pytest.mark.parametrize(
    ("received_at", "expected"),
    [
        ("2026-11-20T10:00:00Z", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20T10:00:00+00:00", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20T10:30:00+01:00", datetime(2026, 11, 20, 9, 30, tzinfo=UTC)),
        ("2026-11-20T05:00:00-05:00", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20T10:00:00.250Z", datetime(2026, 11, 20, 10, 0, 0, 250000, tzinfo=UTC)),
        ("2026-11-20T10:10:00Z", NOW + timedelta(minutes=5)),  # clock drift is allowed
        ("2025-11-19T10:05:00Z", NOW - timedelta(days=366)),
    ],
)
def test_received_at_is_read_and_stored_in_utc(received_at: str, expected: datetime) -> None:
    item = parse(received_at=received_at)
    assert item.received_at == expected
    assert item.received_at.tzinfo is UTC


@pytest.mark.parametrize(
    "received_at",
    [
        "2026-11-20T10:00:00",  # no offset
        "2026-11-20",
        "10:00",
        "yesterday",
        "2026-13-01T10:00:00Z",
        "2026-11-20T10:00:00+25:00",
        "2026-11-20T10:10:01Z",  # more than five minutes ahead
        "2031-01-01T00:00:00Z",
        "2025-11-19T10:04:59Z",  # more than 366 days ago
        "0001-01-01T00:00:00+01:00",  # would overflow when moved to UTC
        "9999-12-31T23:59:59-01:00",
        "2026-11-20T10:00:00" + "0" * 100 + "Z",
        FB_TIME,
        True,
        ["2026-11-20T10:00:00Z"],
    ],
)
def test_bad_received_at_is_rejected(received_at: object) -> None:
    assert "received_at" in rejected_comment(received_at=received_at)


@pytest.mark.parametrize("field", ["id", "account", "author", "text"])
@pytest.mark.parametrize("value", [MISSING, None])
def test_required_fields_must_be_there(field: str, value: object) -> None:
    assert rejected_comment(**{field: value}) == f'"{field}" is missing'


@pytest.mark.parametrize("field", ["id", "account", "author", "text", "link"])
@pytest.mark.parametrize("value", [42, 1.5, True, ["x"], {"x": "y"}])
def test_fields_must_be_strings(field: str, value: object) -> None:
    reason = rejected_comment(**{field: value})
    assert field in reason
    assert "string" in reason


@pytest.mark.parametrize("account", ["", "Facebook", "face book", "facebook\n", "a" * 65, "fb."])
def test_account_must_be_an_account_id(account: str) -> None:
    assert "account" in rejected_comment(account=account)


@pytest.mark.parametrize("account", ["a", "school_fb-2", "a" * 64])
def test_account_ids_that_are_accepted(account: str) -> None:
    assert parse(account=account).account_id == account


def test_id_length_and_form() -> None:
    assert parse(id="i" * MAX_EXTERNAL_ID_CHARS).external_id == "i" * MAX_EXTERNAL_ID_CHARS
    assert parse(id="  zap 9  ").external_id == "zap 9"
    assert "longer than 200" in rejected_comment(id="i" * (MAX_EXTERNAL_ID_CHARS + 1))
    assert rejected_comment(id="") == '"id" is empty'
    assert rejected_comment(id="   ") == '"id" is empty'


@pytest.mark.parametrize("bad", ["\x00", "\u202e", "\u200b", "\ud800", "\n", "\u2028"])
def test_ids_with_invisible_characters_are_rejected_not_cleaned(bad: str) -> None:
    # Cleaning "ab" and "a\u200bb" to the same id would make one comment hide another.
    assert "control or invisible" in rejected_comment(id=f"zap{bad}1")


def test_text_is_cleaned() -> None:
    item = parse(
        text="  Line one\r\nline\ttwo\x00\x07\x1b[31m\x7f\x85 \u202eevil\u202c \u2066x\u2069"
        " cafe\u0301 \ud83d  \n"
    )
    assert item.text == "Line one\nline\ttwo[31m evil x café"


def test_author_is_cleaned_onto_one_line() -> None:
    assert parse(author=" \u202eA\r\n  Par\x00ent\t ").author == "A Parent"
    assert parse(author="Zoe\u0308").author == "Zoë"


@pytest.mark.parametrize("field", ["author", "text"])
def test_fields_empty_after_cleaning_are_rejected(field: str) -> None:
    assert rejected_comment(**{field: " \x00\u202e\t\n "}) == f'"{field}" is empty'


def test_length_limits_apply_after_cleaning() -> None:
    assert parse(text="x" * MAX_COMMENT_CHARS).text == "x" * MAX_COMMENT_CHARS
    assert parse(text="x" * MAX_COMMENT_CHARS + "\x00" * 50).text == "x" * MAX_COMMENT_CHARS
    assert "longer than 5000" in rejected_comment(text="x" * (MAX_COMMENT_CHARS + 1))
    assert parse(author="a" * MAX_AUTHOR_CHARS).author == "a" * MAX_AUTHOR_CHARS
    assert "longer than 200" in rejected_comment(author="a" * (MAX_AUTHOR_CHARS + 1))


def test_clean_text_normalises_to_nfc() -> None:
    assert clean_text("A\u030a") == "\u00c5"
    assert clean_text("\ufb01") == "\ufb01"  # NFC, not NFKC: ligatures are the sender's choice


@pytest.mark.parametrize(
    "link",
    [
        "https://facebook.com/oakfield/posts/1?comment_id=2#c",
        "https://example.org:8443/x",
        "HTTPS://EXAMPLE.ORG/x",
        "https://example.org/" + "a" * (MAX_LINK_CHARS - len("https://example.org/")),
    ],
)
def test_links_that_are_accepted(link: str) -> None:
    assert parse(link=link).link == link


@pytest.mark.parametrize(
    "link",
    [
        "http://facebook.com/x",
        "javascript:alert(1)",
        "ftp://example.org/x",
        "facebook.com/x",
        "https://",
        "https:///x",
        "https:example.org",
        "https://exa mple.org/x",
        "https://example.org/x\n",
        "https://example.org/\x00",
        "https://example.org/\u202ex",
        "https://facebook.com@evil.example/x",
        "https://user:pass@example.org/",
        "https://[not-an-ip]/",
        "https://example.org:99999/",
        "https://example.org/" + "a" * (MAX_LINK_CHARS + 1 - len("https://example.org/")),
    ],
)
def test_bad_links_are_rejected(link: str) -> None:
    assert "link" in rejected_comment(link=link)


# --- what any body must survive --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"id": "\xed\xa0\x80"}', "not UTF-8"),  # an encoded surrogate is not UTF-8
        (b"", "not valid JSON"),
        (b"{", "not valid JSON"),
        (b"{'id': 'x'}", "not valid JSON"),
        (b'{"id": "x",}', "not valid JSON"),
        ("\ufeff{}".encode(), "not valid JSON"),
        (b"[]", "must be a JSON object"),
        (b'"text"', "must be a JSON object"),
        (b"42", "must be a JSON object"),
        (b"null", "must be a JSON object"),
        (b"1" * 5000, "not valid JSON"),  # longer than Python will read as an integer
    ],
)
def test_bodies_that_are_not_a_json_object(body: bytes, reason: str) -> None:
    assert reason in rejected(body)
    assert reason in rejected(body, facebook=True)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
def test_non_finite_numbers_are_rejected(number: str) -> None:
    body = encode(comment())[:-1] + b', "extra": ' + number.encode() + b"}"
    assert "finite" in rejected(body)
    fb = b'{"object": "page", "entry": [], "x": ' + number.encode() + b"}"
    assert "finite" in rejected(fb, facebook=True)


def nested(depth: int) -> bytes:
    """A comment whose extra field makes the whole body `depth` levels deep."""
    inner = "[" * (depth - 1) + "]" * (depth - 1)
    return encode(comment())[:-1] + b', "extra": ' + inner.encode() + b"}"


def test_nesting_up_to_the_limit_is_accepted() -> None:
    assert parse_comment(nested(20), now=NOW) == parse()


def test_nesting_beyond_the_limit_is_rejected() -> None:
    assert "nested more than 20" in rejected(nested(21))
    assert "nested more than 20" in rejected(b"[" * 200_000)
    assert "nested more than 20" in rejected(b'{"a":' * 50_000, facebook=True)


def test_brackets_inside_strings_are_not_nesting() -> None:
    text = "[[[[{{{{" * 10 + '\\"]]' + "{" * 30
    assert parse(text=text).text == text


def test_size_is_checked_before_anything_else() -> None:
    body = encode(comment())
    padded = body + b" " * (MAX_BODY_BYTES - len(body))
    assert parse_comment(padded, now=NOW) == parse()
    assert "larger than 256 KB" in rejected(padded + b" ")
    # Neither decoded nor parsed: the size alone decides.
    assert "larger than 256 KB" in rejected(b"\xff" * (MAX_BODY_BYTES + 1))
    assert "larger than 256 KB" in rejected(b"[" * (MAX_BODY_BYTES + 1), facebook=True)


@pytest.mark.parametrize(
    "body",
    [
        encode(comment(account=MARKER)),
        encode(comment(link=MARKER)),
        encode(comment(received_at=MARKER)),
        encode(comment(id=MARKER * 20)),
        encode(comment(text=MARKER * 500)),
        encode(comment(author=MARKER * 10)),
        b"{" + MARKER.encode(),
        MARKER.encode() + b"\xff",
        encode([MARKER]),
    ],
)
def test_reasons_never_repeat_the_input(body: bytes) -> None:
    with pytest.raises(MalformedPayload) as caught:
        parse_comment(body, now=NOW)
    assert "MARKER" not in caught.value.reason
    assert "MARKER" not in str(caught.value)
    # Nor does a chained exception, which a log would print with the input in it.
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


# --- Facebook Page feed ----------------------------------------------------------------------


def test_a_facebook_comment() -> None:
    assert parse_fb(fb_change()) == [
        IncomingComment(
            source=CommentSource.FACEBOOK,
            external_id="123_456",
            author="A Parent",
            text="Hello",
            received_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
            account_id=None,
            platform_account=PAGE,
            link="https://www.facebook.com/123_456",
        )
    ]


def test_only_new_comments_by_others_are_returned() -> None:
    body = encode(
        {
            "object": "page",
            "entry": [
                {
                    "id": PAGE,
                    "time": FB_TIME,
                    "changes": [
                        {"field": "feed", "value": {"item": "reaction", "verb": "add"}},
                        fb_change(comment_id="123_1", message="first"),
                        {"field": "feed", "value": {"item": "like", "verb": "add"}},
                        fb_change(comment_id="123_2", verb="edited"),
                        fb_change(comment_id="123_3", verb="remove"),
                        fb_change(comment_id="123_4", verb="hide"),
                        fb_change(comment_id="123_5", item="status"),
                        fb_change(comment_id="123_6", item="post"),
                        fb_change(comment_id="123_7", **{"from": {"id": PAGE, "name": "Oak"}}),
                        {"field": "mention", "value": {"item": "comment", "verb": "add"}},
                        {"field": "ratings", "value": "anything at all"},
                        fb_change(comment_id="123_8", message="second"),
                    ],
                },
                {"id": "555", "time": FB_TIME, "messaging": [{"x": 1}]},  # no changes
                {
                    "id": "555",
                    "time": FB_TIME,
                    "changes": [
                        fb_change(comment_id="555_1", message="other page"),
                        fb_change(comment_id="555_2", **{"from": {"id": "555", "name": "P"}}),
                    ],
                },
            ],
        }
    )
    found = parse_facebook_feed(body, now=NOW)
    assert [(c.external_id, c.text, c.platform_account) for c in found] == [
        ("123_1", "first", PAGE),
        ("123_8", "second", PAGE),
        ("555_1", "other page", "555"),
    ]
    for item in found:
        assert_valid(item, CommentSource.FACEBOOK)


def test_the_same_comment_twice_in_one_delivery_is_returned_once() -> None:
    found = parse_fb(fb_change(message="one"), fb_change(message="one again"))
    assert [c.text for c in found] == ["one"]


def test_nothing_to_do_is_an_empty_list() -> None:
    assert parse_facebook_feed(encode({"object": "page", "entry": []}), now=NOW) == []
    assert parse_fb() == []


@pytest.mark.parametrize(
    ("created_time", "expected"),
    [
        (FB_TIME, datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20T10:00:00+0000", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20T11:00:00+0100", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20T10:00:00Z", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        (MISSING, NOW),
        (None, NOW),
    ],
)
def test_facebook_times_in_either_form(created_time: object, expected: datetime) -> None:
    [item] = parse_fb(fb_change(created_time=created_time))
    assert item.received_at == expected
    assert item.received_at.tzinfo is UTC


@pytest.mark.parametrize("message", [MISSING, None, "", "  \u202e\x00 "])
def test_a_comment_without_words_still_needs_an_answer(message: object) -> None:
    [item] = parse_fb(fb_change(message=message))
    assert item.text == NO_TEXT


@pytest.mark.parametrize("sender", [MISSING, None, {"id": "999"}, {"id": "999", "name": " \x00 "}])
def test_a_comment_whose_author_is_not_shared_is_kept(sender: object) -> None:
    [item] = parse_fb(fb_change(**{"from": sender}))
    assert item.author == UNKNOWN_AUTHOR


def test_facebook_text_and_names_are_cleaned() -> None:
    [item] = parse_fb(
        fb_change(message=" Hi\r\nthere\u202e!\x00 ", **{"from": {"id": "9", "name": "A\nB"}})
    )
    assert (item.text, item.author) == ("Hi\nthere!", "A B")


def test_an_overlong_facebook_comment_is_shortened_not_lost() -> None:
    [item] = parse_fb(fb_change(message="word " * 1700))
    assert len(item.text) <= MAX_COMMENT_CHARS
    assert item.text.endswith("word…")
    assert item.text.startswith("word word")


def test_a_facebook_comment_at_the_limit_is_kept_whole() -> None:
    [item] = parse_fb(fb_change(message="x" * MAX_COMMENT_CHARS))
    assert item.text == "x" * MAX_COMMENT_CHARS


def test_up_to_100_entries_and_changes() -> None:
    changes = [fb_change(comment_id=f"123_{i}") for i in range(100)]
    assert len(parse_fb(*changes)) == 100
    reason = rejected(fb_body(*changes, fb_change(comment_id="123_x")), facebook=True)
    assert reason == "entry[0].changes has more than 100 items"
    entries = [{"id": PAGE, "changes": [fb_change(comment_id=f"123_{i}")]} for i in range(101)]
    found = parse_facebook_feed(encode({"object": "page", "entry": entries[:100]}), now=NOW)
    assert len(found) == 100
    reason = rejected(encode({"object": "page", "entry": entries}), facebook=True)
    assert reason == '"entry" has more than 100 items'


def fb_entry_body(entry: object) -> bytes:
    return encode({"object": "page", "entry": [entry]})


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (encode({"entry": []}), '"object" must be "page"'),
        (encode({"object": "instagram", "entry": []}), '"object" must be "page"'),
        (encode({"object": "page"}), '"entry" must be a list'),
        (encode({"object": "page", "entry": {"id": PAGE}}), '"entry" must be a list'),
        (fb_entry_body("x"), "entry[0] must be an object"),
        (fb_entry_body({"changes": []}), "entry[0].id must be a Page id"),
        (fb_entry_body({"id": 123, "changes": []}), "entry[0].id must be a Page id"),
        (fb_entry_body({"id": "12a", "changes": []}), "entry[0].id must be a Page id"),
        (fb_entry_body({"id": "", "changes": []}), "entry[0].id must be a Page id"),
        (fb_entry_body({"id": PAGE, "changes": {}}), "entry[0].changes must be a list"),
        (fb_body("feed"), "entry[0].changes[0] must be an object"),
        (fb_body({"value": fb_value()}), "entry[0].changes[0].field must be a string"),
        (fb_body({"field": "feed", "value": []}), "entry[0].changes[0].value must be an object"),
        (fb_body({"field": "feed"}), "entry[0].changes[0].value must be an object"),
        (fb_body(fb_change(comment_id=MISSING)), ".value.comment_id must be a comment id"),
        (fb_body(fb_change(comment_id=123456)), ".value.comment_id must be a comment id"),
        (fb_body(fb_change(comment_id="")), ".value.comment_id must be a comment id"),
        (fb_body(fb_change(comment_id="1/../x")), ".value.comment_id must be a comment id"),
        (fb_body(fb_change(comment_id="1" * 201)), ".value.comment_id must be a comment id"),
        (fb_body(fb_change(**{"from": "A Parent"})), ".value.from must be an object"),
        (fb_body(fb_change(**{"from": {"id": 999}})), ".value.from.id must be a string"),
        (fb_body(fb_change(**{"from": {"name": ["A"]}})), ".value.from.name must be a string"),
        (fb_body(fb_change(**{"from": {"name": "A" * 201}})), "longer than 200 characters"),
        (fb_body(fb_change(message=42)), ".value.message must be a string"),
    ],
)
def test_malformed_facebook_bodies(body: bytes, reason: str) -> None:
    assert reason in rejected(body, facebook=True)


@pytest.mark.parametrize(
    "created_time",
    [
        True,
        float(FB_TIME),
        ["2026-11-20T10:00:00Z"],
        "2026-11-20T10:00:00",  # no offset
        "20 Nov 2026",
        FB_TIME + 10 * 60 + 1,  # more than five minutes after NOW
        FB_TIME - 367 * 86400,
        10**30,
        -(10**30),
        "0001-01-01T00:00:00+0100",
    ],
)
def test_bad_facebook_times_are_rejected(created_time: object) -> None:
    reason = rejected(fb_body(fb_change(created_time=created_time)), facebook=True)
    assert "entry[0].changes[0].value.created_time" in reason


def test_ignored_changes_are_not_checked() -> None:
    # An edit or a like is skipped before its contents matter, so an odd one cannot block the
    # comments delivered with it.
    odd = {"item": "comment", "verb": "edited", "comment_id": 5, "created_time": "soon"}
    assert [c.text for c in parse_fb({"field": "feed", "value": odd}, fb_change())] == ["Hello"]


# --- fuzzing ---------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities included: json.dumps writes them, we must refuse them
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)


def json_bytes(value: object, ascii_only: bool) -> bytes:
    # ensure_ascii=False with lone surrogates gives bytes that are not UTF-8: fuzz those too.
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def outcome(parser: Callable[..., object], body: bytes) -> object:
    try:
        return parser(body, now=NOW)
    except MalformedPayload as problem:
        return problem


def parse_both(body: bytes) -> None:
    """Each parser returns valid comments or raises MalformedPayload; anything else fails."""
    item = outcome(parse_comment, body)
    if isinstance(item, MalformedPayload):
        assert item.reason
    else:
        assert isinstance(item, IncomingComment)
        assert_valid(item, CommentSource.WEBHOOK)
    found = outcome(parse_facebook_feed, body)
    if isinstance(found, MalformedPayload):
        assert found.reason
    else:
        assert isinstance(found, list)
        for each in found:
            assert_valid(each, CommentSource.FACEBOOK)
        assert len({c.external_id for c in found}) == len(found)


@FUZZ
@given(st.binary(max_size=2000))
def test_any_bytes_are_parsed_or_refused(body: bytes) -> None:
    parse_both(body)


@FUZZ
@given(json_values, st.booleans())
def test_any_json_is_parsed_or_refused(value: object, ascii_only: bool) -> None:
    parse_both(json_bytes(value, ascii_only))


comment_fields = st.sampled_from(["id", "account", "author", "text", "link", "received_at"])
fb_fields = st.sampled_from(
    ["item", "verb", "comment_id", "from", "message", "created_time", "post_id"]
)
# Values near the valid ones reach the checks that arbitrary JSON rarely gets past.
plausible = (
    json_values
    | st.sampled_from(["", "facebook", "https://x.org/a", "2026-11-20T10:00:00Z", "comment"])
    | st.sampled_from(["add", "123_456", "123", "2026-11-20T10:00:00+0000", "\u202e", "\x00"])
    | st.integers(min_value=FB_TIME - 400 * 86400, max_value=FB_TIME + 86400)
    | st.fixed_dictionaries({"id": st.sampled_from([PAGE, "9", 9]), "name": json_values})
    | st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat())
)


@FUZZ
@given(st.dictionaries(comment_fields, plausible | st.just(MISSING)), st.booleans())
def test_a_comment_with_any_field_values_is_parsed_or_refused(
    changes: dict[str, Any], ascii_only: bool
) -> None:
    parse_both(json_bytes(comment(**changes), ascii_only))


@FUZZ
@given(
    st.lists(st.dictionaries(fb_fields, plausible | st.just(MISSING)), max_size=4),
    st.sampled_from([PAGE, "9", "", 9, None]),
    st.booleans(),
)
def test_a_facebook_feed_with_any_values_is_parsed_or_refused(
    changes: list[dict[str, Any]], page: object, ascii_only: bool
) -> None:
    body = {
        "object": "page",
        "entry": [{"id": page, "changes": [fb_change(**c) for c in changes]}],
    }
    parse_both(json_bytes(body, ascii_only))


@FUZZ
@given(st.binary(max_size=500), st.text(min_size=1, max_size=40) | st.binary(min_size=1))
def test_a_signature_verifies_its_own_body(body: bytes, secret: str | bytes) -> None:
    assert verify_signature(body, sign(body, secret), secret)


@FUZZ
@given(st.binary(min_size=1, max_size=500), st.binary(min_size=1, max_size=40), st.data())
def test_changing_any_byte_breaks_the_signature(
    body: bytes, secret: bytes, data: st.DataObject
) -> None:
    header = sign(body, secret)
    index = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    flip = data.draw(st.integers(min_value=1, max_value=255))
    changed = bytearray(body)
    changed[index] ^= flip
    assert not verify_signature(bytes(changed), header, secret)

"""Recognising a worry about a child in the words busy staff type, before any policy search.

The phrasings are written the way staff write in a chat: lowercase, typos, abbreviations,
indirect ("one of my yr 9s told me..."). A miss costs a child, so the disclosures must all be
recognised; a false alarm costs a kind redirect, but questions that only mention pupils must
still reach the policy, or staff stop asking.
"""

from __future__ import annotations

import pytest

from dialogs.services.safeguarding.concern import (
    ConcernKind,
    may_concern_a_child,
    safeguarding_concern,
)

DISCLOSURES = [
    # the case that was found
    "a pupil messaged me on instagram to say she is being abused, what do I do?",
    "A pupil disclosed to me in a message that she is being abused at home",
    # from the issue, written out
    "one of my yr 9s told me her stepdad hits her when her mum is at work",
    "kid in my form sent me a msg saying she wants to end it",
    "found out a pupil has been sending pics to an older guy she met on snap",
    # self-harm and suicide
    "a year 10 girl told me she's been cutting herself",
    "a student DMd me on insta saying he's going to kill himself tonight",
    "a 13 year old in my tutor group is talking about suicide on her finsta",
    "a boy in my form sent me a message at 2am saying he cant cope anymore and wants to die",
    "sucide note posted by a pupil on instagram",
    "pupil in yr8 says she is selfharming",
    "year 11 boy posted on insta that he's going to unalive himself",
    "I've seen a pupil's tiktok where she says she wants to hurt herself",
    "worried about a year 6 pupil, he keeps posting that nobody would care if he died",
    "a student sent me a snapchat of her self harm cuts",
    # abuse and neglect
    "one of my tutees said her uncle touches her and asked me not to tell anyone",
    "a child in my class has bruises on her arms and says her dad did it",
    "child in reception said mummy's boyfriend hurts her",
    "a studnet told me she was abuesd by her cousin",
    "i think a pupil in my class is not being fed at home, she is always hungry",
    "pupil said they are scared to go home",
    "child says she doesnt feel safe at home",
    "what should i do if a pupil tells me they are being abused?",
    "a pupil asked me to promise to keep a secret about what happens at home",
    "A Year 12 student disclosed that she was raped at a party",
    "a girl in my form told me she was touched inappropriately by a teacher",
    "a child told me her stepdad makes her watch porn",
    # sexual images, sextortion, grooming, exploitation
    "a boy in year 8 has shared nudes of a girl in his class in a group chat",
    "yr 11 lad is being blackmailed over pics he sent someone online",
    "a pupil told me someone online is threatening to share her nudes unless she pays",
    "think one of my year 7s is being groomed, a man keeps messaging her on roblox",
    "one of the kids in year 5 said a man at the park asked for photos of her",
    "pupil has been sending naked pics to her bf who shared them round school",
    "ks3 girl has been sent sexual messages by an adult on tiktok",
    "one of my year 10s has gone missing and posted on snap that she is with a man she met online",
    "someone is sharing an explicit video of a year 10 girl on snapchat",
    "pupil showed me messages from a stranger asking her to meet up and keep it secret",
    "year 8 girl is being sextorted on insta",
    "CSE concern - year 9 girl getting into cars with older men after school",
    "student told me she's being sexually exploited by older boys in town",
    "a pupil's boyfriend is 23 and she is 14",
    # FGM, forced marriage, radicalisation, exploitation, weapons
    "a girl in year 9 told me she is going abroad this summer to be cut",
    "worried a pupil might be at risk of fgm",
    "a pupil is being forced to marry someone over the summer",
    "one of my students has been posting far right videos and says he wants to join them",
    "a parent told me their son is being radicalised online",
    "one of our sixth formers said he's being made to carry drugs for a gang",
    "a pupil posted a photo of a knife and said he will stab someone at school tomorrow",
    # online abuse of a pupil
    "a parent messaged me to say her daughter is being bullied on tiktok",
    "a year 7 boy is getting nasty messages from other kids on whatsapp",
    "a pupil is getting horrible racist messages on whatsapp from other kids in his year",
    "lots of nasty comments being posted about a year 7 boy on the school facebook page",
    "there's a video going round of a year 9 being beaten up, kids are sharing it on whatsapp",
    "a pupil said something really worrying on her instagram story last night",
]

NEAR_MISSES = [
    # from the issue
    "can I message a pupil about homework?",
    "what should I do if a parent posts a photo of another child?",
    "can I report a parent who is abusive to me online?",
    "are we allowed to use Snapchat with year 11?",
    "what is the policy on sharing pupils' photos?",
    "how do I block someone harassing me?",
    # staff targeted: the report, not the intercept
    "a parent keeps harassing me on facebook, what should I do?",
    "a year 8 is bullying me on tiktok, can I reply?",
    "a parent is threatening to sue me over a facebook post, what should I do?",
    "someone is trolling the school twitter account, who deals with it?",
    "a pupil filmed me in class and put it on tiktok, what do I do?",
    # pupils, photos and messages, with nothing wrong
    "can I accept a friend request from a former pupil who is now 19?",
    "can I post photos of the year 6 trip on the school facebook?",
    "can I use my own phone to take pics of the kids on sports day?",
    "what if a pupil sends me a friend request on instagram?",
    "can I join a whatsapp group with my class's parents?",
    "can I start a whatsapp thread with year 11 parents?",
    "is it ok to post a video of the nativity with the children singing?",
    "can I disclose a pupil's name in a post about their award?",
    "can I tag the pupils' parents in the school's instagram post?",
    "can I comment on a pupil's public youtube channel?",
    "are students allowed to film lessons for their own channels?",
    "can my personal profile picture show me with my own kids?",
    "can I wish a former student happy birthday on facebook?",
    "is it ok to livestream the year 5 assembly on youtube?",
    "can I post a charming photo of reception's first day?",
    "can I message a student's parent on whatsapp about a school trip?",
    "my colleague posted a photo of pupils on her personal instagram, is that allowed?",
    "can I share a pupil's artwork on the school website without their surname?",
    "what should I do if pupils post photos of me from the school disco?",
    "can I post the under 11s football results with the boys' names?",
    "what do I do if a pupil's parent asks me to delete a photo of their child?",
    "can the PE department have its own instagram for the girls' netball team?",
    "can I send a text to a pupil who was off sick?",
    "can I share the anti-bullying week poster on twitter?",
    # about the policy, safeguarding or the school, not about a child
    "who is the designated safeguarding lead?",
    "is it ok to follow the school instagram from my personal account?",
    "how quickly do we have to reply to comments on the school facebook page?",
    "what do I do if a journalist rings me about a pupil?",
    "can pupils' first names go in the newsletter?",
    "can I post about world mental health day on the school account?",
    "what should I say if a parent complains about a post on facebook?",
    "how long can I spend on social media during my lunch break?",
    "can I delete a rude comment from a parent on the school page?",
    "can I use the school logo on my linkedin?",
    "what happens if I break the social media policy?",
    "can a teaching assistant be friends with parents on facebook?",
    "how do I report an inappropriate website so IT can block it?",
    "can I share a news story about our school on my own facebook?",
    "can we share the online safety leaflet about grooming on the school website?",
]


def test_there_are_enough_phrasings_of_each() -> None:
    assert len(set(DISCLOSURES)) >= 40
    assert len(set(NEAR_MISSES)) >= 40


@pytest.mark.parametrize("text", DISCLOSURES)
def test_a_worry_about_a_child_is_recognised(text: str) -> None:
    assert safeguarding_concern(text) is not None


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_a_question_that_only_mentions_pupils_still_goes_to_the_policy(text: str) -> None:
    assert safeguarding_concern(text) is None, safeguarding_concern(text)


@pytest.mark.parametrize(
    "text",
    [
        "found out a pupil has been sending pics to an older guy she met on snap",
        "a boy in year 8 has shared nudes of a girl in his class in a group chat",
        "yr 11 lad is being blackmailed over pics he sent someone online",
        "someone is sharing an explicit video of a year 10 girl on snapchat",
        "year 8 girl is being sextorted on insta",
        "think one of my year 7s is being groomed, a man keeps messaging her on roblox",
    ],
)
def test_a_sexual_image_or_grooming_is_told_apart_so_nothing_is_collected(text: str) -> None:
    concern = safeguarding_concern(text)
    assert concern is not None
    assert concern.kind is ConcernKind.SEXUAL


@pytest.mark.parametrize(
    "text",
    [
        "a parent messaged me to say her daughter is being bullied on tiktok",
        "a year 7 boy is getting nasty messages from other kids on whatsapp",
        "lots of nasty comments being posted about a year 7 boy on the school facebook page",
    ],
)
def test_online_abuse_of_a_pupil_is_told_apart_so_the_report_can_be_offered(text: str) -> None:
    concern = safeguarding_concern(text)
    assert concern is not None
    assert concern.kind is ConcernKind.ONLINE_ABUSE


@pytest.mark.parametrize(
    "text",
    [
        "kid in my form sent me a msg saying she wants to end it",
        "one of my yr 9s told me her stepdad hits her when her mum is at work",
        "a pupil is being bullied online and says she wants to kill herself",
    ],
)
def test_harm_beyond_online_abuse_is_not_offered_the_report(text: str) -> None:
    concern = safeguarding_concern(text)
    assert concern is not None
    assert concern.kind is ConcernKind.HARM


@pytest.mark.parametrize(
    "text",
    [
        "",
        "?",
        "\u202e\u0000 pupil",
        "pupil " * 300,
        "SUICIDE" * 200,
        "a" * 1000,
        "\U0001f62d\U0001f62d pupil said she wants to die \U0001f62d",
    ],
)
def test_any_text_is_read_without_raising(text: str) -> None:
    safeguarding_concern(text)


@pytest.mark.parametrize(
    "text",
    [
        "a pupil in my form seems really scared, what does the policy say about messaging her?",
        "a student sent me a friend request on facebook, should I report it?",
    ],
)
def test_a_question_that_could_still_be_a_worry_is_read_so(text: str) -> None:
    assert safeguarding_concern(text) is None  # not recognised as a worry...
    assert may_concern_a_child(text)  # ...but read as one that could be


@pytest.mark.parametrize(
    "text",
    [
        "can I post photos of my class on the school instagram?",
        "can I accept a friend request from a parent?",
        "how quickly do we have to reply to comments on the school page?",
        "a parent is slagging me off in a fb group, can i reply?",
    ],
)
def test_a_plain_policy_question_is_not(text: str) -> None:
    assert not may_concern_a_child(text)

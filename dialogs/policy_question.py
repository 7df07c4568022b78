"""Asking the policy, and the policy owner answering what the policy does not.

An answer is the school's own words, quoted with where they come from and who to ask for more;
when the policy does not answer, the bot says so plainly rather than guessing, shows the clauses
that come close as "may help" (never as an answer), and offers to pass the question on. Every
answer asks "Was this helpful?", because unhelpful answers are how the owner finds out where the
policy, or the bot, falls short.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from dialogs.engine import Dialog, DialogContext, DialogState, Step
from dialogs.home import about_posting, post_offer
from dialogs.prompts import TextPrompt
from dialogs.safeguarding_intercept import safeguarding_messages
from dialogs.services.container import Services
from dialogs.services.errors import InvalidRequest
from dialogs.services.messages import Button, Fact, InputKind, Message, MessageKind
from dialogs.services.policy.answer import PolicyAnswer
from dialogs.services.policy.service import (
    MAX_QUESTION_CHARS,
    MAX_REPLY_CHARS,
    Asked,
    Feedback,
    Intercepted,
    PolicyAction,
    action_value,
    parse_action,
    parse_question_ref,
    question_ref,
)
from dialogs.services.safeguarding.reply import child_safety_note
from dialogs.services.school.permissions import owner_names
from dialogs.services.school.schools import Person, School
from dialogs.turn import ButtonKind, Turn, TurnOutcome

ASK_POLICY = "ask_policy"
ANSWER_QUESTION = "answer_policy_question"

_EXAMPLE = "Can I accept a friend request from a pupil?"


class AskPolicy(Dialog):
    name = ASK_POLICY
    title = "Question about the policy"
    confirm = False
    noun = "question"
    start_word = "ask"
    help_text = (
        "Ask me about the school's staff social media policy in your own words, for example "
        f'"{_EXAMPLE}" I\'ll quote the part of the policy that answers it and say where it '
        "is; if the policy doesn't say, I'll tell you, show the parts that may help, and can "
        "pass your question on."
    )
    steps = (
        Step(
            "question",
            "Your question",
            TextPrompt(
                "What would you like to know about the social media policy? Ask in your own "
                f"words, for example: {_EXAMPLE}",
                min_length=3,
                max_length=MAX_QUESTION_CHARS,
            ),
        ),
    )

    async def submit(self, ctx: DialogContext, answers: dict[str, Any]) -> Sequence[Message]:
        return await answer_question(
            ctx.services, ctx.school, ctx.person, channel=ctx.channel, question=answers["question"]
        )


class AnswerPolicyQuestion(Dialog):
    """The policy owner's reply to a question passed to them, checked before it is sent."""

    name = ANSWER_QUESTION
    title = "Answer to a policy question"
    noun = "answer"
    start_word = "answer and the question number (for example answer Q-3)"
    help_text = (
        "Type the answer you'd like to send to the person who asked. It is sent with your name "
        "and kept with the question for the record."
    )
    steps = (
        Step(
            "answer",
            "Your answer",
            TextPrompt(
                "What is your answer? It will be sent to the person who asked, with your name.",
                min_length=2,
                max_length=MAX_REPLY_CHARS,
            ),
        ),
    )

    def intro(self, ctx: DialogContext) -> Sequence[Message]:
        return [
            Message(
                kind=MessageKind.INFO,
                title=f"Answering {question_ref(ctx.state.flags['question_id'])}",
                text="The question you're answering:",
                facts=(Fact(label="Question", value=ctx.state.flags["question_text"]),),
            )
        ]

    async def submit(self, ctx: DialogContext, answers: dict[str, Any]) -> Sequence[Message]:
        question_id = int(ctx.state.flags["question_id"])
        row = await ctx.services.policies.reply(
            ctx.school, ctx.person, question_id, answers["answer"]
        )
        asker = ctx.school.display_name(row.person_id)
        return [
            Message(
                kind=MessageKind.DONE,
                title=f"Answer sent ({question_ref(question_id)})",
                text=f"Thank you. Your answer is on its way to {asker} and is kept with the "
                "question. If the policy should say this, consider adding it at the next review.",
            )
        ]


# -- answering ---------------------------------------------------------------------------------

_ASK = re.compile(r"^\s*(?:ask|question|policy)\b[\s:,-]*(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_QUESTION_START = re.compile(
    r"^\s*(?:can|could|may|might|should|shall|must|am|is|are|do|does|did|will|would|what|"
    r"whats|what's|how|who|whom|when|where|which|why|is it|are we)\b",
    re.IGNORECASE,
)


def asked_for(text: str) -> str | None:
    """The question in a message such as "ask can I post photos?", or "" for "ask" alone."""
    match = _ASK.match(text)
    return match.group("rest").strip() if match else None


def looks_like_question(text: str) -> str | None:
    """A message that is itself a question ("can I post photos of my class?"), which is
    answered from the policy rather than met with the menu."""
    stripped = text.strip()
    if len(stripped.split()) >= 3 and (stripped.endswith("?") or _QUESTION_START.match(stripped)):
        return stripped
    return None


async def answer_question(
    services: Services,
    school: School,
    person: Person,
    *,
    channel: str,
    question: str,
    offer_post: bool = False,
) -> list[Message]:
    """The policy's answer; or, for a worry about a child, the safeguarding reply and nothing
    else (never an offer to post). `offer_post` adds the offer to ask for approval of a post."""
    try:
        asked = await services.policies.ask(school, person, channel=channel, question=question)
    except InvalidRequest as exc:
        return [Message(kind=MessageKind.HINT, text=exc.message)]
    if isinstance(asked, Intercepted):
        return safeguarding_messages(asked.reply)
    if not asked.answer.confident and asked.answer.child_safety and asked.version is not None:
        replies = worry_without_answer_messages(asked, school, person)
    else:
        replies = [
            *answer_messages(asked, school),
            *child_safety_messages(asked.answer, school, person),
        ]
    return [*replies, *([post_offer()] if offer_post else [])]


def _version_fact(asked: Asked, school: School) -> Fact:
    version = asked.version
    assert version is not None
    name = version.title or "Staff social media policy"
    when = version.imported_at.astimezone(school.tz)
    detail = f"{name}, version {version.version} (imported {when:%d/%m/%Y})"
    if version.effective_from is not None:
        detail = (
            f"{name}, version {version.version} (in force from {version.effective_from:%d/%m/%Y})"
        )
    return Fact(label="Policy", value=detail)


def answer_messages(asked: Asked, school: School) -> list[Message]:
    """The quote and its citation, or an honest "the policy doesn't say" with an offer (and
    the clauses that may help, when some touch the question)."""
    question_id = asked.question.id
    assert question_id is not None
    owners = owner_names(school)
    if asked.version is None:
        return [
            Message(
                kind=MessageKind.ANSWER,
                title="I don't have the policy yet",
                text=f"{school.name} hasn't given me its social media policy yet, so I can't "
                f"quote it. Shall I pass your question to {owners}? Their answer will come back "
                "to you here.",
                buttons=_refer_buttons(question_id),
                expects=InputKind.CHOICE,
            )
        ]
    if not asked.answer.confident:
        if asked.answer.may_help:
            return may_help_messages(asked, school)
        return [
            Message(
                kind=MessageKind.ANSWER,
                title="The policy doesn't say",
                text="I couldn't find anything in the policy that answers that, and I'd rather "
                f"not guess. Shall I pass your question to {owners}, who looks after the policy? "
                "Their answer will come back to you here.",
                buttons=_refer_buttons(question_id),
                expects=InputKind.CHOICE,
            )
        ]
    best = asked.answer.passages[0]
    return [
        Message(
            kind=MessageKind.ANSWER,
            title=f"The policy says ({best.citation})",
            text=f"\u201c{best.text}\u201d",
            facts=(
                Fact(label="Where", value=best.citation),
                _version_fact(asked, school),
                Fact(label="Questions about it", value=owners),
            ),
            buttons=(
                Button(
                    value=action_value(PolicyAction.HELPFUL, question_id),
                    label="Yes, that helped",
                    style="primary",
                ),
                Button(
                    value=action_value(PolicyAction.UNHELPFUL, question_id),
                    label="No, it didn't",
                ),
            ),
            expects=InputKind.CHOICE,
        ),
        Message(
            kind=MessageKind.INFO,
            text="Was this helpful? You can ask another question at any time.",
        ),
    ]


def may_help_messages(asked: Asked, school: School) -> list[Message]:
    """No answer, but the clauses that touch the question, each cited so it can be found in the
    policy and plainly marked as not an answer; then the offer to ask the policy owner."""
    question_id = asked.question.id
    assert question_id is not None
    clauses = asked.answer.may_help
    if len(clauses) == 1:
        these, they = "This part of the policy comes close and may help, but it is", "it doesn't"
    else:
        these, they = (
            "These parts of the policy come close and may help, but they are",
            "they don't",
        )
    return [
        Message(
            kind=MessageKind.ANSWER,
            title="The policy doesn't say exactly",
            text="I couldn't find anything in the policy that answers your question, and I'd "
            f"rather not guess. {these} not an answer:",
            facts=tuple(
                Fact(label=passage.citation, value=f"\u201c{passage.brief}\u201d")
                for passage in clauses
            ),
        ),
        Message(
            kind=MessageKind.PROMPT,
            text=f"If {they} answer your question, shall I pass it to {owner_names(school)}, "
            "who looks after the policy? Their answer will come back to you here.",
            buttons=_refer_buttons(question_id),
            expects=InputKind.CHOICE,
        ),
    ]


def worry_without_answer_messages(asked: Asked, school: School, person: Person) -> list[Message]:
    """A question that could be a worry about a child, which the policy does not answer: the
    safeguarding lead is the answer, first, as it would be had the worry been recognised; the
    offer to pass the question to the policy owner comes after, for a question that really is
    about the policy ("a pupil seems scared, can I message her?")."""
    question_id = asked.question.id
    assert question_id is not None
    return [
        Message(
            kind=MessageKind.ANSWER,
            title="The policy doesn't say",
            text=f"{child_safety_note(school, person)}\n\nIf it's a question about the policy "
            "itself, I couldn't find anything in it that answers it, and I'd rather not guess: "
            f"shall I pass it to {owner_names(school)}, who looks after the policy? Their answer "
            "will come back to you here.",
            buttons=_refer_buttons(question_id),
            expects=InputKind.CHOICE,
        )
    ]


def child_safety_messages(answer: PolicyAnswer, school: School, person: Person) -> list[Message]:
    """For a question that could be a worry about a child the intercept did not recognise,
    the safeguarding lead named beside whatever answer the policy gave (and no clause offered
    as "may help": `PolicyAnswer.may_help` holds none)."""
    if not answer.child_safety:
        return []
    return [Message(kind=MessageKind.HINT, text=child_safety_note(school, person))]


def _refer_buttons(question_id: int) -> tuple[Button, ...]:
    return (
        Button(
            value=action_value(PolicyAction.REFER, question_id),
            label="Yes, pass it on",
            style="primary",
        ),
        Button(value=action_value(PolicyAction.NO_REFER, question_id), label="No, thanks"),
    )


_TYPED_YES = frozenset({"yes", "y", "yeah", "yep", "yes please", "please", "ok", "okay", "sure"})
_TYPED_NO = frozenset({"no", "n", "nope", "no thanks", "no thank you", "not really"})
# How long a typed "yes" or "no" is taken as the reply to the last answer rather than as a
# new message: long enough to read the answer, short enough not to surprise anyone later.
REPLY_WINDOW = timedelta(minutes=30)


async def typed_reply(
    services: Services, school: School, person: Person, text: str
) -> list[Message] | None:
    """A "yes" or "no" typed instead of pressed, straight after an answer: "Was this helpful?"
    for a quoted answer, "Shall I pass it on?" otherwise. None if it is not such a reply."""
    key = " ".join(re.sub(r"[^a-z ]", " ", text.casefold()).split())
    if key not in _TYPED_YES and key not in _TYPED_NO:
        return None
    row = await services.policies.latest_asked(school, person, within=REPLY_WINDOW)
    if row is None or row.id is None or row.referred_at is not None:
        return None
    if await services.policies.intercepted_since(school, person, row.asked_at):
        return None  # the last thing said was the safeguarding reply, not this answer
    yes = key in _TYPED_YES
    if row.confident and row.feedback is None:
        action = PolicyAction.HELPFUL if yes else PolicyAction.UNHELPFUL
    elif not row.confident or row.feedback == Feedback.UNHELPFUL.value:
        action = PolicyAction.REFER if yes else PolicyAction.NO_REFER
    else:
        return None
    return await follow_up(services, school, person, action, row.id)


async def follow_up(
    services: Services, school: School, person: Person, action: PolicyAction, question_id: int
) -> list[Message]:
    """What pressing a button under an answer does (everything but the owner's Answer)."""
    owners = owner_names(school)
    if action is PolicyAction.HELPFUL:
        await services.policies.feedback(school, person, question_id, Feedback.HELPFUL)
        return [Message(kind=MessageKind.INFO, text="Thank you, I've noted that it helped.")]
    if action is PolicyAction.UNHELPFUL:
        await services.policies.feedback(school, person, question_id, Feedback.UNHELPFUL)
        return [
            Message(
                kind=MessageKind.PROMPT,
                text="Sorry it didn't help; I've noted that, so the policy owner can improve it. "
                f"Shall I pass your question to {owners}? Their answer will come back to you here.",
                buttons=_refer_buttons(question_id),
                expects=InputKind.CHOICE,
            )
        ]
    if action is PolicyAction.REFER:
        _, passed_now = await services.policies.refer(school, person, question_id)
        text = (
            f"Your question is already on its way to {owners}; their answer will come to you here."
            if not passed_now
            else f"Done: I'm sending your question to {owners}, and I will tell you here if it "
            "cannot reach them. Their answer will come to you here too."
        )
        return [Message(kind=MessageKind.INFO, text=text)]
    return [
        Message(
            kind=MessageKind.INFO,
            text=f"OK, I haven't passed it on. If the policy doesn't cover something you need, "
            f"{owners} can help.",
        )
    ]


async def press_policy_button(turn: Turn, pressed: tuple[PolicyAction, int]) -> TurnOutcome:
    """A button under a policy answer (or the owner's "Answer it"), pressed at any time:
    it is acted on without losing the place in a dialog under way."""
    action, question_id = pressed
    who, current = turn.who, turn.current
    services = turn.services()
    resumed = turn.resumed()
    if action is not PolicyAction.ANSWER:
        messages = await follow_up(services, who.school, who.person, action, question_id)
        return current, [*messages, *resumed]
    if current is not None:
        later = f"type answer {question_ref(question_id)} to answer this question"
        return current, [turn.busy(later), *resumed]
    return await start_answer(turn, question_id)


POLICY_BUTTONS = ButtonKind("policy", parse_action, press_policy_button)


async def start_answer(turn: Turn, question_id: int) -> TurnOutcome:
    """The policy owner answering a question the policy did not."""
    question = await turn.services().policies.for_answering(
        turn.who.school, turn.who.person, question_id
    )
    state = DialogState(
        dialog=ANSWER_QUESTION,
        flags={"question_id": question_id, "question_text": question.question},
    )
    return await turn.start(ANSWER_QUESTION, state)


async def about_the_policy(turn: Turn, typed: str, wanted: str | None) -> TurnOutcome | None:
    """Typed words about the policy: the owner's "answer Q-7", "ask ..." or a question in
    its own right, or "yes"/"no" straight after an answer; None for anything else."""
    who = turn.who
    answering = re.match(r"(?i)answer\s+(q-?\d+|\d+)\s*$", typed)
    if answering:
        number = parse_question_ref(answering.group(1))
        assert number is not None
        return await start_answer(turn, number)
    question = asked_for(typed)
    if question is None and wanted is None:
        question = looks_like_question(typed)
    services = turn.services()
    if question:
        answered = await answer_question(
            services,
            who.school,
            who.person,
            channel=who.key.channel,
            question=question,
            offer_post=about_posting(question),
        )
        return None, answered
    if wanted is None:
        reply = await typed_reply(services, who.school, who.person, typed)
        if reply is not None:
            return None, reply
    return None

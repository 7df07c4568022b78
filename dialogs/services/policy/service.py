"""A school's policy versions, the questions staff ask about them, and the owner's replies.

Answers are always quoted from the version in force when the question was asked, and that
version is recorded with the question, so what the bot said can be explained later even after
the policy changes. Every question is kept: one the policy could not answer, or whose answer
was unhelpful, is exactly what the policy owner needs to see to improve the policy.

Every question but one kind: a worry about a child (safeguarding_concern) is never searched
and never kept. It gets the safeguarding reply, and only the fact that it did is audited; the
policy owner must never receive a child's disclosure as "a question the policy did not answer".
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Unpack

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import load_only
from sqlmodel import col, func, or_, select

from dialogs.services.errors import InvalidRequest, NotFound
from dialogs.services.messages import Button, Fact, InputKind, Message, MessageKind
from dialogs.services.observer import Confidence, Observer, Observers
from dialogs.services.policy.answer import PolicyAnswer
from dialogs.services.policy.documents import PolicyDocument, read_policy_document
from dialogs.services.policy.sections import ParsedPolicy, parse_policy
from dialogs.services.policy.stored import policy_from_json, sections_to_json
from dialogs.services.privacy.audit import AuditAction
from dialogs.services.privacy.audited import Notifying, NotifyingService
from dialogs.services.safeguarding.concern import may_concern_a_child, safeguarding_concern
from dialogs.services.safeguarding.reply import SafeguardingReply, safeguarding_reply
from dialogs.services.school.permissions import QuestionAction, policy_owners, require
from dialogs.services.school.schools import Person, School
from dialogs.services.school.text import clean_text
from storage.models import PolicyQuestion, PolicyVersion

if TYPE_CHECKING:
    from dialogs.services.policy.search import PolicySearch

log = logging.getLogger(__name__)

COMMAND_LINE = "command-line"
CONFIGURATION = "configuration"
MAX_QUESTION_CHARS = 1000
MAX_REPLY_CHARS = 3000


class Feedback(StrEnum):
    HELPFUL = "helpful"
    UNHELPFUL = "unhelpful"


class PolicyAction(StrEnum):
    """What a button on an answer does; its value is f"policy:{action}:{question id}"."""

    HELPFUL = "helpful"
    UNHELPFUL = "unhelpful"
    REFER = "refer"
    NO_REFER = "norefer"
    ANSWER = "answer"


PREFIX = "policy:"


def action_value(action: PolicyAction, question_id: int) -> str:
    return f"{PREFIX}{action.value}:{question_id}"


def parse_action(value: str) -> tuple[PolicyAction, int] | None:
    """The action a button value asks for, or None if it is not a policy button."""
    if not value.startswith(PREFIX):
        return None
    _, _, rest = value.partition(":")
    name, _, number = rest.partition(":")
    try:
        return PolicyAction(name), int(number)
    except ValueError:
        return None


MAX_QUESTION_ID = 2**31 - 1
"""The largest id a question can have (PostgreSQL's INTEGER)."""


def question_ref(question_id: int) -> str:
    return f"Q-{question_id}"


def parse_question_ref(text: str) -> int | None:
    cleaned = text.strip().upper().removeprefix("Q-").removeprefix("Q")
    return int(cleaned) if cleaned.isdecimal() else None


def policy_from_row(row: PolicyVersion) -> ParsedPolicy:
    """The parse answers are quoted from, exactly as it was stored at import."""
    return policy_from_json(row.title, row.sections, row.dropped)


class PolicySearches:
    """Built searches by policy version, shared across turns: a version never changes, so an
    index built once answers every later question about it."""

    def __init__(self, capacity: int = 32) -> None:
        self._capacity = capacity
        self._built: OrderedDict[int, PolicySearch] = OrderedDict()

    def cached(self, version_id: int) -> PolicySearch | None:
        found = self._built.get(version_id)
        if found is not None:
            self._built.move_to_end(version_id)
        return found

    def build(self, row: PolicyVersion) -> PolicySearch:
        assert row.id is not None
        # Imported here, not at the top: the search's word tables and stemmer are loaded
        # when a question needs them, not by every command.
        from dialogs.services.policy.search import PolicySearch

        built = self._built[row.id] = PolicySearch(policy_from_row(row))
        while len(self._built) > self._capacity:
            self._built.popitem(last=False)
        return built


@dataclass(frozen=True)
class Imported:
    version: PolicyVersion
    policy: ParsedPolicy
    unchanged: bool  # the same file as the version already in force: nothing new was stored


@dataclass(frozen=True)
class Asked:
    question: PolicyQuestion
    answer: PolicyAnswer
    version: PolicyVersion | None


@dataclass(frozen=True)
class Intercepted:
    """A question that was a worry about a child: answered with this, never searched or kept."""

    reply: SafeguardingReply


class PolicyService(NotifyingService):
    def __init__(
        self,
        *,
        searches: PolicySearches,
        observer: Observer | None = None,
        **work: Unpack[Notifying],
    ) -> None:
        super().__init__(**work)
        self._searches = searches
        self._observer = observer or Observers()

    # -- versions ----------------------------------------------------------------------------

    async def import_document(
        self,
        school: School,
        document: PolicyDocument,
        *,
        data: bytes,
        source_name: str,
        imported_by: str,
        effective_from: date | None = None,
    ) -> Imported:
        """Store a new version; importing the same file again changes nothing.

        Unless the parser has changed how it splits that file: a version keeps the parse its
        answers were quoted from, so after an upgrade the same file is stored again as a new
        version with the new parse, and answers from then on come from that.
        """
        digest = hashlib.sha256(data).hexdigest()
        parsed = parse_policy(document.text, kind=document.kind)
        if not parsed.sections:
            raise InvalidRequest(
                f"I couldn't find any policy wording in {source_name}, so nothing was imported."
            )
        latest = await self.latest(school.id)
        sections = sections_to_json(parsed)
        if (
            latest is not None
            and latest.sha256 == digest
            and latest.effective_from == effective_from
            and latest.sections == sections
            and latest.title == parsed.title
            and latest.dropped == list(parsed.dropped)
        ):
            return Imported(version=latest, policy=policy_from_row(latest), unchanged=True)
        row = PolicyVersion(
            school_id=school.id,
            version=(latest.version + 1) if latest else 1,
            title=parsed.title,
            source_name=source_name,
            source_format=document.format.value,
            sha256=digest,
            size=len(data),
            imported_at=self._now,
            imported_by=imported_by,
            effective_from=effective_from,
            text=document.text,
            kind=document.kind,
            sections=sections,
            dropped=list(parsed.dropped),
        )
        self._session.add(row)
        await self._session.flush()
        assert row.id is not None
        self._audit.record(
            school_id=school.id,
            actor_id=imported_by,
            action=AuditAction.POLICY_IMPORT,
            target_type="policy_version",
            target_id=str(row.id),
            detail=f"version {row.version}, sha256 {digest[:12]}",
        )
        return Imported(version=row, policy=parsed, unchanged=False)

    async def _import_configured(self, school: School) -> None:
        """The policy named in the configuration is the first version, imported the first
        time anyone needs it; later versions come from `policybot policy import`.

        Two people asking at once on a fresh install could both try to import it: the
        savepoint lets the loser carry on with the winner's version.
        """
        assert school.policy_file is not None
        data = school.policy_file.read_bytes()
        document = read_policy_document(data, school.policy_file.name)
        try:
            async with self._session.begin_nested():
                await self.import_document(
                    school,
                    document,
                    data=data,
                    source_name=school.policy_file.name,
                    imported_by=CONFIGURATION,
                )
        except IntegrityError:
            log.info("the configured policy for %s was imported by another turn", school.id)

    async def latest(self, school_id: str) -> PolicyVersion | None:
        result = await self._session.execute(
            select(PolicyVersion)
            .where(PolicyVersion.school_id == school_id)
            .order_by(col(PolicyVersion.version).desc())
            .limit(1)
        )
        return result.scalars().first()

    async def versions(self, school_id: str) -> Sequence[PolicyVersion]:
        result = await self._session.execute(
            select(PolicyVersion)
            .where(PolicyVersion.school_id == school_id)
            .order_by(col(PolicyVersion.version))
        )
        return result.scalars().all()

    async def in_force(self, school: School) -> PolicyVersion | None:
        """The newest version already in effect today at the school; a version imported
        ahead of its effective date waits for it, and the one before stays in force."""
        today = self._now.astimezone(school.tz).date()
        found = await self._newest(school.id, today)
        if found is None and school.policy_file is not None:
            await self._import_configured(school)
            found = await self._newest(school.id, today)
        return found

    async def _newest(self, school_id: str, today: date) -> PolicyVersion | None:
        """Asked on every question, so only the version's details are read here; its text
        and sections are read only when its search is not built yet (see consult)."""
        details = ("id", "school_id", "version", "title", "imported_at", "effective_from")
        light = load_only(*(getattr(PolicyVersion, name) for name in details))
        newest_first = (
            select(PolicyVersion)
            .options(light)
            .where(PolicyVersion.school_id == school_id)
            .order_by(col(PolicyVersion.version).desc())
            .limit(1)
        )
        in_effect = newest_first.where(
            or_(
                col(PolicyVersion.effective_from).is_(None),
                col(PolicyVersion.effective_from) <= today,
            )
        )
        found = (await self._session.execute(in_effect)).scalars().first()
        if found is None:  # every version waits for its date: the newest answers meanwhile
            found = (await self._session.execute(newest_first)).scalars().first()
        return found

    # -- questions ---------------------------------------------------------------------------

    async def ask(
        self, school: School, person: Person, *, channel: str, question: str
    ) -> Asked | Intercepted:
        """Answer from the policy in force, and keep the question whatever the answer was;
        a worry about a child is intercepted first, however long, and nothing of it kept."""
        cleaned = " ".join(clean_text(question).split())
        intercepted = self.intercept(school, person, channel=channel, text=cleaned)
        if intercepted is not None:
            return intercepted
        text = _within(
            cleaned,
            MAX_QUESTION_CHARS,
            empty="Please type your question about the policy.",
            too_long="That question is very long ({n} characters). Please ask it in fewer than "
            "{limit} characters: one question at a time works best.",
        )
        answer, version = await self.consult(school, text)
        best = answer.passages[0] if answer.passages else None
        row = PolicyQuestion(
            school_id=school.id,
            person_id=person.id,
            channel=channel,
            asked_at=self._now,
            question=text,
            policy_version_id=version.id if version else None,
            confident=answer.confident,
            citation=best.citation if best else None,
            score=best.score if best else None,
        )
        self._session.add(row)
        await self._session.flush()
        self._observer.policy_answered(_confidence(answer))
        return Asked(question=row, answer=answer, version=version)

    def intercept(
        self, school: School, person: Person, *, channel: str, text: str
    ) -> Intercepted | None:
        """The safeguarding reply if `text` speaks of a worry about a child, else None. The
        audit log records that it was given (to whom, on which channel), never what was said."""
        concern = safeguarding_concern(text)
        if concern is None:
            return None
        self._audit.record(
            school_id=school.id,
            actor_id=person.id,
            action=AuditAction.POLICY_SAFEGUARDING,
            target_type="person",
            target_id=person.id,
            detail=f"safeguarding reply given instead of the policy ({channel})",
        )
        self._observer.policy_answered(Confidence.SAFEGUARDING)
        return Intercepted(reply=safeguarding_reply(concern, school, asker=person))

    async def intercepted_since(self, school: School, person: Person, when: datetime) -> bool:
        """Whether the person was given the safeguarding reply at or after `when`, so that a
        "yes" typed after it is not taken as a reply to an earlier answer."""
        entries = await self._audit.for_target("person", person.id)
        return any(
            e.action == AuditAction.POLICY_SAFEGUARDING.value
            and e.school_id == school.id
            and e.at >= when
            for e in entries
        )

    async def consult(
        self, school: School, question: str, *, k: int = 3
    ) -> tuple[PolicyAnswer, PolicyVersion | None]:
        """Search the version in force without keeping the question (for administrators
        trying the policy out from the command line). A worry about a child is never searched,
        whoever calls this: callers show the safeguarding reply before they get here."""
        version = await self.in_force(school)
        if version is None or safeguarding_concern(question) is not None:
            unsearched = PolicyAnswer(
                question=question,
                confident=False,
                passages=(),
                child_safety=may_concern_a_child(question),
            )
            return unsearched, version
        assert version.id is not None
        search = self._searches.cached(version.id)
        if search is None:
            await self._session.refresh(version, ["sections", "dropped"])
            search = self._searches.build(version)
        return search.answer(question, k=k), version

    async def latest_asked(
        self, school: School, person: Person, *, within: timedelta
    ) -> PolicyQuestion | None:
        """The person's most recent question, if it was asked within `within`: what a typed
        "yes" or "no" straight after an answer is about."""
        result = await self._session.execute(
            select(PolicyQuestion)
            .where(
                PolicyQuestion.school_id == school.id,
                PolicyQuestion.person_id == person.id,
                col(PolicyQuestion.asked_at) >= self._now - within,
            )
            .order_by(col(PolicyQuestion.id).desc())
            .limit(1)
        )
        return result.scalars().first()

    async def _own_question(
        self, school: School, person: Person, question_id: int
    ) -> PolicyQuestion:
        row = await self._session.get(PolicyQuestion, question_id)
        if row is None or row.school_id != school.id:
            raise NotFound("I can't find that question of yours any more.")
        require(person, QuestionAction.FOLLOW_UP, row, school)
        return row

    async def feedback(
        self, school: School, person: Person, question_id: int, feedback: Feedback
    ) -> PolicyQuestion:
        """Record whether an answer helped; the latest press counts if someone changes their
        mind."""
        row = await self._own_question(school, person, question_id)
        row.feedback = feedback.value
        row.feedback_at = self._now
        return row

    async def refer(
        self, school: School, person: Person, question_id: int
    ) -> tuple[PolicyQuestion, bool]:
        """Pass a question to the policy owner(s), once, however many times it is pressed;
        says whether this press was the one that passed it on."""
        row = await self._own_question(school, person, question_id)
        if row.referred_at is not None:
            return row, False
        row.referred_at = self._now
        for owner in policy_owners(school):
            self._notifier.notify(
                school_id=school.id,
                person_id=owner.id,
                kind="policy_question",
                message=referral_message(row, school, asker=person),
                on_behalf_of=person.id,
            )
        return row, True

    async def for_answering(
        self, school: School, person: Person, question_id: int
    ) -> PolicyQuestion:
        # A number no row can have (the databases' ids stop at 2**31 - 1) is not found, rather
        # than an overflow in the database.
        in_range = 1 <= question_id <= MAX_QUESTION_ID
        row = await self._session.get(PolicyQuestion, question_id) if in_range else None
        if row is not None and row.school_id != school.id:
            row = None
        # Refused in the same words whether or not the question exists.
        require(person, QuestionAction.ANSWER, row, school)
        if row is None:
            raise NotFound(f"I can't find question {question_ref(question_id)}.")
        return row

    async def reply(
        self, school: School, owner: Person, question_id: int, text: str
    ) -> PolicyQuestion:
        """Send the owner's answer to the person who asked, and keep it with the question."""
        row = await self.for_answering(school, owner, question_id)
        reply = _within(
            text.strip(),
            MAX_REPLY_CHARS,
            empty="Please type the answer you'd like to send.",
            too_long="That answer is {n} characters; please keep it under {limit} (you can "
            "point to a document for the detail).",
        )
        first = row.answer is None
        row.answer, row.answered_by, row.answered_at = reply, owner.id, self._now
        self._audit.record(
            school_id=school.id,
            actor_id=owner.id,
            action=AuditAction.POLICY_ANSWER,
            target_type="policy_question",
            target_id=str(row.id),
            detail="answered" if first else "answer changed",
        )
        self._notifier.notify(
            school_id=school.id,
            person_id=row.person_id,
            kind="policy_answer",
            message=Message(
                kind=MessageKind.NOTIFICATION,
                title="An answer to your policy question",
                text=f"{owner.name} has answered the question you asked on "
                f"{row.asked_at.astimezone(school.tz):%d/%m/%Y}:",
                facts=(
                    Fact(label="You asked", value=row.question),
                    Fact(label="Answer", value=reply),
                ),
            ),
        )
        return row

    async def gaps(self, school: School, actor: Person | None) -> Sequence[PolicyQuestion]:
        """Questions the policy did not answer, or answered unhelpfully, oldest first.

        `actor` None is the command line, run by whoever administers the server.
        """
        if actor is not None:
            require(actor, QuestionAction.LIST, school=school)
        result = await self._session.execute(
            select(PolicyQuestion)
            .where(
                PolicyQuestion.school_id == school.id,
                or_(
                    col(PolicyQuestion.confident).is_(False),
                    PolicyQuestion.feedback == Feedback.UNHELPFUL.value,
                    col(PolicyQuestion.referred_at).is_not(None),
                ),
            )
            .order_by(col(PolicyQuestion.id))
        )
        return result.scalars().all()

    async def count_questions(self, school_id: str) -> int:
        result = await self._session.execute(
            select(func.count())
            .select_from(PolicyQuestion)
            .where(PolicyQuestion.school_id == school_id)
        )
        return int(result.scalar_one())


def _within(text: str, limit: int, *, empty: str, too_long: str) -> str:
    """Text a person typed, refused kindly when it is empty or longer than `limit`."""
    if not text:
        raise InvalidRequest(empty)
    if len(text) > limit:
        raise InvalidRequest(too_long.format(n=len(text), limit=limit))
    return text


def _confidence(answer: PolicyAnswer) -> Confidence:
    if answer.confident:
        return Confidence.CONFIDENT
    return Confidence.MAY_HELP if answer.may_help else Confidence.UNANSWERED


def gap_reason(row: PolicyQuestion) -> str:
    reasons = []
    if not row.confident:
        reasons.append("not found in the policy")
    if row.feedback == Feedback.UNHELPFUL.value:
        reasons.append("answer marked unhelpful")
    if row.referred_at is not None:
        reasons.append("passed to the policy owner")
    return "; ".join(reasons)


def referral_message(row: PolicyQuestion, school: School, *, asker: Person) -> Message:
    assert row.id is not None
    found = (
        f"I quoted {row.citation}, but they said it didn't help."
        if row.confident
        else "I couldn't find an answer in the policy."
    )
    return Message(
        kind=MessageKind.NOTIFICATION,
        title=f"A question about the policy ({question_ref(row.id)})",
        text=f"{asker.name} asked a question about the social media policy. {found} "
        "Your answer will be sent to them.",
        facts=(Fact(label="Question", value=row.question),),
        buttons=(
            Button(
                value=action_value(PolicyAction.ANSWER, row.id), label="Answer it", style="primary"
            ),
        ),
        expects=InputKind.CHOICE,
    )

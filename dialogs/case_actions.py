"""What a handler can do to a case from a chat: the buttons on a case card and their effects.

Every channel (Slack, Teams) translates a press or a submitted form into a call to `press` or
`submit`, and their neutral answer back into its own replies: the unit of work, the claim of the
delivery, the role check, the action and any evidence pack are all here, once. The services
check the clicker's role, so a button pressed by the wrong person changes nothing, whatever the
channel. `perform` is the action itself, inside a unit of work someone else opened.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.services.cases.card import NEEDS_FORM, CaseButtonValue, CaseVerb, details
from dialogs.services.cases.vocabulary import Status
from dialogs.services.container import Services
from dialogs.services.errors import FormField, InvalidRequest, PolicybotError
from dialogs.services.messages import Fact, Message, MessageKind
from dialogs.services.school.permissions import CaseAction
from dialogs.services.school.schools import Person, School
from storage import events
from storage.db import Database, is_unavailable
from storage.models import Case

REFUSAL = Message(
    kind=MessageKind.HINT,
    text="Only the designated safeguarding lead or their deputy can act on reports. "
    "Nothing has been changed.",
)
NOT_SAVED_YET = Message(
    kind=MessageKind.HINT,
    text="I can't reach my records just now, so this isn't saved yet. What you wrote is still "
    "in the form: please press the button again in a minute.",
)
# Opening a form shows nothing of the case, so it is checked against the action, not audited
# as a view.
FORM_ACTION = {
    CaseVerb.NOTE: CaseAction.NOTE,
    CaseVerb.STATUS: CaseAction.CHANGE_STATUS,
    CaseVerb.ASK: CaseAction.ASK_REPORTER,
}


@dataclass(frozen=True)
class Outcome:
    """What the handler sees after acting (privately), and an evidence pack if one was made."""

    message: Message
    pack: Path | None = None


@dataclass(frozen=True)
class FormWanted:
    """The button needs words from the handler first (a note, a reason, a question): the
    channel shows its form for `verb` on `case`, which the handler may act on."""

    verb: CaseVerb
    case: Case


@dataclass(frozen=True)
class Declined:
    """Nothing was done. `message` says why, for the handler alone; `field` is the part of the
    form it is about (None: the request as a whole); `unavailable`: the database could not be
    reached, so what they wrote is not saved yet and they may send it again."""

    message: Message
    field: FormField | None = None
    unavailable: bool = False


@dataclass(frozen=True)
class UnitOfWork:
    """How to open one transaction and the services inside it (the runtime's own)."""

    db: Database
    services: Callable[[AsyncSession, datetime], Services]
    clock: Callable[[], datetime]


def _refused(error: PolicybotError) -> Declined:
    return Declined(Message(kind=MessageKind.HINT, text=error.message), field=error.field)


async def act(
    unit: UnitOfWork, *, delivery_id: str | None = None, source: str = "case_action", **action: Any
) -> Outcome | None:
    """`perform` in its own transaction. With a `delivery_id` (claimed under `source`), a
    delivery already acted on is None and changes nothing; the claim is in the same
    transaction, so a refused action can be sent again."""
    async with unit.db.session() as session:
        now = unit.clock()
        if delivery_id is not None and not await events.claim(
            session, source=source, event_id=delivery_id, now=now
        ):
            return None
        return await perform(unit.services(session, now), **action)


async def form(
    unit: UnitOfWork, by: tuple[School, Person], verb: CaseVerb, reference: str
) -> FormWanted | Declined:
    """The form for `verb` on a case, if `by` may act on it: to show first, or again with a
    refusal beside the field it is about."""
    school, actor = by
    try:
        async with unit.db.session() as session:
            services = unit.services(session, unit.clock())
            case = await services.cases.for_action(
                reference, school=school, actor=actor, action=FORM_ACTION[verb]
            )
    except PolicybotError as exc:
        return _refused(exc)
    return FormWanted(verb, case)


@asynccontextmanager
async def press(
    unit: UnitOfWork,
    button: CaseButtonValue,
    by: tuple[School, Person] | None,
    *,
    source: str,
    delivery_id: str,
) -> AsyncIterator[Outcome | FormWanted | Declined | None]:
    """A button on a case card, pressed `by` a school's staff member (None: not one of the
    school's staff).

    One press is acted on once: the same delivery again (a replay) is None, changes nothing
    and, for an export, makes no second pack. An evidence pack lives until the block ends, so
    the channel hands it over inside it.
    """
    if by is None:  # nobody to refuse by name
        yield Declined(REFUSAL)
        return
    school, actor = by
    if button.verb in NEEDS_FORM:
        yield await form(unit, by, button.verb, button.reference)
        return
    with tempfile.TemporaryDirectory(prefix="policybot-pack-") as folder:
        try:
            outcome = await act(
                unit,
                delivery_id=delivery_id,
                source=source,
                school=school,
                actor=actor,
                verb=button.verb,
                reference=button.reference,
                export_dir=Path(folder),
                handlers_only=True,
            )
        except PolicybotError as exc:
            yield _refused(exc)
            return
        yield outcome


async def submit(
    unit: UnitOfWork,
    by: tuple[School, Person] | None,
    *,
    source: str,
    delivery_id: str,
    verb: CaseVerb,
    reference: str,
    text: str | None,
    status: str | None,
    outcome: str | None,
    handlers_only: bool = False,
) -> Outcome | Declined | None:
    """A case action's form, submitted `by` a school's staff member (None: not one of them).
    A form is acted on once (a refused one, rolled back,
    can be sent again), so a delivery of the same form is a replay: None, and nothing changes.
    The database being out of reach is a refusal too: the form keeps what they wrote."""
    if by is None:
        return Declined(REFUSAL)
    school, actor = by
    try:
        return await act(
            unit,
            delivery_id=delivery_id,
            source=source,
            school=school,
            actor=actor,
            verb=verb,
            reference=reference,
            text=text,
            status=status,
            outcome=outcome,
            handlers_only=handlers_only,
        )
    except PolicybotError as exc:
        return _refused(exc)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        return Declined(NOT_SAVED_YET, unavailable=True)


def _done(text: str) -> Outcome:
    return Outcome(Message(kind=MessageKind.INFO, text=text))


async def perform(
    services: Services,
    *,
    school: School,
    actor: Person,
    verb: CaseVerb,
    reference: str,
    text: str | None = None,
    status: str | None = None,
    outcome: str | None = None,
    export_dir: Path | None = None,
    handlers_only: bool = False,
) -> Outcome:
    """Do what the button (or its form) asks. `handlers_only`: pressed on a case card, where
    anyone who does not handle reports at all is refused first, in the same words whatever the
    report (CaseService.handlers_only)."""
    cases = services.cases
    if handlers_only:
        await cases.handlers_only(reference, school=school, actor=actor)
    if verb is CaseVerb.ACKNOWLEDGE:
        case = await cases.acknowledge(reference, school=school, actor=actor)
        return _done(f"You acknowledged {case.reference}. The reporter is being told.")
    if verb is CaseVerb.ASSIGN_TO_ME:
        case = await cases.assign(reference, school=school, actor=actor)
        return _done(f"{case.reference} is assigned to you.")
    if verb is CaseVerb.NOTE:
        case = await cases.add_note(reference, school=school, actor=actor, text=text or "")
        return _done(f"Your note was added to {case.reference}.")
    if verb is CaseVerb.STATUS:
        try:
            wanted = Status(status or "")
        except ValueError as exc:
            raise InvalidRequest("Please choose the new status.", field=FormField.STATUS) from exc
        case = await cases.change_status(
            reference, school=school, actor=actor, status=wanted, reason=text or "", outcome=outcome
        )
        return _done(f"{case.reference} is now {case.status}. The reporter is being told.")
    if verb is CaseVerb.ASK:
        case = await cases.ask_reporter(reference, school=school, actor=actor, question=text or "")
        return _done(
            f"Your question was sent to the reporter of {case.reference}. Their answer will "
            "come to you here and go in the record."
        )
    if verb is CaseVerb.VIEW:
        record = await cases.get(reference, school=school, actor=actor)
        return Outcome(details(record.case, record.events, school, actor))
    if verb is CaseVerb.EXPORT:
        if export_dir is None:
            raise InvalidRequest("Exporting is not available here.")
        out = export_dir / f"{reference.upper()[:40]}-evidence-pack.zip"
        written = await cases.export(reference, school=school, actor=actor, out=out)
        note = (
            "Every evidence file matches the hash recorded when it was received."
            if written.all_evidence_verified
            else "WARNING: at least one evidence file does not match the hash recorded when it "
            "was received. See chronology.html in the pack."
        )
        message = Message(
            kind=MessageKind.INFO,
            title=f"Evidence pack for {reference.upper()[:40]}",
            text=f"Here is the evidence pack. {note}",
            facts=(Fact(label="SHA-256 of the pack", value=written.sha256),),
        )
        return Outcome(message, pack=written.path)
    raise InvalidRequest("I don't know that action.")

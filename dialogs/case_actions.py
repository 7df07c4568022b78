"""What a handler can do to a case from a chat: the buttons on a case card and their effects.

Channels render the card and collect any text (a note, a reason) in their own way, then call
`perform`; the services check the clicker's role, so a button pressed by the wrong person
changes nothing, whatever the channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dialogs.services.cases.card import CaseVerb, details
from dialogs.services.cases.vocabulary import Status
from dialogs.services.container import Services
from dialogs.services.errors import InvalidRequest
from dialogs.services.messages import Fact, Message, MessageKind
from dialogs.services.school.schools import Person, School


@dataclass(frozen=True)
class Outcome:
    """What the handler sees after acting (privately), and an evidence pack if one was made."""

    message: Message
    pack: Path | None = None


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
            raise InvalidRequest("Please choose the new status.") from exc
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

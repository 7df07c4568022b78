"""Who may do what, decided in one place: reports of abuse and their evidence, post requests,
comments on the official accounts, new accounts and the register, website reports, questions
about the policy, the audit log and subject access.

Every service asks here before it shows or changes anything, so the rules can be read (and
tested as a matrix of role and action) in one file. A person who may not even know a record
exists is told it cannot be found, exactly as if it did not exist, so references cannot be
probed. Every refusal names who asked, for what, on which record and why (a short reason), and
the audit log keeps it (`privacy.refusals`), without changing what the person is told.

Reports are the most sensitive: they are handled by the school's designated lead and deputy,
except anyone with a conflict of interest in the report (it names them, or they are configured
as conflicted with someone it names), who cannot see it at all; when that leaves nobody, the
trust's lead handles it. Who reported it may be known to the handlers, to the lead only, or to
nobody (an anonymous report), and the services show "the reporter" instead of a name
accordingly.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import assert_never

from dialogs.services.errors import NotFound, NotPermitted, PolicybotError, Refusal
from dialogs.services.school.owners import owner_names as owner_names
from dialogs.services.school.owners import policy_owners as policy_owners
from dialogs.services.school.schools import CASE_HANDLER_ROLES, Person, Role, School
from storage.models import (
    AccountRequest,
    Case,
    Comment,
    PolicyQuestion,
    PostRequest,
    WebsiteReport,
)


class CaseAction(StrEnum):
    HANDLE = "case.handle"  # act on reports at all: the buttons on a case card
    ANSWER = "case.answer"  # answer the handler's question, as the reporter
    VIEW_STATUS = "case.view_status"
    VIEW = "case.view"
    LIST_ALL = "case.list_all"
    ACKNOWLEDGE = "case.acknowledge"
    ASSIGN = "case.assign"
    NOTE = "case.note"
    CHANGE_STATUS = "case.change_status"
    EXPORT = "case.export"
    VIEW_EVIDENCE = "case.view_evidence"
    ASK_REPORTER = "case.ask_reporter"
    SEE_REPORTER = "case.see_reporter"
    HOLD = "case.hold"


class PostAction(StrEnum):
    VIEW = "post.view"
    VIEW_MEDIA = "post.view_media"
    LIST_ALL = "post.list_all"
    DECIDE = "post.decide"
    PUBLISH = "post.publish"
    CHANGE = "post.change"


class CommentAction(StrEnum):
    VIEW = "comment.view"
    ACT = "comment.act"
    LOG = "comment.log"


class RecordsAction(StrEnum):
    VIEW_AUDIT = "records.view_audit"
    EXPORT_AUDIT = "records.export_audit"
    SUBJECT_ACCESS = "records.subject_access"
    ERASE = "records.erase"


class AccountAction(StrEnum):
    VIEW = "account.view"  # a request for a new official account
    DECIDE = "account.decide"
    RECORD = "account.record"  # add an approved account to the register
    CHANGE_REGISTER = "account.change_register"  # who runs an account, its comment rules
    CONFIRM = "account.confirm"  # answer the yearly check: still run it, password kept safe


class WebsiteAction(StrEnum):
    ANSWER = "website.answer"  # block a reported website, or say why not


class QuestionAction(StrEnum):
    ANSWER = "question.answer"  # answer a question the policy did not
    LIST = "question.list"  # the questions staff have asked
    FOLLOW_UP = "question.follow_up"  # say whether an answer helped, pass the question on


class ImportAction(StrEnum):
    POLICY = "policy.import"  # a new version of the policy
    CONSENT = "consent.import"  # the parental consent register, replacing the one in use


Action = (
    CaseAction
    | PostAction
    | CommentAction
    | RecordsAction
    | AccountAction
    | WebsiteAction
    | QuestionAction
    | ImportAction
)


@dataclass(frozen=True)
class AccountInCheck:
    """An official account in its yearly check: whoever was asked, and whoever runs it now
    (from the register), may answer for it."""

    school_id: str
    account_id: str
    name: str
    asked: frozenset[str]
    owners: frozenset[str]


# The records a rule can be asked about.
Target = (
    Case | PostRequest | Comment | AccountRequest | WebsiteReport | PolicyQuestion | AccountInCheck
)


class Reason(StrEnum):
    """Why a rule said no, as the audit log records a refused attempt: a short code."""

    ROLE = "role"  # the person's roles do not allow it
    NOT_VISIBLE = "not_visible"  # a record they may not know exists: told it cannot be found
    OWN_REQUEST = "own_request"  # they asked for it, so someone else must decide
    NOT_THEIRS = "not_theirs"  # only the person it belongs to may
    REPORTER_HIDDEN = "reporter_hidden"  # the reporter chose not to be known to them


APPROVER_ROLES = frozenset({Role.APPROVER})
PUBLISHER_ROLES = frozenset({Role.APPROVER, Role.MODERATOR})
# Who may look at any post request (to approve, publish or oversee); authors see their own.
OVERSEER_ROLES = frozenset(
    {Role.APPROVER, Role.MODERATOR, Role.HEADTEACHER, Role.SENIOR_LEADER, Role.IT_ADMIN}
)
MODERATOR_ROLES = frozenset({Role.MODERATOR, Role.SENIOR_LEADER, Role.HEADTEACHER})
TRUST_ROLES = frozenset({Role.TRUST_SAFEGUARDING_LEAD})
ACCOUNT_DECIDER_ROLES = frozenset({Role.SENIOR_LEADER, Role.HEADTEACHER})
ACCOUNT_RECORDER_ROLES = frozenset({Role.IT_ADMIN})
REGISTER_EDITOR_ROLES = frozenset({Role.IT_ADMIN, Role.SENIOR_LEADER, Role.HEADTEACHER})
# Who looks after the policy: sees the questions staff asked, imports new versions.
POLICY_ADMIN_ROLES = frozenset({Role.POLICY_OWNER, Role.HEADTEACHER, Role.IT_ADMIN})
# Who may replace the school's consent register: it decides which children may be published.
CONSENT_ADMIN_ROLES = frozenset(
    {Role.IT_ADMIN, Role.HEADTEACHER, Role.SENIOR_LEADER, Role.SAFEGUARDING_LEAD}
)
IMPORT_ROLES = {ImportAction.POLICY: POLICY_ADMIN_ROLES, ImportAction.CONSENT: CONSENT_ADMIN_ROLES}
RECORDS_ROLES = {
    RecordsAction.VIEW_AUDIT: frozenset({Role.DATA_PROTECTION_OFFICER, Role.HEADTEACHER}),
    RecordsAction.EXPORT_AUDIT: frozenset({Role.DATA_PROTECTION_OFFICER}),
    RecordsAction.SUBJECT_ACCESS: frozenset({Role.DATA_PROTECTION_OFFICER, Role.HEADTEACHER}),
    RecordsAction.ERASE: frozenset({Role.DATA_PROTECTION_OFFICER}),
}

_CASE_VERB = {
    CaseAction.HANDLE: "act on reports",
    CaseAction.ANSWER: "answer questions about reports",
    CaseAction.VIEW_STATUS: "see reports",
    CaseAction.VIEW: "see the details of reports",
    CaseAction.LIST_ALL: "see every report",
    CaseAction.ACKNOWLEDGE: "acknowledge reports",
    CaseAction.ASSIGN: "assign reports",
    CaseAction.NOTE: "add notes to reports",
    CaseAction.CHANGE_STATUS: "change the status of reports",
    CaseAction.EXPORT: "export evidence packs",
    CaseAction.VIEW_EVIDENCE: "see the evidence in reports",
    CaseAction.ASK_REPORTER: "ask the reporter a question",
    CaseAction.SEE_REPORTER: "see who made a report",
    CaseAction.HOLD: "put a report on hold",
}
_RECORDS_VERB = {
    RecordsAction.VIEW_AUDIT: "Only the data protection officer and the Headteacher can see the "
    "audit log.",
    RecordsAction.EXPORT_AUDIT: "Only the data protection officer can export the audit log.",
    RecordsAction.SUBJECT_ACCESS: "Only the data protection officer and the Headteacher can "
    "answer a subject access request.",
    RecordsAction.ERASE: "Only the data protection officer can erase someone's records.",
}


def is_handler(person: Person) -> bool:
    """Whether a person handles reports at all (the handlers' menus and commands); whether
    they may handle a particular report is `may(..., case, school)`."""
    return person.has_any(CASE_HANDLER_ROLES | TRUST_ROLES)


def blockers(school: School) -> list[Person]:
    """Who answers website reports: IT, or the senior leaders where the school has nobody in
    the IT role, so a report always reaches someone who can act on it."""
    return (
        school.with_role(Role.IT_ADMIN)
        or school.with_role(Role.SENIOR_LEADER)
        or school.with_role(Role.HEADTEACHER)
    )


def case_handlers(school: School, case: Case) -> list[Person]:
    """Who handles this report: the school's lead and deputy without a conflict in it, or, when
    every one of them has one, the trust's lead."""
    own = [p for p in school.with_role(*CASE_HANDLER_ROLES) if p.id not in case.excluded]
    return own or [p for p in school.with_role(*TRUST_ROLES) if p.id not in case.excluded]


def may(
    person: Person,
    action: Action,
    target: Target | None = None,
    school: School | None = None,
) -> bool:
    if isinstance(action, CaseAction):
        case = target if isinstance(target, Case) else None
        return _may_case(person, action, case, school)
    if isinstance(action, PostAction):
        request = target if isinstance(target, PostRequest) else None
        return _may_post(person, action, request)
    if isinstance(action, CommentAction):
        return person.has_any(MODERATOR_ROLES)
    if isinstance(action, RecordsAction):
        return person.has_any(RECORDS_ROLES[action])
    if isinstance(action, AccountAction):
        return _may_account(person, action, target)
    if isinstance(action, WebsiteAction):
        return school is not None and any(p.id == person.id for p in blockers(school))
    if isinstance(action, QuestionAction):
        question = target if isinstance(target, PolicyQuestion) else None
        return _may_question(person, action, question, school)
    if isinstance(action, ImportAction):
        return person.has_any(IMPORT_ROLES[action])
    assert_never(action)


def _may_account(person: Person, action: AccountAction, target: Target | None) -> bool:
    if action is AccountAction.CONFIRM:
        return isinstance(target, AccountInCheck) and person.id in target.asked | target.owners
    asked = isinstance(target, AccountRequest) and target.requester_id == person.id
    if action is AccountAction.VIEW:
        return asked or person.has_any(ACCOUNT_DECIDER_ROLES | ACCOUNT_RECORDER_ROLES)
    if action is AccountAction.DECIDE:
        return person.has_any(ACCOUNT_DECIDER_ROLES) and not asked
    if action is AccountAction.RECORD:
        return person.has_any(ACCOUNT_RECORDER_ROLES)
    if action is AccountAction.CHANGE_REGISTER:
        return person.has_any(REGISTER_EDITOR_ROLES)
    assert_never(action)


def _may_question(
    person: Person, action: QuestionAction, question: PolicyQuestion | None, school: School | None
) -> bool:
    if action is QuestionAction.ANSWER:
        return school is not None and any(p.id == person.id for p in policy_owners(school))
    if action is QuestionAction.LIST:
        return person.has_any(POLICY_ADMIN_ROLES)
    if action is QuestionAction.FOLLOW_UP:
        return question is not None and question.person_id == person.id
    assert_never(action)


def _may_case(person: Person, action: CaseAction, case: Case | None, school: School | None) -> bool:
    if action is CaseAction.HANDLE:
        return is_handler(person)  # whether they may handle this one is the action's own rule
    if case is None:
        return action is CaseAction.LIST_ALL and is_handler(person)
    if school is None:
        raise ValueError("a case's permissions depend on its school's people")
    handling = any(p.id == person.id for p in case_handlers(school, case))
    if action is CaseAction.VIEW_STATUS:
        return handling or case.reporter_id == person.id
    if action is CaseAction.ANSWER:
        return case.reporter_id == person.id
    if action is CaseAction.SEE_REPORTER:
        if case.reporter_visibility == "anonymous":
            return False
        if case.reporter_visibility == "lead_only":
            # The lead (or the trust's lead standing in), not the deputy.
            return handling and person.has_any(frozenset({Role.SAFEGUARDING_LEAD}) | TRUST_ROLES)
        return handling
    return handling


def _may_post(person: Person, action: PostAction, request: PostRequest | None) -> bool:
    author = request is not None and request.author_id == person.id
    if action in (PostAction.VIEW, PostAction.VIEW_MEDIA):
        return author or person.has_any(OVERSEER_ROLES)
    if action is PostAction.LIST_ALL:
        return person.has_any(OVERSEER_ROLES)
    if action is PostAction.DECIDE:
        return person.has_any(APPROVER_ROLES) and not author
    if action is PostAction.PUBLISH:
        return author or person.has_any(PUBLISHER_ROLES)
    if action is PostAction.CHANGE:
        return author
    assert_never(action)


def require(
    person: Person,
    action: Action,
    target: Target | None = None,
    school: School | None = None,
    *,
    school_id: str | None = None,
) -> None:
    """Raise unless `person` may do `action`; say as little as possible about the record.

    The error carries the refusal for the audit log: who, what, which record and the rule's
    reason (`privacy.refusals` records it once the unit of work it ends is rolled back).
    `school_id` names the school for an action on no one record when `school` is not at hand.
    """
    if may(person, action, target, school):
        return
    error, reason = _refused(person, action, target, school)
    where, target_type, target_id, reference = _record_of(target, school, school_id)
    error.refusal = Refusal(
        school_id=where,
        actor_id=person.id,
        action=action.value,
        target_type=target_type,
        target_id=target_id,
        reference=reference,
        reason=reason.value,
    )
    raise error


def _refused(
    person: Person, action: Action, target: Target | None, school: School | None
) -> tuple[PolicybotError, Reason]:
    """What the person is told, and the reason the audit log records."""
    if isinstance(action, CaseAction):
        if action is CaseAction.ANSWER and isinstance(target, Case):
            # Only the reporter is asked; anyone else is told what a stranger to it is told.
            seen = may(person, CaseAction.VIEW_STATUS, target, school)
            found = NotFound(f"I can't find a report {target.reference} that you can see.")
            return found, Reason.NOT_THEIRS if seen else Reason.NOT_VISIBLE
        if action is CaseAction.HANDLE:
            # Said the same way whether or not the report exists or names them.
            return NotPermitted(
                f"Only the designated safeguarding lead or their deputy can {_CASE_VERB[action]}. "
                "Nothing has been changed."
            ), Reason.ROLE
        if isinstance(target, Case) and not may(person, CaseAction.VIEW_STATUS, target, school):
            # Whether they are named in it, or never had anything to do with it, is not said.
            found = NotFound(f"I can't find a report {target.reference} that you can see.")
            return found, Reason.NOT_VISIBLE
        handling = isinstance(target, Case) and may(person, CaseAction.VIEW, target, school)
        reason = Reason.REPORTER_HIDDEN if handling else Reason.ROLE
        return NotPermitted(
            f"Only the designated safeguarding lead or their deputy can {_CASE_VERB[action]}. "
            "Nothing has been changed."
        ), reason
    if isinstance(action, PostAction):
        return _refused_post(person, action, target if isinstance(target, PostRequest) else None)
    if isinstance(action, CommentAction):
        if action is CommentAction.LOG:
            return NotPermitted(
                "Only the school's moderators log comments. If you have seen a comment that needs "
                "an answer, please tell one of them."
            ), Reason.ROLE
        refused = NotPermitted("Only the school's moderators can see and answer comments.")
        return refused, Reason.ROLE
    if isinstance(action, RecordsAction):
        return NotPermitted(_RECORDS_VERB[action]), Reason.ROLE
    if isinstance(action, AccountAction):
        return _refused_account(person, action, target)
    if isinstance(action, WebsiteAction):
        refused = NotPermitted("Only the school's IT administrators answer website reports.")
        return refused, Reason.ROLE
    if isinstance(action, QuestionAction):
        return _refused_question(action, school)
    if isinstance(action, ImportAction):
        if action is ImportAction.POLICY:
            refused = NotPermitted(
                f"{person.name} is not the policy owner, the headteacher or an IT administrator."
            )
        else:
            refused = NotPermitted(
                f"{person.name} is not the headteacher, a senior leader, the safeguarding lead "
                "or an IT administrator, so cannot import the consent register."
            )
        return refused, Reason.ROLE
    assert_never(action)


def _refused_account(
    person: Person, action: AccountAction, target: Target | None
) -> tuple[PolicybotError, Reason]:
    if action is AccountAction.VIEW:
        wanted = target.reference if isinstance(target, AccountRequest) else ""
        return NotFound(f"I can't find an account request {wanted}."), Reason.NOT_VISIBLE
    if action is AccountAction.DECIDE:
        if not person.has_any(ACCOUNT_DECIDER_ROLES):
            refused = NotPermitted("Only the senior leaders decide on new official accounts.")
            return refused, Reason.ROLE
        return NotPermitted(
            "You asked for this account, so another senior leader must decide on it."
        ), Reason.OWN_REQUEST
    if action is AccountAction.RECORD:
        return NotPermitted(
            "Only the school's IT administrators record official accounts."
        ), Reason.ROLE
    if action is AccountAction.CHANGE_REGISTER:
        return NotPermitted(
            "Only the IT administrators and senior leaders change the register."
        ), Reason.ROLE
    if action is AccountAction.CONFIRM:
        name = target.name if isinstance(target, AccountInCheck) else "this account"
        refused = NotPermitted(f"Only the people who run {name} answer its yearly check.")
        return refused, Reason.NOT_THEIRS
    assert_never(action)


def _refused_question(
    action: QuestionAction, school: School | None
) -> tuple[PolicybotError, Reason]:
    if action is QuestionAction.ANSWER:
        owners = owner_names(school) if school is not None else "your headteacher"
        return NotPermitted(
            f"Only the policy owner ({owners}) can answer questions about the policy. Nothing "
            "has been changed."
        ), Reason.ROLE
    if action is QuestionAction.LIST:
        return NotPermitted(
            "Only the policy owner, the headteacher or the IT administrator can see the "
            "questions staff have asked."
        ), Reason.ROLE
    if action is QuestionAction.FOLLOW_UP:
        return NotFound("I can't find that question of yours any more."), Reason.NOT_THEIRS
    assert_never(action)


def _refused_post(
    person: Person, action: PostAction, request: PostRequest | None
) -> tuple[PolicybotError, Reason]:
    if action in (PostAction.VIEW, PostAction.VIEW_MEDIA) and request is not None:
        found = NotFound(f"I can't find a post request {request.reference} that you can see.")
        return found, Reason.NOT_VISIBLE
    if action is PostAction.DECIDE:
        if not person.has_any(APPROVER_ROLES):
            return NotPermitted(
                "Only approvers can approve, reject or ask for changes to a post. Nothing has "
                "been changed."
            ), Reason.ROLE
        return NotPermitted(
            "You asked for this post, so you can't decide on it yourself: another approver "
            "must. Nothing has been changed."
        ), Reason.OWN_REQUEST
    if action is PostAction.PUBLISH:
        return NotPermitted(
            "Only the author, a moderator or an approver can mark a post as published."
        ), Reason.ROLE
    if action is PostAction.CHANGE:
        return NotPermitted(
            "Only the person who asked for this post can change it."
        ), Reason.NOT_THEIRS
    return NotPermitted("Only approvers and moderators can see every post request."), Reason.ROLE


def _record_of(
    target: Target | None, school: School | None, school_id: str | None
) -> tuple[str, str, str, str]:
    """The refused record as the audit log names it: its school, type, id and reference; the
    school itself for an action on no one record."""
    if isinstance(target, Case):
        return target.school_id, "case", target.id, target.reference
    if isinstance(target, PostRequest):
        return target.school_id, "post_request", target.id, target.reference
    if isinstance(target, Comment):
        return target.school_id, "comment", target.id, target.reference
    if isinstance(target, AccountRequest):
        return target.school_id, "account_request", target.id, target.reference
    if isinstance(target, WebsiteReport):
        return target.school_id, "website_report", target.id, target.reference
    if isinstance(target, PolicyQuestion):
        number = str(target.id)
        return target.school_id, "policy_question", number, f"Q-{number}"
    if isinstance(target, AccountInCheck):
        return target.school_id, "account", target.account_id, target.account_id
    where = school.id if school is not None else (school_id or "*")
    return where, "school", where, ""

"""The dialog engine: one step forward per thing a person says, with no platform in sight.

A dialog is an ordered list of small steps. The engine owns everything a person can do at any
step (back, cancel, help, start again, edit one answer from the summary) so every dialog gets it
the same way, and it returns the whole state after each turn for the caller to persist: a
restart resumes exactly where the person was.
"""

from __future__ import annotations

import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, Field

from dialogs.prompts import (
    AttachmentPrompt,
    Choice,
    ChoicePrompt,
    Prompt,
    PromptContext,
    Rejected,
    Waiting,
)
from dialogs.school_options import SchoolOptions
from dialogs.services.messages import (
    Button,
    Fact,
    ImageRef,
    InputKind,
    Message,
    MessageKind,
    UserInput,
    moved_on,
)

if TYPE_CHECKING:
    from dialogs.services.container import Services
    from dialogs.services.school.schools import Person, School

Answers = Mapping[str, Any]
Phase = Literal["asking", "confirming", "choosing_edit"]


class DialogState(BaseModel):
    """Everything needed to carry on a dialog later, as plain JSON."""

    dialog: str
    draft_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    phase: Phase = "asking"
    step: str | None = None
    answers: dict[str, Any] = Field(default_factory=dict)
    editing: bool = False
    pending: Literal["cancel", "restart"] | None = None
    prefilled: list[str] = Field(default_factory=list)
    scratch: dict[str, Any] = Field(default_factory=dict)
    flags: dict[str, Any] = Field(default_factory=dict)
    # How many turns this dialog has taken: each turn asks its question anew, so a button
    # shown before it (answered by typing, asked again, left behind) no longer answers.
    asked: int = 0

    @property
    def question(self) -> str:
        """The token of the question being asked now: this draft, this asking of it."""
        return f"{self.draft_id[:16]}-{self.asked}"


@dataclass
class DialogContext:
    """Who is talking, where, when, and the services a dialog may call."""

    person: Person
    school: School
    channel: str
    now: datetime
    services: Services
    state: DialogState

    def prompt_context(self) -> PromptContext:
        return PromptContext(
            now=self.now,
            tz=self.school.tz,
            attachments=self.services.attachments_for(
                self.person, self.school, draft_id=self.state.draft_id
            ),
            scratch=self.state.scratch,
            answers=self.state.answers,
            flags=self.state.flags,
            options=SchoolOptions(self.school),
        )


AnswerHook = Callable[[DialogContext, Any], Awaitable[Sequence[Message]]]
# Checks an accepted answer against what only services know (a consent register, the clock):
# a returned sentence is shown as a hint and the question is asked again.
AnswerCheck = Callable[[DialogContext, Any], Awaitable[str | None]]


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    prompt: Prompt
    optional: bool = False
    when: Callable[[Answers], bool] | None = None
    before: str | None = None
    after: AnswerHook | None = None
    check: AnswerCheck | None = None
    # A question whose wrong answer does harm at once (immediate danger: "call 999" and the
    # leads alerted): a button press must name this asking of it, so a press from a card
    # shown before buttons named their question is refused too. Typing still answers.
    critical: bool = False

    def applies(self, answers: Answers) -> bool:
        return self.when is None or self.when(answers)


class Dialog(ABC):
    name: str
    title: str
    steps: tuple[Step, ...]
    help_text: str
    # A dialog whose answers go somewhere (a report, a reply) is checked in a summary first; a
    # dialog that only asks something of the bot (a policy question) acts on the last answer.
    confirm: bool = True
    noun: str = "report"  # what cancelling throws away: "cancel this report?"
    start_word: str = "report"  # what to type to begin again after cancelling
    # How to come back after cancelling, where typing a word would not (a reason asked for by
    # a button is given again by pressing that button).
    restart_hint: str = ""
    # Answers a step starts with: not asked, but shown in the summary, where the person can
    # change them (a choice most people leave as it is).
    defaults: ClassVar[dict[str, Any]] = {}

    def intro(self, ctx: DialogContext) -> Sequence[Message]:
        return ()

    @abstractmethod
    async def submit(self, ctx: DialogContext, answers: dict[str, Any]) -> Sequence[Message]:
        """Do what the dialog is for; runs in the same transaction that ends the dialog."""

    def step(self, key: str) -> Step:
        return next(s for s in self.steps if s.key == key)


@dataclass(frozen=True)
class Turn:
    state: DialogState | None
    messages: list[Message]


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.casefold()).strip()


_BACK = {"back", "go back", "previous"}
_CANCEL = {"cancel", "stop", "abandon"}
_HELP = {"help", "what do i do", "commands", "?"}
_RESTART = {"start again", "restart", "start over", "begin again"}
_SKIP = {"skip", "none", "n a", "na", "no", "not known", "don t know", "dont know", "pass"}
_SUBMIT = {"submit", "send", "yes", "y", "send it", "confirm", "1"}
_EDIT = {"edit", "change", "change an answer", "edit an answer", "2"}
_YES = {"yes", "y", "yeah", "yep", "1"}

_COMMANDS_HELP = (
    "At any question you can type back (previous question), start again, cancel, or help."
)


class Engine:
    def __init__(self, dialogs: Sequence[Dialog]) -> None:
        self.dialogs = {d.name: d for d in dialogs}

    # -- entry points --------------------------------------------------------------------

    async def start(
        self, name: str, ctx: DialogContext, *, prefill: dict[str, Any] | None = None
    ) -> Turn:
        """Begin a dialog; `prefill` answers steps already known (e.g. a flagged message), which
        are then not asked but still shown in the summary, where they can be changed."""
        dialog = self.dialogs[name]
        state = ctx.state
        prefill = {**dialog.defaults, **(prefill or {})}
        if prefill:
            state.answers.update(prefill)
            state.prefilled = sorted(prefill)
        first = self._following(dialog, state, None)
        assert first is not None, "a dialog needs at least one step"
        state.step = first.key
        messages = [*dialog.intro(ctx), *self._ask(dialog, ctx, first, fresh=True)]
        return Turn(state, messages)

    def start_at_summary(self, name: str, ctx: DialogContext, answers: dict[str, Any]) -> Turn:
        """Begin a dialog with every answer already given (an earlier request sent back for
        changes): straight to the summary, where any answer can be changed."""
        state = ctx.state
        state.answers.update(answers)
        state.phase, state.step = "confirming", None
        return Turn(state, [self._summary(self.dialogs[name], ctx)])

    def resume(self, ctx: DialogContext) -> list[Message]:
        dialog = self.dialogs[ctx.state.dialog]
        welcome = Message(
            kind=MessageKind.INFO,
            text=f"Welcome back. You have an unfinished {dialog.title.lower()}; "
            "let's carry on where you left off. Nothing you gave me has been lost.",
        )
        return [welcome, *self._current(dialog, ctx)]

    async def advance(self, given: UserInput, ctx: DialogContext) -> Turn:
        """One turn. A button carries the token of the question it was shown with: a press
        for any question but the one asked now is refused and changes nothing. A press with
        no token (a card shown before buttons carried one) is taken like typing its value,
        except at a critical question, where it is refused too."""
        state = ctx.state
        dialog = self.dialogs[state.dialog]
        if given.question is not None and given.question != state.question:
            return Turn(state, [moved_on(True), *self._current(dialog, ctx)])
        if given.value is not None and given.question is None and self._critical(dialog, state):
            return Turn(state, [moved_on(True), *self._current(dialog, ctx)])
        state.asked += 1
        key = _key(given.answer) if not given.files else ""

        if state.pending:
            return await self._settle_pending(dialog, ctx, confirmed=key in _YES)
        if key in _CANCEL or key in _RESTART:
            state.pending = "cancel" if key in _CANCEL else "restart"
            return Turn(state, [self._confirm_pending(dialog, state)])
        if key in _HELP:
            return Turn(state, [self._help(dialog, ctx), *self._current(dialog, ctx)])
        if key in _BACK:
            return Turn(state, self._back(dialog, ctx))
        if state.phase == "confirming":
            return await self._on_summary(dialog, ctx, given, key)
        if state.phase == "choosing_edit":
            return await self._on_edit_choice(dialog, ctx, given)
        return await self._on_answer(dialog, ctx, given, key)

    @staticmethod
    def _critical(dialog: Dialog, state: DialogState) -> bool:
        asking = state.phase == "asking" and state.step is not None and not state.pending
        return asking and dialog.step(state.step or "").critical

    # -- answering a step ----------------------------------------------------------------

    async def _on_answer(
        self, dialog: Dialog, ctx: DialogContext, given: UserInput, key: str
    ) -> Turn:
        state = ctx.state
        assert state.step is not None
        step = dialog.step(state.step)
        pctx = ctx.prompt_context()
        if step.optional and key in _SKIP and step.prompt.skip_allowed(pctx):
            value: Any = None
            notes: Sequence[Message] = ()
        else:
            outcome = await step.prompt.parse(given, pctx)
            if isinstance(outcome, Rejected):
                hint = Message(kind=MessageKind.HINT, text=outcome.hint)
                return Turn(state, [hint, *self._ask(dialog, ctx, step, fresh=False)])
            if isinstance(outcome, Waiting):
                return Turn(state, [self._stamp(state, m) for m in outcome.messages])
            value, notes = outcome.value, outcome.messages
            if step.check is not None:
                problem = await step.check(ctx, value)
                if problem:
                    hint = Message(kind=MessageKind.HINT, text=problem)
                    return Turn(state, [hint, *self._ask(dialog, ctx, step, fresh=False)])
        state.answers[step.key] = value
        messages = list(notes)
        if step.after is not None:
            messages.extend(await step.after(ctx, value))
        if not dialog.confirm and self._following(dialog, state, step.key) is None:
            messages.extend(await dialog.submit(ctx, self._final_answers(dialog, state)))
            return Turn(None, messages)
        messages.extend(self._move_on(dialog, ctx, step))
        return Turn(state, messages)

    def _move_on(self, dialog: Dialog, ctx: DialogContext, step: Step) -> list[Message]:
        state = ctx.state
        following = self._following(dialog, state, step.key)
        if following is None:
            state.phase, state.step, state.editing = "confirming", None, False
            return [self._summary(dialog, ctx)]
        state.step = following.key
        return self._ask(dialog, ctx, following, fresh=True)

    def _following(self, dialog: Dialog, state: DialogState, after: str | None) -> Step | None:
        """The next step to ask: in order; when editing, only steps that still lack an answer."""
        keys = [s.key for s in dialog.steps]
        start = 0 if after is None else keys.index(after) + 1
        for step in dialog.steps[start:]:
            if not step.applies(state.answers):
                continue
            if step.key in state.answers and (state.editing or step.key in state.prefilled):
                continue
            return step
        return None

    def _applicable(self, dialog: Dialog, answers: Answers) -> list[Step]:
        return [s for s in dialog.steps if s.applies(answers)]

    # -- asking --------------------------------------------------------------------------

    def _ask(self, dialog: Dialog, ctx: DialogContext, step: Step, *, fresh: bool) -> list[Message]:
        messages: list[Message] = []
        if fresh and step.before:
            messages.append(Message(kind=MessageKind.REMINDER, text=step.before))
        applicable = self._applicable(dialog, ctx.state.answers)
        position = next((i for i, s in enumerate(applicable, 1) if s.key == step.key), 1)
        title = f"{dialog.title}: question {position} of {len(applicable)}"
        question = step.prompt.ask(
            ctx.prompt_context(), ctx.state.answers.get(step.key), title=title
        )
        if step.optional:
            question = question.model_copy(
                update={
                    "text": question.text + " (Type skip to leave this out.)",
                    "buttons": (*question.buttons, Button(value="skip", label="Skip")),
                }
            )
        messages.append(self._stamp(ctx.state, question))
        return messages

    @staticmethod
    def _stamp(state: DialogState, message: Message) -> Message:
        """A question's buttons answer only this asking of it."""
        if not message.buttons:
            return message
        return message.model_copy(update={"question": state.question})

    def current(self, ctx: DialogContext) -> list[Message]:
        """What the person is being asked now, to show again after an interruption."""
        return self._current(self.dialogs[ctx.state.dialog], ctx)

    def _current(self, dialog: Dialog, ctx: DialogContext) -> list[Message]:
        state = ctx.state
        if state.pending:
            return [self._confirm_pending(dialog, state)]
        if state.phase == "confirming":
            return [self._summary(dialog, ctx)]
        if state.phase == "choosing_edit":
            return [self._edit_menu(dialog, ctx)]
        assert state.step is not None
        return self._ask(dialog, ctx, dialog.step(state.step), fresh=False)

    def _help(self, dialog: Dialog, ctx: DialogContext) -> Message:
        parts = [dialog.help_text]
        if ctx.state.phase == "asking" and ctx.state.step:
            step = dialog.step(ctx.state.step)
            if step.prompt.help:
                parts.append(step.prompt.help)
            parts.append(step.prompt.how_to_answer)
            if step.optional:
                parts.append("This question is optional: type skip to leave it out.")
        parts.append(_COMMANDS_HELP)
        return Message(kind=MessageKind.INFO, title="Help", text="\n\n".join(parts))

    # -- back, cancel, start again -------------------------------------------------------

    def _back(self, dialog: Dialog, ctx: DialogContext) -> list[Message]:
        state = ctx.state
        if (
            state.step
            and state.scratch.get("files")
            and isinstance(dialog.step(state.step).prompt, AttachmentPrompt)
        ):
            # Files sent at this step become its answer, so the summary shows what will be sent.
            state.answers[state.step] = state.scratch.pop("files")
        applicable = self._applicable(dialog, state.answers)
        if state.phase in ("confirming", "choosing_edit") and state.editing is False:
            if state.phase == "choosing_edit":
                state.phase = "confirming"
                return [self._summary(dialog, ctx)]
            last = applicable[-1]
            state.phase, state.step = "asking", last.key
            return self._ask(dialog, ctx, last, fresh=False)
        if state.editing:
            state.phase, state.step, state.editing = "confirming", None, False
            return [self._summary(dialog, ctx)]
        keys = [s.key for s in applicable]
        index = keys.index(state.step) if state.step in keys else 0
        if index == 0:
            note = Message(kind=MessageKind.INFO, text="This is the first question.")
            return [note, *self._ask(dialog, ctx, applicable[0], fresh=False)]
        previous = applicable[index - 1]
        state.step = previous.key
        return self._ask(dialog, ctx, previous, fresh=False)

    def _confirm_pending(self, dialog: Dialog, state: DialogState) -> Message:
        files = ", and any files," if self._takes_files(dialog) else ""
        what = (
            f"cancel this {dialog.noun}? Everything you've told me{files} will be deleted"
            if state.pending == "cancel"
            else f"start again? Your answers so far{files} will be deleted"
        )
        return Message(
            kind=MessageKind.PROMPT,
            text=f"Are you sure you want to {what}. Nothing has been sent yet.",
            buttons=(
                Button(value="yes", label="Yes", style="danger"),
                Button(value="no", label="No, carry on"),
            ),
            expects=InputKind.YES_NO,
            question=state.question,
        )

    async def _settle_pending(self, dialog: Dialog, ctx: DialogContext, *, confirmed: bool) -> Turn:
        state = ctx.state
        pending, state.pending = state.pending, None
        if not confirmed:
            note = Message(kind=MessageKind.INFO, text="OK, carrying on.")
            return Turn(state, [note, *self._current(dialog, ctx)])
        await self._discard_files(ctx)
        if pending == "cancel":
            files = " and the files you gave me are deleted" if self._takes_files(dialog) else ""
            done = Message(
                kind=MessageKind.INFO,
                text=f"Cancelled. Nothing was sent{files}. If you change your mind, "
                f"{dialog.restart_hint or f'type {dialog.start_word} to start again'}.",
            )
            return Turn(None, [done])
        fresh = DialogState(dialog=dialog.name)
        ctx.state = fresh
        return await self.start(dialog.name, ctx)

    @staticmethod
    def _takes_files(dialog: Dialog) -> bool:
        return any(isinstance(s.prompt, AttachmentPrompt) for s in dialog.steps)

    async def _discard_files(self, ctx: DialogContext) -> None:
        dialog = self.dialogs[ctx.state.dialog]
        ids: list[str] = [f["id"] for f in ctx.state.scratch.get("files") or []]
        for step in dialog.steps:
            value = ctx.state.answers.get(step.key)
            if isinstance(step.prompt, AttachmentPrompt) and value:
                ids.extend(f["id"] for f in value)
        if ids:
            await ctx.prompt_context().attachments.discard(sorted(set(ids)))

    async def discard(self, ctx: DialogContext) -> None:
        """Throw away a draft (it expired): delete its files; the caller drops the state."""
        await self._discard_files(ctx)

    # -- summary, edit and submit -------------------------------------------------------

    def _summary(self, dialog: Dialog, ctx: DialogContext) -> Message:
        pctx = ctx.prompt_context()
        facts = []
        images: list[ImageRef] = []
        for step in self._applicable(dialog, ctx.state.answers):
            value = ctx.state.answers.get(step.key)
            shown = "Not given" if value is None else step.prompt.show(value, pctx)
            facts.append(Fact(label=step.label, value=shown))
            if isinstance(step.prompt, AttachmentPrompt) and value:
                images.extend(
                    ImageRef(evidence_id=f["id"], name=f["name"], media_type=f["media_type"])
                    for f in value
                    if f["media_type"].startswith("image/")
                )
        return Message(
            kind=MessageKind.SUMMARY,
            title=f"Check your {dialog.title.lower()} before it is sent",
            text="Here is everything you've told me. Is it right?",
            facts=tuple(facts),
            images=tuple(images),
            buttons=(
                Button(value="submit", label="Send it", style="primary"),
                Button(value="edit", label="Change an answer"),
                Button(value="cancel", label="Cancel", style="danger"),
            ),
            expects=InputKind.CHOICE,
            question=ctx.state.question,
        )

    def _final_answers(self, dialog: Dialog, state: DialogState) -> dict[str, Any]:
        """Only the answers to questions that apply: an answer to a question that no longer
        applies (the person changed an earlier answer) is not sent."""
        return {s.key: state.answers.get(s.key) for s in self._applicable(dialog, state.answers)}

    def _edit_prompt(self, dialog: Dialog, ctx: DialogContext) -> ChoicePrompt:
        choices = [Choice(s.key, s.label) for s in self._applicable(dialog, ctx.state.answers)]
        return ChoicePrompt("Which answer would you like to change?", choices)

    def _edit_menu(self, dialog: Dialog, ctx: DialogContext) -> Message:
        menu = self._edit_prompt(dialog, ctx).ask(ctx.prompt_context(), None, title=None)
        return self._stamp(ctx.state, menu)

    async def _on_summary(
        self, dialog: Dialog, ctx: DialogContext, given: UserInput, key: str
    ) -> Turn:
        state = ctx.state
        if key in _SUBMIT:
            messages = await dialog.submit(ctx, self._final_answers(dialog, state))
            return Turn(None, list(messages))
        if key in _EDIT:
            state.phase = "choosing_edit"
            return Turn(state, [self._edit_menu(dialog, ctx)])
        hint = Message(
            kind=MessageKind.HINT,
            text="Please choose: 1. Send it, 2. Change an answer, or type cancel.",
        )
        return Turn(state, [hint, self._summary(dialog, ctx)])

    async def _on_edit_choice(self, dialog: Dialog, ctx: DialogContext, given: UserInput) -> Turn:
        state = ctx.state
        outcome = await self._edit_prompt(dialog, ctx).parse(given, ctx.prompt_context())
        if isinstance(outcome, Rejected | Waiting):
            text = outcome.hint if isinstance(outcome, Rejected) else ""
            hint = Message(kind=MessageKind.HINT, text=text or "Please pick an answer to change.")
            return Turn(state, [hint, self._edit_menu(dialog, ctx)])
        step = dialog.step(outcome.value)
        state.phase, state.step, state.editing = "asking", step.key, True
        return Turn(state, self._ask(dialog, ctx, step, fresh=False))

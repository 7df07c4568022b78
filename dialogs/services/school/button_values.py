"""What a button on a card carries: a verb and a record's reference, and nothing else.

A button may also name the version of the record its card showed (a post edited and sent
again is a new version): a decision taken on an old card is refused, never applied to the new
version, which the person has not seen.

Cards are posted where several people can press them, and a pressed button's value comes back
from the platform as text anyone could have forged. So a value names only what to do and to
which record; who pressed it, and whether they may, is always checked by the services.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Generic, Literal, Self, TypeVar, cast

from dialogs.services.messages import Button

V = TypeVar("V", bound=StrEnum)
MAX_REFERENCE_CHARS = 40


@dataclass(frozen=True)
class VerbButton(Generic[V]):
    """Encoded as "<prefix>:<verb>:<reference>", or with ":<version>" after it; subclasses
    set PREFIX and VERBS."""

    verb: V
    reference: str
    version: int | None = None

    PREFIX: ClassVar[str]
    VERBS: ClassVar[type[StrEnum]]

    def encode(self) -> str:
        versioned = "" if self.version is None else f":{self.version}"
        return f"{self.PREFIX}:{self.verb.value}:{self.reference}{versioned}"

    def button(
        self, label: str, style: Literal["default", "primary", "danger"] = "default"
    ) -> Button:
        return Button(value=self.encode(), label=label, style=style)

    @classmethod
    def decode(cls, value: str) -> Self | None:
        """The button a value names, or None for anything else (another kind, a bad verb)."""
        parts = value.split(":")
        if len(parts) not in (3, 4) or parts[0] != cls.PREFIX:
            return None
        version = None
        if len(parts) == 4:
            if not (parts[3].isascii() and parts[3].isdigit() and len(parts[3]) <= 6):
                return None
            version = int(parts[3])
        try:
            verb = cls.VERBS(parts[1])
        except ValueError:
            return None
        return cls(cast(V, verb), parts[2][:MAX_REFERENCE_CHARS], version)

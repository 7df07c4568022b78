"""What a button on a card carries: a verb and a record's reference, and nothing else.

Cards are posted where several people can press them, and a pressed button's value comes back
from the platform as text anyone could have forged. So a value names only what to do and to
which record; who pressed it, and whether they may, is always checked by the services.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Generic, Literal, Self, TypeVar, cast

from dialogs.messages import Button

V = TypeVar("V", bound=StrEnum)
MAX_REFERENCE_CHARS = 40


@dataclass(frozen=True)
class VerbButton(Generic[V]):
    """Encoded as "<prefix>:<verb>:<reference>"; subclasses set PREFIX and VERBS."""

    verb: V
    reference: str

    PREFIX: ClassVar[str]
    VERBS: ClassVar[type[StrEnum]]

    def encode(self) -> str:
        return f"{self.PREFIX}:{self.verb.value}:{self.reference}"

    def button(
        self, label: str, style: Literal["default", "primary", "danger"] = "default"
    ) -> Button:
        return Button(value=self.encode(), label=label, style=style)

    @classmethod
    def decode(cls, value: str) -> Self | None:
        """The button a value names, or None for anything else (another kind, a bad verb)."""
        parts = value.split(":")
        if len(parts) != 3 or parts[0] != cls.PREFIX:
            return None
        try:
            verb = cls.VERBS(parts[1])
        except ValueError:
            return None
        return cls(cast(V, verb), parts[2][:MAX_REFERENCE_CHARS])

"""What a prompt may offer from the school itself: its official accounts and its people.

Why built late and kept: a trust's staff list runs to thousands, every turn builds its prompt
context several times, and most questions (all of a report's) offer neither. So a list is built
only when a prompt asks for it, and kept with the School it was built from.

Why that cannot go stale: a School is frozen, and is replaced, never edited, whenever what it
holds changes (a configuration reload, a person learned from a platform or gone from it, an
account recorded in the register: see StaffDirectory and AccountRegister.school). Choices built
from one School object are right for as long as that object lives, so they are kept by its
identity (weakly: they go when it goes), never by its id or its contents.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence

from dialogs.prompts import Choice
from dialogs.services.school.platforms import LABELS
from dialogs.services.school.schools import School


def _accounts(school: School) -> tuple[Choice, ...]:
    return tuple(Choice(a.id, f"{a.name} ({LABELS[a.platform]})") for a in school.accounts)


def _people(school: School) -> tuple[Choice, ...]:
    return tuple(Choice(p.id, p.name) for p in school.people)


# The options a SchoolOptionsPrompt may name (its `key`), and how each is built.
_BUILDERS: dict[str, Callable[[School], tuple[Choice, ...]]] = {
    "accounts": _accounts,
    "people": _people,
}

# id(school) -> (the school, weakly; its options built so far). A School's own hash is the hash
# of all it holds (thousands of people), so it is looked up by identity instead; the entry is
# dropped when the School is collected, before its id can be used again.
_kept: dict[int, tuple[weakref.ref[School], dict[str, tuple[Choice, ...]]]] = {}


def _built(school: School) -> dict[str, tuple[Choice, ...]]:
    key = id(school)
    entry = _kept.get(key)
    if entry is not None and entry[0]() is school:
        return entry[1]
    built: dict[str, tuple[Choice, ...]] = {}

    def gone(_: weakref.ref[School]) -> None:
        _kept.pop(key, None)

    _kept[key] = (weakref.ref(school, gone), built)
    return built


class SchoolOptions(Mapping[str, Sequence[Choice]]):
    """A school's options (PromptContext.options), each built the first time it is read."""

    def __init__(self, school: School) -> None:
        self._school = school

    def __getitem__(self, key: str) -> Sequence[Choice]:
        built = _built(self._school)
        found = built.get(key)
        if found is None:
            found = built[key] = _BUILDERS[key](self._school)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(_BUILDERS)

    def __len__(self) -> int:
        return len(_BUILDERS)

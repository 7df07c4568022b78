"""The newest migration, read from the scripts' text, without alembic or SQLAlchemy.

Every command checks that the schema is up to date before it reads anything. Alembic takes
about a tenth of a second to load, SQLAlchemy more, and a command that reads one row
(`policybot ask --school ID`, storage.policy_in_force) should not wait for either: when the
migrations form one plain chain, its head is the head alembic would find
(tests/storage/test_migrations.py checks the two agree).
"""

from __future__ import annotations

import re
from pathlib import Path

MIGRATIONS = Path(__file__).with_name("migrations")
# A migration script's identifiers, as alembic writes them: `revision: str = "0014"`.
_IDENTIFIERS = re.compile(
    r"^(revision|down_revision|branch_labels|depends_on)\b[^=\n]*=\s*(.*?)\s*$", re.MULTILINE
)
_QUOTED = re.compile(r"""^(?:"([\w-]+)"|'([\w-]+)')$""")


def plain_chain_head() -> str | None:
    """The newest migration, read from the scripts' text, when they form one plain chain (each
    with one parent, no branch labels, no dependencies): then it is the head alembic finds.
    None for anything else, which is left to alembic (tests/storage/test_migrations.py checks
    the two agree)."""
    parents: dict[str, str | None] = {}
    for script in (MIGRATIONS / "versions").glob("*.py"):
        found = _IDENTIFIERS.findall(script.read_text(encoding="utf-8"))
        values = dict(found)
        if len(found) != 4 or len(values) != 4:
            return None
        if values["branch_labels"] != "None" or values["depends_on"] != "None":
            return None
        revision = _quoted(values["revision"])
        parent = None if values["down_revision"] == "None" else _quoted(values["down_revision"])
        if revision is None or revision in parents:
            return None
        if parent is None and values["down_revision"] != "None":
            return None
        parents[revision] = parent
    heads = set(parents) - set(parents.values())
    if len(heads) != 1:
        return None
    head = heads.pop()
    chain: list[str] = []
    at: str | None = head
    while at is not None and at in parents and len(chain) <= len(parents):
        chain.append(at)
        at = parents[at]
    return head if at is None and len(chain) == len(parents) else None


def _quoted(value: str) -> str | None:
    match = _QUOTED.match(value)
    return (match.group(1) or match.group(2)) if match else None

"""privacy/ imports no other context: every context imports its audit log, so an import back
would make a cycle, and retention and subject access would again reach into every context's
tables instead of running what each context contributes (dialogs.services.privacy_composition).
"""

from __future__ import annotations

import ast
from pathlib import Path

import dialogs.services.privacy

PRIVACY = Path(dialogs.services.privacy.__file__).parent
# What privacy/ may import from the domain: itself, the shared kernel, the one error hierarchy.
ALLOWED = ("dialogs.services.privacy", "dialogs.services.school", "dialogs.services.errors")


def imported(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_privacy_imports_only_itself_the_shared_kernel_and_errors_from_the_domain() -> None:
    reached = {
        (path.name, module)
        for path in sorted(PRIVACY.glob("*.py"))
        for module in imported(path)
        if module.startswith("dialogs") and not module.startswith(ALLOWED)
    }
    assert reached == set()

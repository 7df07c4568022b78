"""`.env.example` lists every variable policybot reads, so a deployment can be set up from it.

The variables are found in the code itself: every string in bot/, dialogs/ and storage/ that
names a POLICYBOT_*, SLACK_*, MICROSOFT_*, BOTFRAMEWORK_*, FACEBOOK_* or DATABASE_* variable,
and every name read with env.get(...), os.environ[...], os.getenv(...) or click's envvar=. A
new variable without a line in .env.example fails here, naming it and where it is read.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = ROOT / ".env.example"
PACKAGES = ("bot", "dialogs", "storage")
NAMED = re.compile(r"\b(?:POLICYBOT|SLACK|MICROSOFT|BOTFRAMEWORK|FACEBOOK|DATABASE)_[A-Z0-9_]*")
VARIABLE = re.compile(r"[A-Z][A-Z0-9_]*")
ENV_RECEIVERS = {"env", "environ", "environment"}
# A line of the file: `NAME=value`, or `# NAME=value` for one left at its default.
LISTED = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def _receiver(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _names_read(tree: ast.AST) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += [(name, node.lineno) for name in NAMED.findall(node.value)]
        elif isinstance(node, ast.Call):
            func = node.func
            reads = isinstance(func, ast.Attribute) and (
                (func.attr == "get" and _receiver(func.value) in ENV_RECEIVERS)
                or func.attr == "getenv"
            )
            arguments = node.args[:1] if reads else []
            arguments += [k.value for k in node.keywords if k.arg == "envvar"]
            for argument in arguments:
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    found.append((argument.value, node.lineno))
        elif isinstance(node, ast.Subscript) and _receiver(node.value) in ENV_RECEIVERS:
            key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                found.append((key.value, node.lineno))
    return [(name, line) for name, line in found if VARIABLE.fullmatch(name)]


def variables_read() -> dict[str, str]:
    """Each variable the code reads, with the first place it is read (`path:line`). A name
    ending in "_" is a prefix (POLICYBOT_COMMENTS_SECRET_<SCHOOL>)."""
    read: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for name, line in _names_read(tree):
                read.setdefault(name, f"{path.relative_to(ROOT)}:{line}")
    return read


def variables_listed() -> set[str]:
    return set(LISTED.findall(ENV_EXAMPLE.read_text(encoding="utf-8")))


def test_every_variable_the_code_reads_is_in_env_example() -> None:
    listed = variables_listed()
    missing = [
        f"{name}* (read at {where})" if name.endswith("_") else f"{name} (read at {where})"
        for name, where in sorted(variables_read().items())
        if not (
            any(item.startswith(name) for item in listed) if name.endswith("_") else name in listed
        )
    ]
    assert not missing, (
        ".env.example does not list these variables, which the code reads: "
        + ", ".join(missing)
        + ". Add each under its heading, with a comment saying what it is for (commented out "
        "as `# NAME=default` when it has a default)."
    )


def test_every_policybot_variable_listed_is_read_by_the_code_or_by_compose() -> None:
    """No stale lines: a POLICYBOT_* variable nobody reads would only mislead."""
    read = variables_read()
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    stale = sorted(
        name
        for name in variables_listed()
        if name.startswith("POLICYBOT_")
        and name not in read
        and not any(name.startswith(p) for p in read if p.endswith("_"))
        and f"${{{name}" not in compose
    )
    assert not stale, f".env.example lists variables nothing reads: {', '.join(stale)}"


def test_the_scan_finds_what_the_settings_read() -> None:
    """The scan itself: it must see variables read in each of the ways the code reads them."""
    read = variables_read()
    for name in ("POLICYBOT_CONFIG", "DATABASE_URL", "PORT", "POLICYBOT_LOG_FORMAT"):
        assert name in read
    assert "POLICYBOT_COMMENTS_SECRET_" in read
    assert "SLACK_BOT_TOKEN" in read


def test_the_example_holds_no_secret_values() -> None:
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.startswith(("SLACK_", "MICROSOFT_APP_PASSWORD", "POLICYBOT_EVIDENCE_KEY")):
            assert line.endswith("="), line

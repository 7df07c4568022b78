"""A click group whose commands are imported when they run, not when `policybot` starts.

Every `policybot` command is its own process, and importing every command's module (the
database layer, the dialogs, the chat platforms' SDKs) took most of the two seconds a one-line
`policybot ask` used to take. This is click's documented "LazyGroup" pattern, with one addition:
each lazy command's short help is recorded next to its import path, so `policybot --help` can
list every command without importing any of them. tests/bot/test_startup.py checks that the
recorded help is what each command's docstring says.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import click


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives (`module:attribute`), and its short help for the command list."""

    path: str
    help: str


class LazyGroup(click.Group):
    """A group with commands defined elsewhere, imported the first time one is looked up."""

    def __init__(self, *args: Any, lazy_commands: Mapping[str, LazyCommand], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            self.add_command(self._load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click.Group's, except that a command not imported yet is listed with its recorded
        help (shortened to fit exactly as click shortens a docstring)."""
        listed: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is None:
                command = click.Command(name, help=self.lazy_commands[name].help)
            if not command.hidden:
                listed.append((name, command))
        if not listed:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in listed)
        with formatter.section("Commands"):
            formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in listed])

    def _load(self, cmd_name: str) -> click.Command:
        module_name, _, attribute = self.lazy_commands[cmd_name].path.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy_commands[cmd_name].path} is not a click command")
        return command

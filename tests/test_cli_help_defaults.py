"""Every `[default: ...]` written into an option's help reaches the screen: typer renders help
with rich markup, which takes an unescaped `[default: ...]` for a style tag and drops it (the
`--store` default of issue 21 item 9)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import typer
from typer.testing import CliRunner

from rehabbot.cli import DeferredCommand, app

#: A default written in a help text (escaped for rich or not).
WRITTEN_DEFAULT = re.compile(r"\\?\[(default: [^\]]+)\]")


def commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command under ``group`` (a click command as typer builds it) with the words that
    call it; a deferred command as its module defines it."""
    if isinstance(group, DeferredCommand):
        group = group.load()
    if hasattr(group, "commands"):
        for name, command in group.commands.items():
            yield from commands(command, (*path, name))
    else:
        yield path, group


def shown(path: tuple[str, ...]) -> str:
    """The help of ``rehabbot PATH --help`` as a terminal shows it, lines joined."""
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "400"},
                                terminal_width=400)
    assert result.exit_code == 0, result.output
    return " ".join(" ".join(line.strip("│ ").split()) for line in result.output.splitlines())


def test_every_written_default_is_shown_in_the_help() -> None:
    root = typer.main.get_command(app)
    written = 0
    for path, command in commands(root):
        defaults = [" ".join(match[1].split()) for param in command.params
                    for match in WRITTEN_DEFAULT.finditer(getattr(param, "help", None) or "")]
        if not defaults:
            continue
        text = shown(path)
        for default in defaults:
            written += 1
            assert f"[{default}]" in text, f"rehabbot {' '.join(path)} --help lost [{default}]"
    assert written >= 8  # --store, --operator, --date, ... of sessions, patients, replay


def test_the_store_and_operator_defaults_of_the_records_commands() -> None:
    text = shown(("patients", "add"))
    assert "[default: $REHABBOT_STORE or user data dir]" in text
    assert "[default: $REHABBOT_OPERATOR or your login name]" in text
    assert "[default: $REHABBOT_STORE or user data dir]" in shown(("replay",))

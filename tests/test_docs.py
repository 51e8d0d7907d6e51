"""Docs that cannot drift: docs/cli.md is the CLI's own --help output (rewritten with
``pytest --update-goldens``), and the README names every command."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from backtriage.cli import app
from tests.conftest import ROOT

CLI_DOC = ROOT / "docs" / "cli.md"


def command_paths() -> list[list[str]]:
    root = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:
        paths.append(path)
        if hasattr(command, "commands"):  # typer groups are not click.Group subclasses
            for name in sorted(command.commands):
                walk(command.commands[name], [*path, name])

    walk(root, [])
    return paths


def render() -> str:
    runner = CliRunner()
    parts = [
        "# Command-line reference\n",
        "Generated from `--help`; `pytest --update-goldens` rewrites it.\n",
    ]
    for path in command_paths():
        result = runner.invoke(
            app, [*path, "--help"], env={"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
        )
        assert result.exit_code == 0
        text = re.sub(r"[ \t]+\n", "\n", result.stdout).strip("\n")
        title = " ".join(["backtriage", *path])
        parts.append(f"## `{title}`\n\n```text\n{text}\n```\n")
    return "\n".join(parts)


def test_cli_reference_is_the_help_output(request: pytest.FixtureRequest) -> None:
    text = render()
    if request.config.getoption("--update-goldens"):
        CLI_DOC.write_text(text, encoding="utf-8")
    assert CLI_DOC.read_text(encoding="utf-8") == text, "run pytest --update-goldens"


def test_readme_names_every_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in command_paths():
        if path and not (len(path) == 1 and path[0] in ("kb",)):
            assert "backtriage " + " ".join(path) in readme, f"README misses {path}"

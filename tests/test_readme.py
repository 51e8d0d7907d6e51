"""The README's examples run: its Python block prints what the README says, its commands exit 0,
and its console transcript is what the CLI prints."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import subprocess
import sys

import pytest

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_python_example_prints_what_it_says() -> None:
    (code,) = blocks("python")
    expected = [line[2:] for line in code.splitlines() if line.startswith("# ")]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue().splitlines()[0] == expected[0]


def cli(argv: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backtriage", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def usage_lines() -> list[str]:
    """Every `backtriage assess` / `backtriage kb` line of the README's shell blocks (the
    service, audit and benchmark lines are exercised by their own tests)."""
    lines = []
    for block in blocks("sh"):
        for line in block.splitlines():
            command = line.split("  #")[0].strip()
            if re.match(r"^(echo .*\| )?backtriage (assess|kb) ", command):
                lines.append(command)
    return lines


@pytest.mark.parametrize("line", usage_lines())
def test_usage_commands_run(line: str) -> None:
    stdin = None
    if "|" in line:
        producer, line = (part.strip() for part in line.split("|"))
        stdin = shlex.split(producer)[1]
    command = line.split(">")[0]
    argv = shlex.split(command)
    assert argv[0] == "backtriage"
    result = cli(argv[1:], stdin)
    assert result.returncode == 0, result.stderr
    assert result.stdout


def test_console_transcript() -> None:
    (block,) = blocks("console")
    command, expected = block.strip().splitlines()
    producer, consumer = command.removeprefix("$ ").split("|")
    result = cli(shlex.split(consumer)[1:], shlex.split(producer)[1])
    assert result.returncode == 2
    assert result.stderr.strip() == expected

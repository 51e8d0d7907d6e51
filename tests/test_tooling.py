"""Strict tooling from day one: ruff and mypy (strict) pass on the tracked sources."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def tracked(*patterns: str) -> list[str]:
    """The files git tracks (so work in progress beside a checkout is not judged)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(
        ["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return [line for line in out.stdout.splitlines() if line.endswith(".py")]


def test_ruff() -> None:
    files = tracked("src", "tests", "bench")
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", *files], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_on_the_package() -> None:
    files = tracked("src/backtriage")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", *files], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr

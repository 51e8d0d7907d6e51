"""Shared fixtures: one TextReader for the whole session (it loads the rules once)."""

from __future__ import annotations

import pytest

from backtriage.text import TextReader


@pytest.fixture(scope="session")
def reader() -> TextReader:
    return TextReader()

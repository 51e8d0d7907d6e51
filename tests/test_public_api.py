"""The public API is what __all__ says, and nothing there is missing."""

from __future__ import annotations

import subprocess
import sys

import pytest

import backtriage


def test_public_api_is_pinned() -> None:
    assert sorted(backtriage.__all__) == [
        "Assessment",
        "AuditInputError",
        "BacktriageError",
        "Case",
        "CaseError",
        "Evidence",
        "InputError",
        "Knowledge",
        "KnowledgeError",
        "TextError",
        "assess",
        "load_knowledge",
        "parse_case",
        "to_html",
        "to_json",
        "to_markdown",
    ]
    for name in backtriage.__all__:
        assert getattr(backtriage, name) is not None


def test_errors_form_one_tree() -> None:
    for name in ("KnowledgeError", "InputError", "CaseError", "TextError", "AuditInputError"):
        assert issubclass(getattr(backtriage, name), backtriage.BacktriageError)
    assert issubclass(backtriage.CaseError, backtriage.InputError)


def test_docstring_example() -> None:
    result = backtriage.assess({"findings": {"spasms": "present"}})
    assert (result.urgency, result.most_likely, result.imaging) == (
        "routine",
        "nonspecific_low_back_pain",
        [],
    )


def test_importing_the_package_is_light() -> None:
    # The audit and the error classes need neither pydantic nor the engine: they load on first use.
    script = (
        "import sys, backtriage.errors\n"
        "print(sorted(m for m in ('pydantic', 'backtriage.engine', 'jinja2') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'asses'"):
        backtriage.asses  # noqa: B018


def test_the_command_line_loads_only_what_the_command_needs() -> None:
    # FastAPI (the service) takes about 0.4 s to import, Jinja2 and the audit's engines more:
    # mounting their commands must not load them for every other command.
    script = (
        "import sys, backtriage.cli\n"
        "heavy = ('fastapi', 'starlette', 'jinja2', 'ibis', 'duckdb', 'pyarrow', 'spacy')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"

"""The public API is what __all__ says, and nothing there is missing."""

from __future__ import annotations

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

"""Golden cases: each clinically distinct case (and each boundary pair) with its stored expected
assessment, through the public path (free text read, then the core).  Rewrite them only with
``pytest --update-goldens`` and review the diff."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from backtriage.api import assess_case, parse_case
from backtriage.knowledge import Knowledge
from tests.conftest import ROOT, TODAY, validate_assessment

CASES = sorted(p.parent for p in (ROOT / "tests" / "cases").glob("*/case.json"))
# The knowledge base's version changes with any data edit; everything else must match.
VOLATILE = ("knowledge_version",)


def comparable(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in VOLATILE}


@pytest.mark.parametrize("folder", CASES, ids=lambda p: p.name)
def test_golden_case(folder: Path, kb: Knowledge, request: pytest.FixtureRequest) -> None:
    case = parse_case(json.loads((folder / "case.json").read_text()), kb)
    actual = comparable(assess_case(case, kb, TODAY).to_json_dict())
    validate_assessment({**actual, "knowledge_version": kb.version})
    expected_file = folder / "expected.json"
    if request.config.getoption("--update-goldens"):
        expected_file.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n")
    assert expected_file.is_file(), (
        f"no expected.json: run pytest --update-goldens -k {folder.name}"
    )
    expected = json.loads(expected_file.read_text())
    assert actual == expected


def test_every_condition_has_a_golden_case_where_it_is_suspected(kb: Knowledge) -> None:
    suspected: set[str] = set()
    most_likely: set[str] = set()
    for folder in CASES:
        expected = json.loads((folder / "expected.json").read_text())
        suspected |= {c["id"] for c in expected["conditions"] if c["status"] == "suspected"}
        most_likely.add(expected["most_likely"])
    assert set(kb.conditions) <= suspected | most_likely
    assert {"emergency", "urgent", "routine"} <= {
        json.loads((f / "expected.json").read_text())["urgency"] for f in CASES
    }

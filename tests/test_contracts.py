"""The vendored contract schemas match the shared ones, and every example case meets the case
contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backtriage.api import parse_case
from tests.conftest import CONTRACTS, ROOT, validate_case

SHARED = ROOT.parent / "shared" / "contracts"


@pytest.mark.parametrize("name", ["case-1.schema.json", "assessment-1.schema.json"])
def test_vendored_contract_matches_shared(name: str) -> None:
    if not SHARED.is_dir():
        pytest.skip("shared/contracts is not beside this checkout")
    assert json.loads((CONTRACTS / name).read_text()) == json.loads((SHARED / name).read_text())


def example_cases() -> list[Path]:
    cases = sorted((ROOT / "examples").glob("*.json"))
    cases += sorted((ROOT / "tests" / "cases").glob("*/case.json"))
    return cases


@pytest.mark.parametrize("path", example_cases(), ids=lambda p: str(p.relative_to(ROOT)))
def test_example_cases_meet_the_case_contract(path: Path) -> None:
    data = json.loads(path.read_text())
    validate_case(data)
    parse_case(data)


def test_example_lines_meet_the_case_contract() -> None:
    for line in (ROOT / "examples" / "batch.jsonl").read_text().splitlines():
        validate_case(json.loads(line))

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from backtriage.api import default_knowledge
from backtriage.assessment import Assessment
from backtriage.case import Case
from backtriage.engine import assess
from backtriage.knowledge import Knowledge

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ROOT / "contracts"
TODAY = date(2026, 11, 25)

_ASSESSMENT_SCHEMA = json.loads((CONTRACTS / "assessment-1.schema.json").read_text())
_CASE_SCHEMA = json.loads((CONTRACTS / "case-1.schema.json").read_text())
_ASSESSMENT_VALIDATOR = jsonschema.Draft202012Validator(_ASSESSMENT_SCHEMA)
_CASE_VALIDATOR = jsonschema.Draft202012Validator(_CASE_SCHEMA)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        help=(
            "rewrite the stored expectations (tests/cases/*/expected.json, "
            "tests/text/readings/, docs/cli.md) from the code (review the diff!)"
        ),
    )


@pytest.fixture(scope="session")
def kb() -> Knowledge:
    return default_knowledge()


def validate_assessment(data: dict[str, Any]) -> None:
    """Every JSON assessment the tests produce must meet the contract."""
    _ASSESSMENT_VALIDATOR.validate(data)


def validate_case(data: dict[str, Any]) -> None:
    _CASE_VALIDATOR.validate(data)


def run(kb: Knowledge, **case: Any) -> Assessment:
    """Assess a case given as keyword arguments, checking the JSON contract on the way."""
    result = assess(Case.model_validate(case), kb, TODAY)
    validate_assessment(result.to_json_dict())
    return result


def status(result: Assessment, condition: str) -> str | None:
    return next((c.status for c in result.conditions if c.id == condition), None)

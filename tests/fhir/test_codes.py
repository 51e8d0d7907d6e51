"""The FHIR code lists are data checked at load: a broken file stops start-up with every
problem named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from backtriage.api import default_knowledge
from backtriage.errors import KnowledgeError
from backtriage.fhir import load_fhir_codes

DATA = Path(__file__).resolve().parents[2] / "src" / "backtriage" / "fhir" / "data"


def test_packaged_lists_load() -> None:
    codes = load_fhir_codes(default_knowledge())
    assert codes.observations["8310-5"][0] == "temperature_c"


def test_broken_lists_report_every_problem(tmp_path: Path) -> None:
    shutil.copytree(DATA, tmp_path, dirs_exist_ok=True)
    orders = tmp_path / "imaging_orders.yaml"
    orders.write_text(
        orders.read_text().replace(
            "procedure: Radiography lumbar spine,", "procedure: Radiograph lumbar spine,", 1
        )
    )
    meds = tmp_path / "medications.yaml"
    meds.write_text(
        meds.read_text().replace("finding: immunocompromised", "finding: immunosuppressed")
    )
    (tmp_path / "observations.yaml").unlink()
    with pytest.raises(KnowledgeError) as caught:
        load_fhir_codes(default_knowledge(), tmp_path)
    problems = "\n".join(caught.value.problems)
    assert "observations.yaml: file is missing" in problems

    (tmp_path / "observations.yaml").write_text((DATA / "observations.yaml").read_text())
    with pytest.raises(KnowledgeError) as caught:
        load_fhir_codes(default_knowledge(), tmp_path)
    problems = "\n".join(caught.value.problems)
    assert "unknown ACR procedure 'Radiograph lumbar spine'" in problems
    assert "unknown finding 'immunosuppressed'" in problems

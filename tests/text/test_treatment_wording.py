"""Treatments as evidence of a condition (targets/treatments.yaml and the drug classes).

Taking a drug for a condition says the condition is there; not taking it says nothing of the
condition ("not on alendronic acid" is no evidence against osteoporosis, "never had chemo" none
against a past cancer).  A corticosteroid is the finding itself, so its denial is a denial.
"""

from __future__ import annotations

import pytest

from backtriage.text import TextReader


@pytest.mark.parametrize(
    ("note", "finding"),
    [
        ("On alendronic acid.", "osteoporosis"),
        ("Takes risedronate weekly.", "osteoporosis"),
        ("On tamoxifen.", "history_of_cancer"),
        ("Completed chemo in 2019.", "history_of_cancer"),
        ("On methotrexate for RA.", "immunocompromised"),
        ("Takes sertraline.", "depression"),
        ("Taking prednisolone.", "prolonged_corticosteroid_use"),
        # Positive phrases a looser denial list would have taken for denials.
        ("Has been on prednisolone 20 mg daily for 18 months.", "prolonged_corticosteroid_use"),
        ("Has been on tamoxifen since 2020.", "history_of_cancer"),
        ("Is currently on alendronic acid.", "osteoporosis"),
        ("No longer on tamoxifen.", "history_of_cancer"),
    ],
)
def test_treatment_taken_is_evidence(reader: TextReader, note: str, finding: str) -> None:
    assert reader.read(note=note).findings.get(finding) == "present"


@pytest.mark.parametrize(
    ("note", "finding"),
    [
        ("Not on alendronic acid.", "osteoporosis"),
        ("Not taking alendronate.", "osteoporosis"),
        ("Never been on bisphosphonates.", "osteoporosis"),
        ("Not on chemo.", "history_of_cancer"),
        ("Not on chemo.", "immunocompromised"),
        ("Not currently on chemo.", "history_of_cancer"),
        ("Never had chemo.", "history_of_cancer"),
        ("Never had radiotherapy.", "history_of_cancer"),
        ("Not on tamoxifen.", "history_of_cancer"),
        ("Not on methotrexate.", "immunocompromised"),
        ("Not on immunosuppressants.", "immunocompromised"),
        ("Not on antidepressants.", "depression"),
        ("Denies taking antidepressants.", "depression"),
    ],
)
def test_treatment_not_taken_says_nothing(reader: TextReader, note: str, finding: str) -> None:
    assert reader.read(note=f"Back pain. {note}").findings.get(finding) is None


@pytest.mark.parametrize(
    "note",
    ["Not taking steroids.", "Not on steroids.", "Doesn't take steroids.", "Never had steroids."],
)
def test_steroids_not_taken_is_a_denial(reader: TextReader, note: str) -> None:
    findings = reader.read(note=f"Back pain. {note}").findings
    assert findings.get("prolonged_corticosteroid_use") == "absent"


@pytest.mark.parametrize(
    ("note", "state"),
    [
        ("Not depressed; on sertraline for hot flushes", "absent"),
        ("Takes citalopram for hot flushes.", None),
        ("On sertraline for anxiety.", None),
        ("On sertraline for anxiety and depression.", "present"),
        ("Takes sertraline for low mood.", "present"),
    ],
)
def test_antidepressant_for_another_reason(
    reader: TextReader, note: str, state: str | None
) -> None:
    assert reader.read(note=note).findings.get("depression") == state


@pytest.mark.parametrize(
    ("note", "finding"),
    [
        ("No tacrolimus.", "immunocompromised"),
        ("Not on mycophenolic acid.", "immunocompromised"),
        ("Not on my chemo tablets.", "history_of_cancer"),
    ],
)
def test_more_treatments_not_taken_say_nothing(reader: TextReader, note: str, finding: str) -> None:
    assert reader.read(note=f"Back pain. {note}").findings.get(finding) is None


def test_a_treatment_not_taken_leaves_a_stated_condition(reader: TextReader) -> None:
    findings = reader.read(note="Osteoporosis, not on alendronic acid.").findings
    assert findings.get("osteoporosis") == "present"

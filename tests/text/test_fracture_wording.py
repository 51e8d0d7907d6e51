"""Fracture-screen items in the words notes use (targets/fracture_exam.yaml)."""

from __future__ import annotations

import pytest

from backtriage.text import TextReader


@pytest.mark.parametrize(
    ("note", "finding"),
    [
        ("Fell 2 metres off scaffolding", "significant_trauma"),
        ("Fell 3m", "significant_trauma"),
        ("Fall >2m", "significant_trauma"),
        ("Fall from 6ft", "significant_trauma"),
        ("Rear-ended at traffic lights, back pain since", "significant_trauma"),
        ("Hit by car while cycling", "significant_trauma"),
        ("Ped vs car", "significant_trauma"),
        ("Came off motorbike at 40mph", "significant_trauma"),
        ("Came off my horse", "significant_trauma"),
        ("Fell onto my coccyx", "significant_trauma"),
        ("Landed heavily on buttocks", "significant_trauma"),
        ("Missed a step and fell", "significant_trauma"),
        ("Slipped in the bath", "significant_trauma"),
        ("Found on floor, long lie", "significant_trauma"),
        ("Kicked by a horse", "significant_trauma"),
        ("DEXA: T -2.9", "osteoporosis"),
        ("BMD low", "osteoporosis"),
        ("Drug history: alendronic acid", "osteoporosis"),
        ("On methylprednisolone", "prolonged_corticosteroid_use"),
        ("Told I have thin bones", "osteoporosis"),
        ("brittle bones", "osteoporosis"),
        ("thinning of the bones", "osteoporosis"),
    ],
)
def test_stated(reader: TextReader, note: str, finding: str) -> None:
    assert reader.read(note=note).findings.get(finding) == "present"


@pytest.mark.parametrize(
    ("note", "finding", "state"),
    [
        ("Denies falls.", "significant_trauma", "absent"),
        ("At risk of falls.", "significant_trauma", None),
        ("Mother came off her horse.", "significant_trauma", None),
        ("Osteoporosis excluded on DEXA 2023", "osteoporosis", "absent"),
        ("osteoporosis ruled out", "osteoporosis", "absent"),
        ("Osteoporosis: not known", "osteoporosis", None),
        ("Mother has brittle bones", "osteoporosis", None),
    ],
)
def test_guards(reader: TextReader, note: str, finding: str, state: str | None) -> None:
    assert reader.read(note=note).findings.get(finding) == state

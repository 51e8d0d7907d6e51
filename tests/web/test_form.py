"""The intake form's layout comes from the knowledge base, and reading a form decides nothing."""

from __future__ import annotations

from dataclasses import replace
from importlib import resources
from typing import Any

import pytest
import yaml

from backtriage.api import assess
from backtriage.errors import KnowledgeError
from backtriage.knowledge import Knowledge
from backtriage.web import form


def test_every_finding_that_can_be_given_has_a_control(kb: Knowledge) -> None:
    layout = form.layout(kb)
    on_form = [c.id for g in layout.groups for c in g.controls]
    assert len(on_form) == len(set(on_form))
    assert set(on_form) == {f.id for f in kb.findings.values() if f.derived is None}
    # Red-flag categories come first, as the data file orders them.
    assert [g.id for g in layout.groups][:4] == [
        "cauda_equina",
        "malignancy",
        "infection",
        "fracture",
    ]


def test_every_question_the_engine_can_ask_has_a_place_to_answer_it(kb: Knowledge) -> None:
    layout = form.layout(kb)
    assert set(layout.anchors) == set(kb.findings)
    assert layout.anchors["age_over_50"] == "age"
    assert layout.anchors["esr_20_or_more"] == "m-esr_mm_h"
    assert layout.anchors["spasms"] == "f-spasms-present"
    asked = {q.finding for q in assess({}).questions}
    assert asked <= set(layout.anchors)


def test_reading_a_form_keeps_unknown_as_unknown() -> None:
    case, problems = form.read(
        {
            "f.spasms": "present",
            "f.fever": "absent",
            "f.night_pain": "unknown",
            "sex": "",
            "age": " 58 ",
            "duration_unit": "days",
            "surgical_candidate": "",
            "m.temperature_c": "",
            "m.esr_mm_h": "42",
        }
    )
    assert problems == []
    assert case == {
        "age": "58",
        "findings": {"spasms": "present", "fever": "absent"},
        "measurements": {"esr_mm_h": "42"},
    }


def test_text_is_kept_as_typed_so_evidence_offsets_hold() -> None:
    case, _ = form.read({"note": "  pain\n", "complaint": "   "})
    assert case == {"note": "  pain\n"}


def test_yes_no_and_start_back() -> None:
    answers = {f"sb{n}": "0" for n in range(1, 10)}
    case, problems = form.read({**answers, "surgical_candidate": "no"})
    assert case == {"surgical_candidate": False, "start_back": [0] * 9} and problems == []


def test_which_start_back_answers_are_given_is_worked_out_once() -> None:
    """Reading the form and the live pane ask the same function: all nine, none, or some (an
    answer of spaces is no answer), and the message names the same questions."""
    nine = {f"sb{n}": str(n % 2) for n in range(1, 10)}
    assert form.start_back(nine) == (["1", "0", "1", "0", "1", "0", "1", "0", "1"], [])
    assert form.start_back({"age": "40", "sb3": " "}) == ([], [])
    some = {**nine, "sb2": " ", "sb9": ""}
    assert form.start_back(some) == ([], [2, 9])
    case, problems = form.read(some)
    assert "start_back" not in case
    assert problems == ["STarT Back: answer all nine questions or none (not answered: 2, 9)"]


def test_a_case_error_names_the_fields_to_fix() -> None:
    message = (
        "age: Input should be less than or equal to 120 (got 130); "
        "measurements.crp_mg_l: Input should be a valid number (got 'x'); "
        "STarT Back: answer all nine questions or none (not answered: 2); "
        "findings: unknown finding id 'spasm'"
    )
    assert form.invalid_fields(message) == ["age", "m-crp_mg_l", "start-back"]


def test_an_error_is_put_in_the_form_s_words(kb: Knowledge) -> None:
    labels = form.layout(kb).labels
    message = (
        "measurements.crp_mg_l: Input should be a valid number (got 'x'); "
        "the note contains NUL bytes: it looks like binary data, not text; "
        "findings: unknown finding id 'spasm'"
    )
    assert form.in_form_terms(message, labels) == (
        "CRP (mg/L): Input should be a valid number (got 'x'); "
        "the note contains NUL bytes: it looks like binary data, not text; "
        "findings: unknown finding id 'spasm'"
    )
    case, problems = form.read({"duration": "-3", "duration_unit": "weeks"})
    assert case == {}
    assert problems == ["duration: give a number of days or weeks, 0 or more (got '-3' weeks)"]


def test_the_measurements_on_the_form_are_the_knowledge_base_s(kb: Knowledge) -> None:
    """Their fields, order, labels and units come from the knowledge base (the reports name the
    values from the same place); the intake file adds only each field's step."""
    layout = form.layout(kb)
    assert [m.id for m in layout.measurements] == list(kb.measurements)
    assert layout.labels["m-esr_mm_h"] == "ESR (mm/h)"
    assert {m.id: m.step for m in layout.measurements}["esr_mm_h"] == "1"
    renamed = kb.measurements["temperature_c"].model_copy(
        update={"label": "Body temperature", "unit": "degrees C"}
    )
    other = replace(kb, measurements={**kb.measurements, "temperature_c": renamed})
    assert form.layout(other).labels["m-temperature_c"] == "Body temperature (degrees C)"


def intake() -> dict[str, Any]:
    text = (resources.files("backtriage.web") / "data" / "intake.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def problems(data: dict[str, Any], kb: Knowledge) -> list[str]:
    with pytest.raises(KnowledgeError) as error:
        form.check(data, kb)
    return error.value.problems


def test_a_broken_intake_file_names_every_problem(kb: Knowledge) -> None:
    """Each place as the knowledge base's own files name it; each measurement needs a step, and
    nothing else may have one."""
    data = intake()
    data["start_back"]["items"].pop()
    data["categories"][1]["titel"] = data["categories"][1].pop("title")
    assert problems(data, kb) == [
        "web/data/intake.yaml: categories[1] (id: malignancy).title: required key is missing",
        "web/data/intake.yaml: categories[1] (id: malignancy).titel: unknown key (not in the "
        "schema; check the spelling)",
        "web/data/intake.yaml: start_back.items: List should have at least 8 items after "
        "validation, not 7",
    ]
    data = intake()
    del data["measurement_steps"]["wbc_10e9_l"]
    data["measurement_steps"]["sodium_mmol_l"] = "1"
    assert problems(data, kb) == [
        "web/data/intake.yaml: measurement_steps: no step for measurement 'wbc_10e9_l'",
        "web/data/intake.yaml: measurement_steps: unknown measurement id 'sodium_mmol_l' (the "
        "knowledge base's measurements: temperature_c, esr_mm_h, crp_mg_l, wbc_10e9_l)",
    ]
    assert form.check(intake(), kb).measurement_steps["temperature_c"] == "0.1"

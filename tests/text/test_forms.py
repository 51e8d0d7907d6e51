"""Forms pasted as text (text/forms.py, data/forms.yaml): an unticked box or an unanswered
question is not answered (unknown, never absent); a ticked box reads its item; a ticked "No"
denies it; a box that cannot be read leaves its item unknown."""

from __future__ import annotations

import time

import pytest

from backtriage.text import TextReader


def _state(reader: TextReader, note: str, finding: str) -> str:
    return reader.read(note=note).findings.get(finding, "unknown")


@pytest.mark.parametrize(
    "note",
    [
        "[ ] fever",
        "[] fever",
        "☐ fever",
        "( ) fever",
        "fever [ ]",
        "Fever: [ ]",
        "- [ ] fever",
        # an unticked statement of a normal is no denial either
        "[ ] No fever",
        "[ ] Afebrile",
        # "Y/N" left to fill in, a blank, and options none of which is ticked
        "Fever Y/N",
        "Fever: Y / N",
        "Fever (Y/N)",
        "Fever: yes/no",
        "Fever - Yes / No",
        "Fever: ____",
        "Fever: Y [ ] N [ ]",
        "Fever ☐ Yes ☐ No",
        "Fever: Y [ ] N [ ] Unsure [x]",
        "Fever Y/N: n/a",
    ],
)
def test_not_answered_is_unknown(reader: TextReader, note: str) -> None:
    reading = reader.read(note=note)
    assert "fever" not in reading.findings
    assert [(u.finding, u.why) for u in reading.uncertain] == [("fever", "unanswered")]


@pytest.mark.parametrize(
    "note",
    [
        "[x] fever",
        "[X] fever",
        "[ x ] fever",
        "☑ fever",
        "☒ fever",
        "(x) fever",
        "[✓] fever",
        "Fever (x)",  # read absent before: the "x" was taken for a denial
        "Fever [x]",
        "Fever: ☒",
        "Fever? [x]",
        "Fever: yes [x] no [ ]",
        "Fever: Y [x] N [ ]",
        "Fever ☒ Yes ☐ No",
        "Fever: [x] Yes [ ] No",
        "Fever (Y/N): Y",
        "Fever Y/N - yes",
    ],
)
def test_ticked_reads_present(reader: TextReader, note: str) -> None:
    assert _state(reader, note, "fever") == "present"


@pytest.mark.parametrize(
    "note",
    [
        "Fever: Y [ ] N [x]",
        "Fever: yes [ ] no [x]",
        "Fever ☐ Yes ☒ No",
        "Fever: [ ] Yes [x] No",
        "Fever: ( ) Y (x) N",
        "Fever Y/N: N",
        "Fever (Y/N): no",
        "[x] No fever",
        "[x] Afebrile",
        "Have you had a fever?\n( ) Yes (x) No",
    ],
)
def test_ticked_no_reads_absent(reader: TextReader, note: str) -> None:
    assert _state(reader, note, "fever") == "absent"


@pytest.mark.parametrize(
    "note",
    [
        "Fever: Y [x] N [x]",  # both ticked
        "Fever [?]",
        "Fever [/]",
        "fever [x] weight loss",  # which of the two is ticked?
        "No fever: Y [ ] N [x]",  # a denial answered no
    ],
)
def test_unreadable_is_unknown(reader: TextReader, note: str) -> None:
    reading = reader.read(note=note)
    assert "fever" not in reading.findings
    assert ("fever", "unclear_form") in [(u.finding, u.why) for u in reading.uncertain]


def test_a_checklist_one_item_a_line(reader: TextReader) -> None:
    note = (
        "Red flags (tick if present):\n"
        "[ ] Fever\n"
        "[x] Weight loss\n"
        "[ ] Saddle numbness\n"
        "[ ] Difficulty passing urine\n"
        "[x] History of cancer\n"
    )
    reading = reader.read(note=note)
    assert reading.findings == {
        "unexplained_weight_loss": "present",
        "history_of_cancer": "present",
    }
    assert {u.finding for u in reading.uncertain if u.why == "unanswered"} == {
        "fever",
        "saddle_anesthesia",
        "urinary_retention",
    }


@pytest.mark.parametrize(
    "note",
    [
        "Fever [ ]\nNight pain [x]\nSaddle numbness [ ]\nWeight loss [x]",
        "Red flags: [ ] fever [x] night pain [ ] saddle numbness [x] weight loss",
        "Fever [ ] night pain [x] saddle numbness [ ] weight loss [x]",
        "| Fever | [ ] |\n| Night pain | [x] |\n| Saddle numbness | [ ] |\n| Weight loss | [x] |",
        "* [ ] Fever\n* [x] Night pain\n* [ ] Saddle numbness\n* [x] Weight loss",
    ],
)
def test_checklist_layouts(reader: TextReader, note: str) -> None:
    reading = reader.read(note=note)
    assert reading.findings == {"night_pain": "present", "unexplained_weight_loss": "present"}
    assert {u.finding for u in reading.uncertain} == {"fever", "saddle_anesthesia"}


def test_an_intake_questionnaire(reader: TextReader) -> None:
    note = (
        "Back pain questionnaire\n"
        "1. Do you have a fever?  Yes [ ]  No [x]\n"
        "2. Have you lost weight without trying?  Yes [x]  No [ ]\n"
        "3. Do you have pain at night?  Yes [ ]  No [ ]\n"
        "4. Problems passing urine?  Y/N\n"
        "5. Any history of cancer?\n"
        "   ( ) Yes  (x) No\n"
        "6. Saddle numbness: ____\n"
    )
    reading = reader.read(note=note)
    assert reading.findings == {
        "fever": "absent",
        "unexplained_weight_loss": "present",
        "history_of_cancer": "absent",
    }
    assert {u.finding for u in reading.uncertain if u.why == "unanswered"} == {
        "night_pain",
        "urinary_retention",
        "saddle_anesthesia",
    }


def test_a_vague_item_answered_no_is_denied(reader: TextReader) -> None:
    findings = reader.read(note="Bladder or bowel problems: Y [ ] N [x]").findings
    assert findings == dict.fromkeys(
        ["urinary_retention", "urinary_incontinence", "fecal_incontinence"], "absent"
    )


@pytest.mark.parametrize(
    ("note", "finding", "state"),
    [
        # A box belongs to its own clause: a to-do box does not reach the findings before it.
        ("Saddle anaesthesia reported. Plan: MRI [ ]", "saddle_anesthesia", "present"),
        ("[ ] MRI. Saddle numbness since this morning.", "saddle_anesthesia", "present"),
        # Someone else's is not the patient's, ticked or not.
        ("Family history: [x] bowel cancer", "history_of_cancer", "unknown"),
        # Clinical shorthand is no box: "(-)" denies, "(+)" states.
        ("Fever (-)", "fever", "absent"),
        ("Fever (+)", "fever", "present"),
        # Not a form: "y/n" only as a whole answer template.
        ("Fever, wt loss", "fever", "present"),
        # "N/A" on a form was not asked: no "N" answer.
        ("Fever: N/A", "fever", "unknown"),
        ("Fever: not applicable", "fever", "unknown"),
    ],
)
def test_guards(reader: TextReader, note: str, finding: str, state: str) -> None:
    assert _state(reader, note, finding) == state


def test_the_evidence_quotes_the_answer(reader: TextReader) -> None:
    text = "Saddle numbness: Y [ ] N [x]"
    reading = reader.read(note=text)
    assert reading.findings == {"saddle_anesthesia": "absent"}
    assert [e.text for e in reading.evidence["saddle_anesthesia"]] == [text]


def test_a_questionnaire_in_the_second_person(reader: TextReader) -> None:
    # Intake forms ask the patient: "your back passage", "between your legs", "wet yourself".
    note = (
        "Do you have numbness around your back passage or genitals?  Yes [x]  No [ ]\n"
        "Any tingling between your legs?  Yes [ ]  No [x]\n"  # (a second "no" hides no "yes")
        "Have you wet yourself?  Yes [x]  No [ ]\n"
        "Have you lost control of your bowels?  Yes [ ]  No [ ]\n"
    )
    reading = reader.read(note=note)
    assert reading.findings == {"saddle_anesthesia": "present", "urinary_incontinence": "present"}
    assert {u.finding for u in reading.uncertain if u.why == "unanswered"} == {"fecal_incontinence"}


@pytest.mark.parametrize("line", ["[ ] fever\n", "fever [ ] ", "[x] Yes fever ", "fever ____ "])
def test_a_long_form_is_read_in_time(reader: TextReader, line: str) -> None:
    # 200,000 characters, on one line or many: no box is looked for from the start of its line
    # (before, one line of 20,000 boxes was not read in 2 minutes).
    big = line * (200_000 // len(line))
    start = time.perf_counter()
    reading = reader.read(note=big)
    assert time.perf_counter() - start < 30
    assert len(reading.uncertain) <= 200

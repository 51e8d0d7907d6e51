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


@pytest.mark.parametrize(
    "line",
    ["[ ] fever\n", "fever [ ] ", "[x] Yes fever ", "fever ____ ", "● fever ", "◉ Yes ○ No "],
)
def test_a_long_form_is_read_in_time(reader: TextReader, line: str) -> None:
    # 200,000 characters, on one line or many: no box is looked for from the start of its line
    # (before, one line of 20,000 boxes was not read in 2 minutes).
    big = line * (200_000 // len(line))
    start = time.perf_counter()
    reading = reader.read(note=big)
    assert time.perf_counter() - start < 30
    assert len(reading.uncertain) <= 200


# Questions of normal function (targets/cauda_equina.yaml): the answer "no" is the red flag.
_NORMAL_FUNCTION = [
    ("Can you feel the paper when you wipe?", "saddle_anesthesia"),
    ("Can you feel the toilet paper when you wipe", "saddle_anesthesia"),
    ("Do you have normal feeling around your back passage?", "saddle_anesthesia"),
    ("Able to pass urine normally", "urinary_retention"),
    ("Are you able to pass urine?", "urinary_retention"),
    ("Can you empty your bladder fully?", "urinary_retention"),
    ("Do you know when your bladder is full?", "urinary_retention"),
    ("Can you control your bladder?", "urinary_incontinence"),
    ("Do you have control of your bowels?", "fecal_incontinence"),
]
_ANSWERS = [
    # (the answer as written, the state it gives the finding the question screens for)
    ("Yes [ ] No [x]", "present"),
    ("No [x]", "present"),
    ("[x] No", "present"),
    ("Y [ ] N [x]", "present"),
    ("( ) Yes (x) No", "present"),
    ("☐ Yes ☒ No", "present"),
    ("(Y/N): N", "present"),
    ("\n( ) Yes (x) No", "present"),  # the options under their question
    ("Yes [x] No [ ]", "absent"),
    ("Y [x] N [ ]", "absent"),
    ("(Y/N): Y", "absent"),
    # not answered, or not readable: unknown, never a denial
    ("Yes [ ] No [ ]", "unknown"),
    ("(Y/N)", "unknown"),
    ("Y [x] N [x]", "unknown"),
    ("Y [ ] N [?]", "unknown"),
    ("Y [ ] N [ ] Unsure [x]", "unknown"),
]


@pytest.mark.parametrize(("question", "finding"), _NORMAL_FUNCTION)
@pytest.mark.parametrize(("answer", "state"), _ANSWERS)
def test_a_normal_function_answered(
    reader: TextReader, question: str, finding: str, answer: str, state: str
) -> None:
    # Each read nothing before, the answer on the page left unknown and asked.
    sep = "" if answer.startswith("\n") else " "
    reading = reader.read(note=f"{question}{sep}{answer}")
    assert reading.findings.get(finding, "unknown") == state
    assert set(reading.findings) <= {finding}
    if state == "unknown":
        assert finding in {u.finding for u in reading.uncertain}


def test_a_normal_function_answered_no_quotes_the_answer(reader: TextReader) -> None:
    text = "Can you feel the paper when you wipe? Y [ ] N [x]"
    [evidence] = reader.read(note=text).evidence["saddle_anesthesia"]
    assert evidence.text == text
    assert evidence.detail.startswith("a normal function answered no")


@pytest.mark.parametrize(
    ("answer", "denied"),
    [("Y [ ] N [x]", False), ("No [x]", False), ("(Y/N): N", False), ("Y [x] N [ ]", True)],
)
def test_control_of_bladder_and_bowels_answered(
    reader: TextReader, answer: str, denied: bool
) -> None:
    # "Yes" denies both incontinences; "no" says one of them at least, not which: both asked.
    reading = reader.read(note=f"Can you control your bladder and bowels? {answer}")
    both = {"urinary_incontinence", "fecal_incontinence"}
    if denied:
        assert reading.findings == dict.fromkeys(both, "absent")
    else:
        assert reading.findings == {}
        assert {u.finding for u in reading.uncertain if u.why == "non_specific"} == both


@pytest.mark.parametrize(
    ("note", "finding", "state"),
    [
        # A box of a checklist left unticked is no "no".
        ("[ ] Able to pass urine normally", "urinary_retention", "unknown"),
        ("Able to pass urine normally [ ]", "urinary_retention", "unknown"),
        ("[x] Able to pass urine normally", "urinary_retention", "absent"),
        # The answer of another question answers that question only.
        (
            "Fever? Y [ ] N [x]\nCan you feel the paper when you wipe?",
            "saddle_anesthesia",
            "unknown",
        ),
        (
            "Can you feel the paper when you wipe?\nFever: Y [ ] N [x]",
            "saddle_anesthesia",
            "unknown",
        ),
        (
            "Can you feel the paper when you wipe? Y [ ] N [ ]  Fever? Y [ ] N [x]",
            "saddle_anesthesia",
            "unknown",
        ),
        # Someone else's answer is not the patient's.
        ("Family history: Can you control your bladder? N", "urinary_incontinence", "unknown"),
    ],
)
def test_normal_function_guards(reader: TextReader, note: str, finding: str, state: str) -> None:
    assert _state(reader, note, finding) == state


def test_walking_normally_is_not_read(reader: TextReader) -> None:
    # "No" names no one finding (pain, weakness of one leg or both, claudication): left unread.
    for answer in ("Yes [ ] No [x]", "Yes [x] No [ ]"):
        reading = reader.read(note=f"Can you walk normally? {answer}")
        assert reading.findings == {} and reading.uncertain == []


@pytest.mark.parametrize(
    ("note", "state", "why"),
    [
        # Radio buttons pasted from a web page: the filled circle is the answer.
        ("Fever ◉ Yes ○ No", "present", None),
        ("Fever ● Yes ○ No", "present", None),
        ("Fever (•) Yes ( ) No", "present", None),
        ("Fever Yes ⦿ No ○", "present", None),
        ("Fever ◯ Yes ◉ No", "absent", None),  # read present before: the word "Fever" alone
        ("Fever: ○ Y ● N", "absent", None),
        ("Have you had a fever?\n◯ Yes ◉ No", "absent", None),
        ("● Have you had a fever? ◯ Yes ◉ No", "absent", None),  # a bulleted question
        # None filled, or two, or "unsure": not answered, or not readable.
        ("Fever ○ Yes ○ No", None, "unanswered"),
        ("Fever ○ Yes ○ No ◉ Unsure", None, "unanswered"),
        ("Fever ● Yes ● No", None, "unclear_form"),
        # A word on each side of each circle: "Yes ●" or "● No"?
        ("Fever: Yes ● No ○ Unsure", None, "unclear_form"),
    ],
)
def test_radio_buttons(reader: TextReader, note: str, state: str | None, why: str | None) -> None:
    reading = reader.read(note=note)
    assert reading.findings.get("fever") == state
    assert [(u.finding, u.why) for u in reading.uncertain] == ([("fever", why)] if why else [])


@pytest.mark.parametrize(
    "note",
    [
        "• fever",
        "● weight loss",
        "Red flags:\n● fever\n● weight loss\n○ saddle numbness",
        "● No fever\n○ No weight loss",
        "● Yes, weight loss",  # one circle before a word: a bullet, not a one-option question
        "Night pain: ○ Yes",
        "● Fever: Y [ ] N [x]",
        # Circles that cannot be told filled or empty are not read (forms.yaml says why); the
        # lone "○" left is no radio group.
        "Fever 🔘 Yes ○ No",
        "Fever ◎ Yes ○ No",
    ],
)
def test_bullets_are_no_boxes(reader: TextReader, note: str) -> None:
    # A list's bullet changes nothing: the line reads as it does without its circles.
    bare = note
    for circle in "•●○◉◯⦿🔘◎":
        bare = bare.replace(circle, "")
    assert reader.read(note=note).findings == reader.read(note=bare).findings
    assert reader.read(note=note).findings

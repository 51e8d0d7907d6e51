"""Non-spinal mimics in plain words (urine, kidney, aorta) and red-flag lists that are advice
or an answered screen, not findings."""

from __future__ import annotations

import pytest

from backtriage.text import TextReader


@pytest.mark.parametrize(
    ("note", "finding", "state"),
    [
        # dysuria in plain words
        ("it burns when I pee", "dysuria", "present"),
        ("stings when I wee", "dysuria", "present"),
        ("pain passing urine", "dysuria", "present"),
        ("burning pee", "dysuria", "present"),
        ("painful peeing", "dysuria", "present"),
        ("it hurts to pee", "dysuria", "present"),
        ("burning sensation when urinating", "dysuria", "present"),
        ("peeing a lot and it burns", "dysuria", "present"),
        ("it stings when I wee", "dysuria", "present"),
        ("it stings when weeing", "dysuria", "present"),
        ("Temp 39, right flank pain, burning wee", "dysuria", "present"),
        # haematuria
        ("blood in my wee", "hematuria", "present"),
        ("peeing blood", "hematuria", "present"),
        ("my wee is pink", "hematuria", "present"),
        ("urine looks red", "hematuria", "present"),
        ("UA: large blood", "hematuria", "present"),
        ("dip: leuc+++ nit+ blood++", "hematuria", "present"),
        ("Urine: blood ++, nitrites positive", "hematuria", "present"),
        # costovertebral angle tenderness
        ("CVAT R", "costovertebral_angle_tenderness", "present"),
        ("CVAT+", "costovertebral_angle_tenderness", "present"),
        ("tender over right kidney", "costovertebral_angle_tenderness", "present"),
        ("tenderness in left flank", "costovertebral_angle_tenderness", "present"),
        ("R loin pain and tenderness", "costovertebral_angle_tenderness", "present"),
        # pulsatile mass
        ("pulsatile epigastric mass", "pulsatile_abdominal_mass", "present"),
        ("pulsatile midline mass", "pulsatile_abdominal_mass", "present"),
        ("mass, pulsatile", "pulsatile_abdominal_mass", "present"),
        ("expansile pulsation", "pulsatile_abdominal_mass", "present"),
        (
            "I can feel my heartbeat in my stomach when I lie down and theres a lump there",
            "pulsatile_abdominal_mass",
            "present",
        ),
    ],
)
def test_mimic_present(reader: TextReader, note: str, finding: str, state: str) -> None:
    assert reader.read(note=note).findings.get(finding) == state


@pytest.mark.parametrize(
    ("note", "finding", "state"),
    [
        # guards: denials stay denials
        ("no dysuria", "dysuria", "absent"),
        ("denies burning when peeing", "dysuria", "absent"),
        ("no blood in urine", "hematuria", "absent"),
        ("renal angles non-tender", "costovertebral_angle_tenderness", "absent"),
        ("no pulsatile mass", "pulsatile_abdominal_mass", "absent"),
        ("no blood in my wee", "hematuria", "absent"),
        # the plain words denied are not read present (nor, yet, absent)
        ("my wee isn't pink", "hematuria", None),
        ("peeing a lot, it doesn't burn", "dysuria", None),
        # a heartbeat felt in the belly, with no lump, is not read
        ("I can feel my heartbeat in my stomach when I lie down", "pulsatile_abdominal_mass", None),
    ],
)
def test_mimic_guards(reader: TextReader, note: str, finding: str, state: str) -> None:
    assert reader.read(note=note).findings.get(finding) == state


def test_clear_dip_is_listed_uncertain(reader: TextReader) -> None:
    # unchanged: urine_normal is a vague concept, so a clear dipstick lists blood as uncertain
    for note in ("urine dip NAD", "urine dip negative"):
        res = reader.read(note=note)
        assert res.findings.get("hematuria") is None
        assert "hematuria" in {u.finding for u in res.uncertain}


def test_throbbing_lump_is_not_present(reader: TextReader) -> None:
    # a patient's "throbbing lump" may be the aorta or may not: not read as present
    res = reader.read(note="I can feel a throbbing lump in my tummy")
    assert res.findings.get("pulsatile_abdominal_mass") is None


@pytest.mark.parametrize(
    ("note", "finding"),
    [
        ("red flags discussed: fever, weight loss, bladder problems", "fever"),
        ("red flags discussed: fever, weight loss, bladder problems", "unexplained_weight_loss"),
        ("Worsening-care advice: fever, night sweats", "fever"),
        ("Red flags explained: saddle numbness, urinary retention", "urinary_retention"),
    ],
)
def test_red_flags_explained_are_not_findings(reader: TextReader, note: str, finding: str) -> None:
    res = reader.read(note=note)
    assert res.findings.get(finding) is None
    assert finding in {u.finding for u in res.uncertain}


@pytest.mark.parametrize(
    ("note", "finding"),
    [
        ("Red flags discussed. Has urinary retention.", "urinary_retention"),
        ("Red flags discussed, has urinary retention.", "urinary_retention"),
        ("red flags discussed and has saddle anaesthesia", "saddle_anesthesia"),
        ("red flags discussed: fever, weight loss. Has urinary retention.", "urinary_retention"),
        ("Red flag symptoms discussed, has urinary retention", "urinary_retention"),
        ("Red flag symptoms discussed. Saddle numbness since yesterday.", "saddle_anesthesia"),
    ],
)
def test_flag_stated_after_the_list_stays_present(
    reader: TextReader, note: str, finding: str
) -> None:
    assert reader.read(note=note).findings.get(finding) == "present"


@pytest.mark.parametrize(
    ("note", "finding"),
    [
        ("Red flags (wt loss, fever): none", "fever"),
        ("Red flags (wt loss, fever): none", "unexplained_weight_loss"),
        ("fever - all negative", "fever"),
    ],
)
def test_answered_screen_is_a_denial(reader: TextReader, note: str, finding: str) -> None:
    assert reader.read(note=note).findings.get(finding) == "absent"


@pytest.mark.parametrize(
    ("note", "state"),
    [
        ("AAA scan 2022 normal", None),
        ("AAA screening 2021: normal", None),
        ("AAA 5.5cm", "present"),
        ("known AAA", "present"),
    ],
)
def test_dated_normal_aaa_scan_is_not_a_mass(
    reader: TextReader, note: str, state: str | None
) -> None:
    assert reader.read(note=note).findings.get("pulsatile_abdominal_mass") == state

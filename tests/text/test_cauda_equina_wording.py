"""Cauda equina items in the words patients and clinicians use (targets/cauda_equina.yaml)."""

from __future__ import annotations

import pytest

from backtriage.text import TextReader


@pytest.mark.parametrize(
    ("note", "finding"),
    [
        ("Back pain 3 days, cant pee since last night", "urinary_retention"),
        ("I havent been able to pass water all day", "urinary_retention"),
        ("Hasnt passed urine since yesterday", "urinary_retention"),
        ("Hasn't been for a wee since yesterday morning", "urinary_retention"),
        ("Bladder feels full but nothing comes out", "urinary_retention"),
        ("Having to push to wee", "urinary_retention"),
        ("Can't feel when I need to pee", "urinary_retention"),
        ("No urge to pass urine since the fall", "urinary_retention"),
        ("Retension of urine", "urinary_retention"),
        ("Difficulty starting stream", "urinary_retention"),
        ("I wet myself at work today", "urinary_incontinence"),
        ("Accidentally peed myself last night", "urinary_incontinence"),
        ("New bedwetting", "urinary_incontinence"),
        ("Urinary incont.", "urinary_incontinence"),
        ("Lost control of my bowels this morning", "fecal_incontinence"),
        ("Couldnt make it to the toilet and messed myself", "fecal_incontinence"),
        ("My back went and now I can't feel my bum when I wipe", "saddle_anesthesia"),
        ("I can't feel myself when I wipe", "saddle_anesthesia"),
        ("No feeling when wiping", "saddle_anesthesia"),
        ("My bottom feels numb", "saddle_anesthesia"),
        ("Numb between my legs", "saddle_anesthesia"),
        ("Numbness in my private area", "saddle_anesthesia"),
        ("Saddle anaesth. ++", "saddle_anesthesia"),
        ("Sensation reduced S3-5", "saddle_anesthesia"),
        ("Reduced LT perineum", "saddle_anesthesia"),
        ("PR: tone reduced", "reduced_anal_tone"),
        ("Legs are weak, both of them", "bilateral_leg_weakness"),
        ("Power 3/5 both legs", "bilateral_leg_weakness"),
        ("Can't walk, legs gone weak", "bilateral_leg_weakness"),
        ("Sciatica now on both sides", "bilateral_sciatica"),
        ("Now pain down the other leg as well", "bilateral_sciatica"),
        ("Weakness L4 and L5", "multilevel_motor_deficit"),
        ("L4/L5/S1 weakness", "multilevel_motor_deficit"),
        ("Cant get an erection since back went", "sexual_dysfunction"),
        ("Loss of sensation in penis", "sexual_dysfunction"),
        ("My bum and between my legs have gone numb", "saddle_anesthesia"),
        ("Cant feel anything down there", "saddle_anesthesia"),
        ("My private parts feel numb", "saddle_anesthesia"),
        ("Numbness in my genitals", "saddle_anesthesia"),
        ("Sadle anasthesia", "saddle_anesthesia"),
        ("I pissed myself at work", "urinary_incontinence"),
        ("I cant control my bladder", "urinary_incontinence"),
        ("Urinary incontinece", "urinary_incontinence"),
        ("I've had accidents with my bowels", "fecal_incontinence"),
        ("I havnt had a wee all day", "urinary_retention"),
        ("Havent wee'd in 12 hours", "urinary_retention"),
        ("Struggling to pee", "urinary_retention"),
        ("Urinary retnetion", "urinary_retention"),
        ("Both my legs are weak and wobbly", "bilateral_leg_weakness"),
        ("My legs keep giving way", "bilateral_leg_weakness"),
        ("I can't stand up, my legs won't work", "bilateral_leg_weakness"),
        ("Bilateral sciatia", "bilateral_sciatica"),
        ("Can't feel anything during sex since my back went", "sexual_dysfunction"),
        ("My foot is dragging", "ankle_dorsiflexion_weakness"),
    ],
)
def test_stated(reader: TextReader, note: str, finding: str) -> None:
    assert reader.read(note=note).findings.get(finding) == "present"


@pytest.mark.parametrize(
    ("note", "finding", "state"),
    [
        ("No difficulty starting stream.", "urinary_retention", "absent"),
        ("No numb bum.", "saddle_anesthesia", "absent"),
        ("Has not wet himself.", "urinary_incontinence", "absent"),
        ("Power 5/5 both legs.", "bilateral_leg_weakness", "absent"),
        # Safety-netting is no finding, and "can't" no longer ends the "if".
        ("Return if you can't pee.", "urinary_retention", None),
        ("Advised to seek help if unable to pass urine.", "urinary_retention", None),
        ("Mother can't pee.", "urinary_retention", None),
        # Not feeling the need to open the bowels is asked about, not read as incontinence.
        ("I can't feel if I need a poo.", "fecal_incontinence", None),
        # ...while it still ends a denial's list.
        ("No fever, unable to pass urine.", "urinary_retention", "present"),
    ],
)
def test_guards(reader: TextReader, note: str, finding: str, state: str | None) -> None:
    assert reader.read(note=note).findings.get(finding) == state

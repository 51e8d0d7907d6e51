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
        ("RF screen: bladder N, bowel N, saddle Y", "saddle_anesthesia"),
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
        # Saddle: the body part in patients' words, typos, the wiping and toilet-seat tests.
        ("cant feel myself properly when i wipe", "saddle_anesthesia"),
        ("Numb round my bum and privates", "saddle_anesthesia"),
        ("down below feels numb when i wipe", "saddle_anesthesia"),
        ("it feels like ive had an injection at the dentist but in my bum", "saddle_anesthesia"),
        ("Feels like I've had a local anaesthetic in my bottom", "saddle_anesthesia"),
        ("my back passage feels numb", "saddle_anesthesia"),
        ("my lady bits are numb", "saddle_anesthesia"),
        ("willy feels numb and tingly", "saddle_anesthesia"),
        ("His penis has gone numb", "saddle_anesthesia"),
        ("numbnes in my privats", "saddle_anesthesia"),
        ("saddle numbess", "saddle_anesthesia"),
        ("I can't feel anything in my groin area and my butt is numb", "saddle_anesthesia"),
        ("numbness in my inner thighs and around my anus", "saddle_anesthesia"),
        ("tingling in my crotch", "saddle_anesthesia"),
        ("tingly round my back passage", "saddle_anesthesia"),
        ("couldn't feel the toilet seat properly under me", "saddle_anesthesia"),
        ("I cant feel the paper when I wipe", "saddle_anesthesia"),
        ("Can't feel the tissue when wiping", "saddle_anesthesia"),
        ("numbness when wiping", "saddle_anesthesia"),
        ("reports numbness on toilet paper", "saddle_anesthesia"),
        ("cant feel the water on my bum in the shower", "saddle_anesthesia"),
        ("lost feeling down below", "saddle_anesthesia"),
        ("lost feeling in my privates", "saddle_anesthesia"),
        ("numbness around my back passage", "saddle_anesthesia"),
        ("Saddle sensation: reduced L side", "saddle_anesthesia"),
        ("Perianal sensation - diminished", "saddle_anesthesia"),
        ("S3-5 sensation: absent", "saddle_anesthesia"),
        # Bladder: a bladder, urine, wee or toilet word in the phrase.
        ("went to the loo and nothing came out even though I was bursting", "urinary_retention"),
        ("Bursting for a wee but nothing comes out", "urinary_retention"),
        ("bladder wont empty", "urinary_retention"),
        ("My bladder won't empty properly", "urinary_retention"),
        ("Cant empty my bladder", "urinary_retention"),
        ("I need a wee but now I can't go at all", "urinary_retention"),
        ("I can't feel the wee coming out", "urinary_retention"),
        ("I can't feel it coming out when I pee", "urinary_retention"),
        ("haven't been able to feel when I need a wee", "urinary_retention"),
        ("retention of urine", "urinary_retention"),
        ("Bladder not emptying", "urinary_retention"),
        ("peed my self and didnt realise", "urinary_incontinence"),
        ("I cant controll my bladder", "urinary_incontinence"),
        # Bowel.
        ("had an accident in my pants with my bowels", "fecal_incontinence"),
        ("had a poo accident in my pants", "fecal_incontinence"),
        ("pooed in my pants", "fecal_incontinence"),
        ("leaking poo", "fecal_incontinence"),
        ("I can't feel the poo coming out", "fecal_incontinence"),
        ("I can't feel it coming out when I have a poo", "fecal_incontinence"),
        ("cant controll my bowls", "fecal_incontinence"),
        ("didnt know it was happening until it was in my pants", "fecal_incontinence"),
        # Both legs.
        # A form asks the patient: the second person.
        ("numbness around your back passage", "saddle_anesthesia"),
        ("numb between your legs", "saddle_anesthesia"),
        ("tingling around your bottom", "saddle_anesthesia"),
        ("you pooed yourself", "fecal_incontinence"),
        # Jelly legs that give way: the giving way says weakness.
        ("legs feel like jelly and keep giving way", "bilateral_leg_weakness"),
        ("my legs go wobbly and give way", "bilateral_leg_weakness"),
        ("legs feel heavy like lead, both of them", "bilateral_leg_weakness"),
        ("dragging both feet", "bilateral_leg_weakness"),
        ("Drags his feet when walking", "bilateral_leg_weakness"),
        ("weekness in both legs", "bilateral_leg_weakness"),
        ("legs both weak", "bilateral_leg_weakness"),
        ("sciatia in both legs", "bilateral_sciatica"),
        ("shooting pains down the back of both legs to my heels", "bilateral_sciatica"),
        # A question of normal function answered no in prose, and the wiping test's negatives.
        ("Can you feel the paper when you wipe? No", "saddle_anesthesia"),
        ("Q: Can you feel the toilet paper when you wipe? A: no", "saddle_anesthesia"),
        (
            "Do you have normal feeling around your back passage or genitals when you wipe? No",
            "saddle_anesthesia",
        ),
        ("Able to pass urine normally - no", "urinary_retention"),
        ("Can you control your bowels?\nNo.", "fecal_incontinence"),
        ("Not able to feel toilet paper", "saddle_anesthesia"),
        ("she can barely feel the paper when she wipes", "saddle_anesthesia"),
        ("I don't feel the paper when I wipe", "saddle_anesthesia"),
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
        # Denied, advised, someone else's, or not about the saddle, bladder or legs.
        ("no numbness when wiping", "saddle_anesthesia", "absent"),
        ("No tingling in my crotch", "saddle_anesthesia", "absent"),
        ("Saddle sensation: normal", "saddle_anesthesia", "absent"),
        ("if you can't feel the paper when you wipe, come back", "saddle_anesthesia", None),
        ("My fingers are numb, I cant feel the paper", "saddle_anesthesia", None),
        ("cant feel how hot the water is in the shower", "saddle_anesthesia", None),
        ("Pain in my bum when I sit", "saddle_anesthesia", None),
        # The foot's bottom, and mixes of two-word alternatives ("back" + "area"), are no saddle.
        ("Numbness in the bottom of my foot", "saddle_anesthesia", None),
        ("Tingling in the balls of my feet", "saddle_anesthesia", None),
        ("Numbness over the back area", "saddle_anesthesia", None),
        ("I can't feel anything in my back area", "saddle_anesthesia", None),
        ("my mum's legs feel like jelly", "bilateral_leg_weakness", None),
        ("I'm dragging my feet about booking physio", "bilateral_leg_weakness", None),
        ("can't go to work", "urinary_retention", None),
        ("now I can't go at all", "urinary_retention", None),
        ("I can't go to the toilet without help", "urinary_retention", None),
        ("I need a wee but I can't go to the toilet on my own", "urinary_retention", None),
        ("I get up to pee and then I can't go back to sleep", "urinary_retention", None),
        ("Bladder scan: bladder not empty", "urinary_retention", None),
        ("Bladder empties fine", "urinary_retention", None),
        ("Went to the loo and nothing came out", "urinary_retention", None),
        ("No leaking poo", "fecal_incontinence", "absent"),
        ("had an accident in my car", "fecal_incontinence", None),
        ("Denies accidents in his pants", "fecal_incontinence", "absent"),
        # A normal function stated, or answered yes, is a normal.
        ("she can feel the toilet paper", "saddle_anesthesia", "absent"),
        ("She can feel the paper when she wipes.", "saddle_anesthesia", "absent"),
        ("Can you feel the paper when you wipe? Yes", "saddle_anesthesia", "absent"),
        ("Able to pass urine normally", "urinary_retention", "absent"),
        ("Can control her bladder", "urinary_incontinence", "absent"),
        # ...but not any paper, not denied, past, hedged, asked or advised.
        ("she can feel the paper", "saddle_anesthesia", None),
        ("I can feel the toilet paper in my hand", "saddle_anesthesia", None),
        ("She doesn't really have control of her bladder", "urinary_incontinence", None),
        ("she can feel the paper when she wipes but only on the left", "saddle_anesthesia", None),
        ("She used to be able to feel the toilet paper", "saddle_anesthesia", None),
        ("She was able to pass urine normally last week", "urinary_retention", None),
        ("He is able to pass urine with difficulty", "urinary_retention", None),
        ("Mostly able to control her bladder", "urinary_incontinence", None),
        ("Can you feel the paper when you wipe?", "saddle_anesthesia", None),
        ("Ask whether she can feel the paper when she wipes", "saddle_anesthesia", None),
    ],
)
def test_guards(reader: TextReader, note: str, finding: str, state: str | None) -> None:
    assert reader.read(note=note).findings.get(finding) == state


@pytest.mark.parametrize(
    ("note", "findings"),
    [
        # Which sphincter is not said: listed as uncertain, to ask.
        ("had an accident in my pants", {"urinary_incontinence", "fecal_incontinence"}),
        (
            "I can't feel it coming out",
            {"urinary_retention", "urinary_incontinence", "fecal_incontinence"},
        ),
    ],
)
def test_asked(reader: TextReader, note: str, findings: set[str]) -> None:
    reading = reader.read(note=note)
    assert not set(reading.findings) & findings
    assert {u.finding for u in reading.uncertain if u.why == "non_specific"} == findings


@pytest.mark.parametrize(
    ("note", "findings"),
    [
        # Jelly or wobbly legs: a lay description of weakness, tiredness or unsteadiness.  A
        # possible weakness, to ask: not a confirmed red flag, and not absent.
        ("my legs feel like jelly", {"bilateral_leg_weakness"}),
        ("both my legs feel like jelly", {"bilateral_leg_weakness"}),
        ("My legs have gone to jelly", {"bilateral_leg_weakness"}),
        ("my legs turned to jelly", {"bilateral_leg_weakness"}),
        ("my legs are like jelly", {"bilateral_leg_weakness"}),
        ("jelly legs since yesterday", {"bilateral_leg_weakness"}),
        ("legs like jelly when I walk", {"bilateral_leg_weakness"}),
        ("my legs feel wobbly", {"bilateral_leg_weakness"}),
        ("no jelly legs", {"bilateral_leg_weakness"}),
        (
            "my left leg feels like jelly",
            {
                "knee_extension_weakness",
                "great_toe_extension_weakness",
                "ankle_dorsiflexion_weakness",
                "plantarflexion_weakness",
                "multilevel_motor_deficit",
            },
        ),
    ],
)
def test_jelly_legs_are_a_possible_weakness(
    reader: TextReader, note: str, findings: set[str]
) -> None:
    reading = reader.read(note=note)
    assert not set(reading.findings) & findings
    assert {u.finding for u in reading.uncertain if u.why == "uncertain"} == findings


def test_jelly_legs_leave_a_stated_weakness_as_it_is(reader: TextReader) -> None:
    for note in ("Legs feel like jelly. Power 3/5 both legs.", "legs like jelly, both legs weak"):
        assert reader.read(note=note).findings.get("bilateral_leg_weakness") == "present", note
    findings = reader.read(note="Power 5/5 both legs. Legs feel like jelly.").findings
    assert findings.get("bilateral_leg_weakness") == "absent"

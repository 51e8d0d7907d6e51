"""Infection-screen wording: IV drug use, immunocompromise, recent infection, recent spinal
procedure and fever words that were missed (red-team), with guards that must stay as they are."""

from __future__ import annotations

import pytest

PRESENT = [
    ("I inject heroin", "iv_drug_use"),
    ("I shoot up heroin", "iv_drug_use"),
    ("IDU", "iv_drug_use"),
    ("hx IDU", "iv_drug_use"),
    ("skin popping", "iv_drug_use"),
    ("IVDU+", "iv_drug_use"),
    ("heroin addict, injects", "iv_drug_use"),
    ("I inject", "iv_drug_use"),
    ("i inject", "iv_drug_use"),
    ("smokes weed and I inject", "iv_drug_use"),
    ("injects heroin daily", "iv_drug_use"),
    ("I used to inject", "iv_drug_use"),
    ("HIV+ve", "immunocompromised"),
    ("PLWHIV", "immunocompromised"),
    ("post BMT", "immunocompromised"),
    ("renal tx, tacrolimus", "immunocompromised"),
    ("tacrolimus", "immunocompromised"),
    ("mycophenolate", "immunocompromised"),
    ("immunosuppressed post liver transplant", "immunocompromised"),
    ("recent pyelo", "recent_infection"),
    ("recent water infection", "recent_infection"),
    ("recent kidney infection", "recent_infection"),
    ("UTI treated with nitrofurantoin 1/52 ago", "recent_infection"),
    ("infected tattoo last month", "recent_infection"),
    ("boil on back 2 weeks ago", "recent_infection"),
    ("completed course of trimethoprim last week", "recent_infection"),
    ("recent Abx", "recent_infection"),
    ("abscess at injection site", "recent_infection"),
    ("groin abscess", "recent_infection"),
    ("I've got a tooth abscess and I've been on antibiotics for it", "recent_infection"),
    ("dental abscess", "recent_infection"),
    ("post op L4/5 discectomy 3/52 ago", "recent_spinal_procedure"),
    ("L4/5 microdiscectomy 2/52 ago, now fever and wound ooze", "recent_spinal_procedure"),
    ("epidural 2 weeks ago", "recent_spinal_procedure"),
    ("epidural last week", "recent_spinal_procedure"),
    ("ESI 2/52 ago", "recent_spinal_procedure"),
    ("ESI L5/S1 2/52 ago", "recent_spinal_procedure"),
    ("L5/S1 TFESI 3 weeks ago", "recent_spinal_procedure"),
    ("had an injection in my spine 2 weeks ago", "recent_spinal_procedure"),
    ("back op 3 weeks ago", "recent_spinal_procedure"),
    ("lumbar decompression 2/52 ago", "recent_spinal_procedure"),
    ("discectomy 3/52 ago", "recent_spinal_procedure"),
    ("spinal surgery last month", "recent_spinal_procedure"),
    ("PLIF L4/5 6 weeks ago", "recent_spinal_procedure"),
    ("TLIF 4 weeks ago", "recent_spinal_procedure"),
    ("POD 10 after lumbar fusion", "recent_spinal_procedure"),
    ("spinal anaesthetic 2/52 ago for TKR", "recent_spinal_procedure"),
    ("had a spinal anaesthetic for knee replacement 2 weeks ago", "recent_spinal_procedure"),
    ("had a nerve block in my back 2 weeks ago", "recent_spinal_procedure"),
    ("epidural in labour 3 weeks ago", "recent_spinal_procedure"),
    ("had my back operated on 3 weeks ago", "recent_spinal_procedure"),
    ("epidural steroid injection 2/52 ago", "recent_spinal_procedure"),
    ("Facet joint injection L4/5 last week", "recent_spinal_procedure"),
    ("nerve root block L5/S1 10 days ago", "recent_spinal_procedure"),
    ("had surgery on my back 3 weeks ago", "recent_spinal_procedure"),
    ("had surgery on my back 3 weeks ago", "prior_lumbar_surgery"),
    ("microdiscectomy 3 weeks ago", "recent_spinal_procedure"),
    ("microdiscectomy 3 weeks ago", "prior_lumbar_surgery"),
    ("discectomy 3/52 ago", "prior_lumbar_surgery"),
    ("cauda equina surgery in 2019", "prior_lumbar_surgery"),
    ("had surgery for cauda equina syndrome", "prior_lumbar_surgery"),
    ("microdiscectomy", "prior_lumbar_surgery"),
    ("PMH: HTN, laminectomy, T2DM", "prior_lumbar_surgery"),
    ("hot and shivery", "fever"),
    ("I'm hot and shivery", "fever"),
    ("spiked a temp to 38.8 overnight", "fever"),
    ("now I've got a temperature", "fever"),
    ("shivering and burning up", "fever"),
]


@pytest.mark.parametrize(("note", "finding"), PRESENT)
def test_present(reader, note: str, finding: str) -> None:
    assert reader.read(note=note).findings.get(finding) == "present"


NOT_ABSENT = [
    ("afebrile on arrival, spiked 39.1 overnight", "fever"),
    ("apyrexial on paracetamol", "fever"),
]


@pytest.mark.parametrize(("note", "finding"), NOT_ABSENT)
def test_not_absent(reader, note: str, finding: str) -> None:
    assert reader.read(note=note).findings.get(finding) != "absent"


GUARDS = [
    ("smokes heroin, denies injecting", "iv_drug_use", "absent"),
    ("no IVDU", "iv_drug_use", "absent"),
    ("denies IV drug use", "iv_drug_use", "absent"),
    ("no recent epidural", "recent_spinal_procedure", "absent"),
    ("no recent infection", "recent_infection", "absent"),
    ("afebrile", "fever", "absent"),
    ("no temperature", "fever", "absent"),
    ("not immunocompromised", "immunocompromised", "absent"),
    ("spiked to 37.6", "fever", "unknown"),
    ("ESI 2", "recent_spinal_procedure", "unknown"),
    ("on OST", "iv_drug_use", "unknown"),
    ("SAB 3/52 ago", "recent_infection", "unknown"),
    ("temp check", "fever", "unknown"),
    ("UTI 2015", "recent_infection", "unknown"),
    ("mother had a discectomy 3/52 ago", "recent_spinal_procedure", "unknown"),
    ("I had a spinal injection a fortnight ago", "recent_spinal_procedure", "present"),
    # an injected medicine is no drug use; a planned operation is no prior surgery
    ("I inject insulin", "iv_drug_use", "unknown"),
    ("I inject my Humira every other week", "iv_drug_use", "unknown"),
    ("she injects herself with Clexane", "iv_drug_use", "unknown"),
    ("I don't inject", "iv_drug_use", "unknown"),
    ("listed for microdiscectomy", "prior_lumbar_surgery", "unknown"),
    ("awaiting L4/5 discectomy", "prior_lumbar_surgery", "unknown"),
    ("ACDF, cervical discectomy", "prior_lumbar_surgery", "unknown"),
    ("needs surgery for cauda equina", "prior_lumbar_surgery", "unknown"),
    ("tacrolimus ointment for eczema", "immunocompromised", "unknown"),
    ("PCI 2019 with everolimus-eluting stent", "immunocompromised", "unknown"),
    ("takes anti acid tablets", "immunocompromised", "unknown"),
    ("options include microdiscectomy", "prior_lumbar_surgery", "unknown"),
    ("spinal decompression therapy at the chiropractor", "prior_lumbar_surgery", "unknown"),
    ("dental abscess 2015", "recent_infection", "unknown"),
    ("Not on tacrolimus", "immunocompromised", "unknown"),
]


@pytest.mark.parametrize(("note", "finding", "state"), GUARDS)
def test_guards(reader, note: str, finding: str, state: str) -> None:
    assert reader.read(note=note).findings.get(finding, "unknown") == state


@pytest.mark.parametrize(
    "note",
    [
        # The injection is not named, and a prescribed medicine, diabetes or a self-injection
        # site in the same sentence may be what is injected: asked, neither drug use nor denied.
        "Diabetic on insulin, I inject twice a day",
        "I'm diabetic and I inject twice a day",
        "Type 1 diabetes - I inject four times a day",
        "I inject it twice a day - insulin",
        "I inject into my stomach",
        "diabetic, uses needles",
    ],
)
def test_an_unnamed_injection_beside_a_medicine_is_asked(reader, note: str) -> None:
    reading = reader.read(note=note)
    assert "iv_drug_use" not in reading.findings
    assert ("iv_drug_use", "uncertain") in [(u.finding, u.why) for u in reading.uncertain]


@pytest.mark.parametrize(
    "note",
    [
        "I inject my biologic every fortnight",
        "I inject biologics for my psoriasis",
        "I inject my weight loss jab weekly",
        "I use needles for my insulin",
    ],
)
def test_an_injected_medicine_is_no_drug_use(reader, note: str) -> None:
    reading = reader.read(note=note)
    assert reading.findings == {}, reading.findings


@pytest.mark.parametrize(
    "note",
    [
        # A drug named, or nothing beside the injection: injection drug use, as before.
        "Diabetic, I inject heroin",
        "I inject heroin and insulin",
        "diabetic, also injects heroin",
        "on insulin. I inject",
        "I inject",
        "uses needles",
        "injects drugs",
        "IVDU",
        # Sharing needles, a needle exchange.
        "shares needles",
        "uses the needle exchange",
    ],
)
def test_injection_drug_use_stays_present(reader, note: str) -> None:
    assert reader.read(note=note).findings.get("iv_drug_use") == "present"

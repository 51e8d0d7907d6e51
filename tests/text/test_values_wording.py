"""Measurements and ages stated in common wordings that were not read (red-team cases)."""

from __future__ import annotations

import pytest

FEVER = [
    "39.2 °C",
    "39.2C",
    "38.9 degrees",
    "temperature was 39.2",
    "temp was 38.9",
    "temp up to 39.5",
    "Temp. 38.9",
    "temp(oral) 38.8",
    "thermometer said 39",
    "my temperature is 39",
    "spiked a temp to 38.8 overnight",
    "afebrile on arrival, spiked 39.1 overnight",
]


@pytest.mark.parametrize("note", FEVER)
def test_temperature_wordings(reader, note):
    assert reader.read(note=note).measurements.get("temperature_c", 0) >= 38


@pytest.mark.parametrize(
    "note",
    [
        "back pain, 39 on the scale",
        "SLR positive at 40 degrees",
        "flexion 45 degrees",
        "38F",
        "pain spiked 40 minutes after lifting",
        "pain spiked 40% worse",
    ],
)
def test_numbers_that_are_no_temperature(reader, note):
    assert "temperature_c" not in reader.read(note=note).measurements


@pytest.mark.parametrize(
    "note",
    ["ESR-65", "ESR raised (65)", "ESR elevated at 70", "sed rate 65", "ESR >100", "ESR > 100"],
)
def test_esr_wordings(reader, note):
    assert reader.read(note=note).measurements.get("esr_mm_h", 0) >= 20


@pytest.mark.parametrize(
    "note",
    ["CRP >300", "CRP > 200", "CRP-120", "C-reactive protein 120", "CRP elevated (85)",
     "CRP raised at 85"],
)  # fmt: skip
def test_crp_wordings(reader, note):
    assert reader.read(note=note).measurements.get("crp_mg_l", 0) > 10


def test_crp_below_keeps_its_bound(reader):
    assert reader.read(note="CRP <5").measurements["crp_mg_l"] == 5


@pytest.mark.parametrize(
    "note",
    ["Mr Smith, 72, presents with back pain", "pt is 72", "72y F", "72 years of age",
     "aged seventy-two", "72 yrs", "72yrs", "M/72", "72/M", "sixty-eight year old",
     "Mrs Jones 72", "in his 70s", "Temp 37 now, in her late 60s"],
)  # fmt: skip
def test_age_wordings(reader, note):
    assert (reader.read(note=note).age or 0) > 50


@pytest.mark.parametrize(
    "note",
    ["lifting her 2 year old, back pain", "carrying my 3-year-old son",
     "looks after his 90 year old mother", "L4/5 disc, 5/5 power", "back pain 2/52",
     "back pain 3/7", "smoked for 30 yrs", "in his 50s", "pt is 72 kg"],
)  # fmt: skip
def test_not_the_patients_age(reader, note):
    assert reader.read(note=note).age is None


def test_a_labelled_temperature_with_its_unit_is_read_once(reader):
    assert reader.read(note="T 38.9°C, back pain").warnings == []

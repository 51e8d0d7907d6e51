"""Values: the cheap pre-checks before a regex search never change what is found."""

from __future__ import annotations

import re

import pytest

from backtriage.text.values import (
    _CRP,
    _ESR,
    _THORACOLUMBAR,
    _WBC,
    _finditer,
    _search,
    find_duration,
    find_location,
    find_measurements,
)


@pytest.mark.parametrize(
    ("pattern", "needs", "text"),
    [
        (_ESR, ("esr",), "Bloods: ESR 40, CRP 12"),
        (_ESR, ("esr",), "esr: 12 mm/hr"),
        (_ESR, ("esr",), "E\u017fR 40"),  # long s matches "s", ignoring case
        (_ESR, ("esr",), "no inflammatory markers"),
        (_CRP, ("crp",), "crp of 3.2 mg/dl"),
        (_WBC, ("wbc", "wcc", "white", "leucocytes", "leukocytes"), "White cell count 14.2"),
        (_WBC, ("wbc", "wcc", "white", "leucocytes", "leukocytes"), "LEUKOCYTES 9"),
        (_THORACOLUMBAR, ("thoraco", "lumbo"), "Thoraco-lumbar junction tender"),
        (_THORACOLUMBAR, ("thoraco", "lumbo"), "lumbo\u017facral pain"),
    ],
)
def test_search_finds_what_the_pattern_finds(
    pattern: re.Pattern[str], needs: tuple[str, ...], text: str
) -> None:
    found, expected = _search(pattern, text, needs), pattern.search(text)
    assert (found is None) == (expected is None)
    if found is not None and expected is not None:
        assert found.span() == expected.span()
    every = [m.span() for m in _finditer(pattern, text, needs)]
    assert every == [m.span() for m in pattern.finditer(text)]


def test_values_read_from_unusual_letters() -> None:
    assert [v.value for v in find_measurements("E\u017fR 40")["esr_mm_h"]] == [40]
    assert find_duration("a \ufb00ortnight", None) is None  # "ﬀ" is no "f"
    assert find_duration("a fortnight ago", None) is not None
    location = find_location("lumbo\u017facral pain")
    assert location is not None and location.location == "lumbo\u017facral"


@pytest.mark.parametrize(
    ("text", "key", "values"),
    [
        ("temp 37.2 now, Tmax 39.4 overnight", "temperature_c", [37.2, 39.4]),
        ("T 37.8 then 39.1", "temperature_c", [37.8, 39.1]),
        ("CRP 5 -> 150", "crp_mg_l", [5, 150]),
        ("crp 2.5 mg/dl -> 8", "crp_mg_l", [25, 80]),
        ("ESR 40, rising to 85", "esr_mm_h", [40, 85]),
        ("CRP 12 2/52 ago, CRP 150 today", "crp_mg_l", [12, 150]),
        ("ESR 40.", "esr_mm_h", [40]),
        # A number that is a time is not the value, nor part of one.
        ("ESR 3 days ago 65", "esr_mm_h", []),
        ("ESR 30 days ago", "esr_mm_h", []),
        ("crp 3/7 ago 40", "crp_mg_l", []),
    ],
)
def test_every_value_and_trend_is_found(text: str, key: str, values: list[float]) -> None:
    assert [v.value for v in find_measurements(text).get(key, [])] == values

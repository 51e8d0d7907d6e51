"""Section headers: the per-position dispatch finds what the full header pattern finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from backtriage.text import TextReader

_FINDER = TextReader()._sections
_NAMES = _FINDER._names


def _case(name: str, flips: list[int]) -> str:
    # Upper case, and the non-ASCII letters that match ASCII ones ignoring case ("K" Kelvin
    # sign, long s, dotted and dotless i).
    odd = {"k": "\u212a", "s": "\u017f", "i": "\u0130"}
    out = []
    for ch, flip in zip(name, flips + [0] * len(name), strict=False):
        out.append(ch.upper() if flip == 1 else odd.get(ch, ch) if flip == 2 else ch)
    return "".join(out)


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(["", " ", "\t", "> ", "## ", "*", "- ", "_"]),
    st.one_of(st.sampled_from(_NAMES), st.text(max_size=4)),
    st.lists(st.integers(0, 2), max_size=30),
    st.sampled_from(["", ":", " :", "*:", "\n", " \n", "\r\n", "x", " y:"]),
)
def test_same_header_match_as_the_full_pattern(
    lead: str, name: str, flips: list[int], tail: str
) -> None:
    text = lead + _case(name, flips) + tail
    full, fast = _FINDER._pattern.match(text, 0), _FINDER._match(text, 0)
    assert (full is None) == (fast is None)
    if full is not None and fast is not None:
        assert (full.span(), full.group("name")) == (fast.span(), fast.group("name"))

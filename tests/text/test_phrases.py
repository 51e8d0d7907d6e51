"""The phrase notation and the token matcher that runs it."""

from __future__ import annotations

import pytest

from backtriage.text.matcher import TokenMatcher
from backtriage.text.phrases import ClassDef, PhraseSyntaxError, compile_phrase

CLASSES = {"side": ClassDef(("left", "right", "l")), "grade": ClassDef(regex="[0-4]/5")}


def _split(text: str) -> list[str]:
    return text.replace("/", " / ").split() if text.startswith("h/") else text.split()


def _matches(phrase: str, text: str) -> list[str]:
    # Every match at every start (the longest per start); the pipeline resolves overlaps.
    matcher = TokenMatcher()
    for pattern in compile_phrase(phrase, CLASSES, _split, split=True):
        matcher.add(0, pattern)
    words = text.lower().split()
    return [" ".join(words[m.start : m.end]) for m in matcher(words)]


@pytest.mark.parametrize(
    ("phrase", "text", "found"),
    [
        ("saddle (anaesthesia|numbness)", "new saddle numbness today", ["saddle numbness"]),
        (
            "[{side}] ehl {grade}",
            "ehl 4/5 and left ehl 3/5",
            ["ehl 3/5", "ehl 4/5", "left ehl 3/5"],
        ),
        ("radiat* to the (calf|big toe)", "radiating to the big toe", ["radiating to the big toe"]),
        (
            "(bowel|bladder and bowel) changes",
            "no bladder and bowel changes",
            ["bladder and bowel changes", "bowel changes"],
        ),
        ("ehl {grade}", "ehl 5/5", []),
    ],
)
def test_notation(phrase: str, text: str, found: list[str]) -> None:
    assert sorted(_matches(phrase, text)) == sorted(found)


@pytest.mark.parametrize(
    ("phrase", "error"),
    [
        ("(unclosed", "unbalanced"),
        ("[only optional]", "optional"),
        ("{nope} pain", "unknown class"),
        ("", "empty"),
    ],
)
def test_syntax_errors(phrase: str, error: str) -> None:
    with pytest.raises(PhraseSyntaxError, match=error):
        compile_phrase(phrase, CLASSES, _split)


def test_longest_match_per_start() -> None:
    assert _matches("back [pain] [today]", "back pain today") == ["back pain today"]


def test_matches_in_start_order_then_by_how_the_pattern_starts() -> None:
    # Not sorted: the order at one start decides which rule's literal a span keeps.
    assert _matches("[{side}] ehl {grade}", "left ehl 3/5 ehl 4/5") == [
        "left ehl 3/5",
        "ehl 3/5",
        "ehl 4/5",
    ]


def test_four_leading_optional_words() -> None:
    # Only the first three optional words are expanded; a pattern left starting with an
    # optional word is tried where that word (and the next) are, and may skip it there.
    assert _matches("[x] [y] [z] [w] pain", "pain w pain x pain x y z w pain") == [
        "w pain",
        "x pain",
        "x y z w pain",
        "y z w pain",
        "z w pain",
        "w pain",
    ]
    assert _matches("[x] [y] [z] [{grade}] pain", "pain 3/5 pain z pain") == ["3/5 pain", "z pain"]

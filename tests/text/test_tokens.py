"""``Tokens`` gives exactly the tokens of spaCy's ``nlp.make_doc``, on any text."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtriage.text.pipeline import blank_english
from backtriage.text.tokens import Tokens, _special_forms
from tests.text.devset import load_devset

_NLP = blank_english()
_TOKENS = Tokens(_NLP)


def _spacy(text: str) -> tuple[list[str], list[str], list[bool]]:
    doc = _NLP.make_doc(text)
    return [t.text for t in doc], [t.lower_ for t in doc], [bool(t.whitespace_) for t in doc]


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "  leading and trailing  ",
        "a  b   c\n\n d\t\te\xa0f\u2003g\x1ch\r\n",
        "Dr. Smith: pt can't walk, e.g. 3/7 x LBP :) 8 ):- (: he 's",
        # Across a piece boundary, spaCy's special-case matcher matches "8 )" (the exception
        # "8)"), which hides the match of "):" inside "):-": spaCy keeps ")" ":" "-".
        "8 ):-",
        "x ):-",
        "HİS İS ß ﬀ ŉ",
    ],
)
def test_same_tokens_as_spacy(text: str) -> None:
    assert _TOKENS(text) == _spacy(text)


def test_same_tokens_as_spacy_on_the_devset() -> None:
    for dev in load_devset():
        for text in (dev.complaint, dev.note):
            if text:
                assert _TOKENS(text + "\n") == _spacy(text + "\n")


_EXCEPTIONS = sorted(
    {t for form in _special_forms(_NLP.tokenizer).values() for t in form}
    | set(_NLP.tokenizer.rules or {})
)
_PIECE = st.one_of(
    st.sampled_from(_EXCEPTIONS),
    st.text(max_size=6),
    st.sampled_from(["he", "x", "3", "8", ":", ")", "(", "-", ".", "a.m", "SLR", "+ve"]),
)
_GAP = st.sampled_from(["", " ", " ", "  ", "\n", "\t", " \n "])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_PIECE, _GAP), max_size=30).map(lambda ps: "".join(a + b for a, b in ps)))
def test_same_tokens_as_spacy_on_any_text(text: str) -> None:
    assert _TOKENS(text) == _spacy(text)

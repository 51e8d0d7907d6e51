"""Is this text English?  The rules are English only; foreign text is reported, not read.

A cheap guess, not a language model: mostly non-Latin letters (Chinese, Arabic, Cyrillic) is
not English; Latin-script text is not English when it holds several common Spanish, German,
French, Italian or Portuguese words and few English ones.  Short or telegraphic text ("LBP
x3/7, SLR -ve") is given the benefit of the doubt: nothing in it would match a foreign rule
anyway.
"""

from __future__ import annotations

import re
import string

_LETTER = re.compile(r"[^\W\d_]")
_NON_ASCII_LETTER = re.compile(r"[^\W\d_a-zA-Z]")
_WORD = re.compile(r"[^\W\d_]+")
_ENGLISH = frozenset(
    "the and of with no not pain back for in to is has patient pt denies left right leg on at "  # noqa: SIM905
    "she he was reports history weeks days or but her his low lower since after from".split()
)
_FOREIGN = frozenset(
    "el la los las del que y con por para una es dolor espalda der die das und mit ist nicht "  # noqa: SIM905
    "ein eine les des et avec est pas dans elle che sono della dor costas não com uma "
    "rückenschmerzen schmerzen douleur dos paciente".split()
)


_ASCII_LETTERS = string.ascii_letters.encode("ascii")


def looks_english(text: str) -> bool:
    """False when ``text`` is clearly in another language."""
    sample = text[:5_000]  # enough words to tell a language
    if sample.isascii():
        # The same counts without a list of every letter: in ASCII text the letters are
        # exactly [A-Za-z], and there is no non-ASCII letter.
        data = sample.encode("ascii")
        letters = len(data) - len(data.translate(None, _ASCII_LETTERS))
        non_ascii = 0
    else:
        letters = len(_LETTER.findall(sample))
        non_ascii = len(_NON_ASCII_LETTER.findall(sample)) if letters >= 10 else 0
    if letters < 10:
        return True
    if non_ascii > letters / 2:
        return False
    if letters < 20:
        return True
    words = _WORD.findall(sample.lower())
    english = sum(map(_ENGLISH.__contains__, words))
    foreign = sum(map(_FOREIGN.__contains__, words))
    return not (foreign >= 4 and foreign > 2 * english)

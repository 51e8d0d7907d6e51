"""spaCy's tokenization of a text, with a cache per whitespace-delimited piece.

Why: spaCy's tokenizer caches each piece's tokens, but only until the first tokenizer
exception in a Doc ("e.g.", "Dr.", "'s", a lone "\\n"): from there on it stops caching
(``has_special`` is never reset within a call), so in clinical notes most words were split by
the prefix, suffix and infix regexes again on every call (~2 ms per ~500-word note).  And the
reader needs only three things per token: its text, its lower-case form and whether a space
follows, not a ``Doc``.

:class:`Tokens` gives exactly what ``nlp.make_doc(text)`` gives, by spaCy's own steps:

- the text is cut into the pieces ``Tokenizer._tokenize_affixes`` tokenizes one by one: a run
  of non-space characters with the single " " after it (its last token's trailing space), or
  a run of space characters;
- each piece is tokenized by spaCy on its own, once, and remembered (spaCy tokenizes piece by
  piece too, so a piece's tokens do not depend on its neighbours);
- except for one step that looks across pieces: the special-case matcher
  (``Tokenizer._apply_special_cases``) looks for the affix-split forms of tokenizer exceptions
  (":)" as ":" ")") over the whole Doc.  A match that crosses pieces changes no token (its text
  holds a space, and no such exception has one), but it can hide an overlapping match inside a
  piece ("8 ):-" keeps ")" ":" "-").  So when a piece may end and the next one start with two
  tokens that follow each other in one of those forms, the whole text goes through spaCy
  (rare: 4% of the chunks of the benchmark notes).

``tests/text/test_tokens.py`` checks the result against ``nlp.make_doc`` on many texts.
"""

from __future__ import annotations

import re
from itertools import chain, pairwise
from operator import itemgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # spaCy is imported by .pipeline, which keeps its import-time noise quiet
    from spacy.language import Language

# The pieces spaCy tokenizes one by one: a run of non-space characters with the single " "
# that may follow it (the last token's trailing space), or a run of space characters.
# ``\s`` and ``str.isspace`` (which spaCy uses) are the same test on ``str``.
_PIECES = re.compile(r"\S+ ?|\s+")
_MAX_CACHE = 50_000  # distinct pieces remembered (cleared when full)

# A piece's tokens: texts, lower-case forms, trailing-space flags; and the tokens that may
# start and end it in the special-case matcher's view, when one may take part in a match
# across pieces (else None).
_Piece = tuple[
    tuple[str, ...],
    tuple[str, ...],
    tuple[bool, ...],
    tuple[frozenset[str], frozenset[str]] | None,
]
_TEXTS, _LOWERS, _SPACES = itemgetter(0), itemgetter(1), itemgetter(2)


def _special_forms(tokenizer: Any) -> dict[str, list[str]]:  # a spaCy Tokenizer (no stubs)
    """The tokenizer exceptions given to spaCy's special-case matcher, each with the tokens the
    matcher looks for (its affix-split form, ":)" as ":" ")"), when there are several.

    The same test as ``Tokenizer.add_special_case``: with ``faster_heuristics`` (the default)
    only exceptions with a prefix, infix, suffix or space go to the matcher.
    """
    plain = type(tokenizer)(
        tokenizer.vocab,
        rules={},
        prefix_search=tokenizer.prefix_search,
        suffix_search=tokenizer.suffix_search,
        infix_finditer=tokenizer.infix_finditer,
        token_match=tokenizer.token_match,
        url_match=tokenizer.url_match,
    )
    forms: dict[str, list[str]] = {}
    for key in tokenizer.rules or {}:
        if (
            tokenizer.faster_heuristics
            and not tokenizer.find_prefix(key)
            and not tokenizer.find_infix(key)
            and not tokenizer.find_suffix(key)
            and " " not in key
        ):
            continue
        texts = [t.text for t in plain(key)]
        if len(texts) > 1:
            forms[key] = texts
    return forms


class Tokens:
    """Tokenizes like ``nlp.make_doc``; returns token texts, lower-case forms, space flags."""

    def __init__(self, nlp: Language) -> None:
        self._nlp = nlp
        forms = _special_forms(nlp.tokenizer)
        # For each token that may end a piece and continue a match into the next piece, the
        # tokens that may follow it there.
        follows: dict[str, set[str]] = {}
        for texts in forms.values():
            for a, b in pairwise(texts):
                follows.setdefault(a, set()).add(b)
        self._follows = {a: frozenset(bs) for a, bs in follows.items()}
        self._rights = frozenset().union(*self._follows.values())
        # The matcher sees a piece before special cases replace its matches ("):" was ")" ":"):
        # a piece that starts with an exception may start with the first token of its form.
        self._by_first: dict[str, list[tuple[str, str]]] = {}
        self._by_last: dict[str, list[tuple[str, str]]] = {}
        for key, texts in forms.items():
            if texts[0] in self._rights:
                self._by_first.setdefault(key[0], []).append((key, texts[0]))
            if texts[-1] in self._follows:
                self._by_last.setdefault(key[-1], []).append((key, texts[-1]))
        self._cache: dict[str, _Piece] = {}
        # New pieces are tokenized together, joined by line breaks (see ``_learn``).
        self._batch = not any(t.isspace() for texts in forms.values() for t in texts)

    def _piece(self, piece: str) -> _Piece:
        return self._remember(piece, *self._spacy(piece))

    def _remember(
        self, piece: str, texts: list[str], lowers: list[str], spaces: list[bool]
    ) -> _Piece:
        core = piece if piece.isspace() else piece.rstrip(" ")  # without its trailing space
        heads = {b for key, b in self._by_first.get(core[0], ()) if core.startswith(key)}
        if texts[0] in self._rights:
            heads.add(texts[0])
        tails = {a for key, a in self._by_last.get(core[-1], ()) if core.endswith(key)}
        if texts[-1] in self._follows:
            tails.add(texts[-1])
        ends = (frozenset(heads), frozenset(tails)) if heads or tails else None
        entry: _Piece = (tuple(texts), tuple(lowers), tuple(spaces), ends)
        if len(self._cache) >= _MAX_CACHE:
            self._cache.clear()
        self._cache[piece] = entry
        return entry

    def _learn(self, pieces: list[str]) -> None:
        """Tokenize and remember new pieces: the non-space ones in one spaCy call.

        A Doc per piece costs more than the tokenizing (a text of new words, a pasted table,
        took 1.6x as long as one Doc per chunk).  Joined by line breaks, each piece keeps its
        tokens: a line break is a token of its own, and no special-case form holds one (so no
        match crosses it; checked in ``__init__``).
        """
        words = [piece for piece in pieces if not piece.isspace()]
        for piece in pieces:
            if piece.isspace() or len(words) < 2 or not self._batch:
                self._piece(piece)
        if len(words) < 2 or not self._batch:
            return
        cores = [piece[:-1] if piece[-1] == " " else piece for piece in words]
        texts, lowers, spaces = self._spacy("\n".join(cores))
        start = 0
        groups: list[tuple[int, int]] = []
        for i, text in enumerate(texts):
            if text == "\n":
                groups.append((start, i))
                start = i + 1
        groups.append((start, len(texts)))
        if len(groups) != len(words) or any(a >= b for a, b in groups):
            for piece in words:  # not expected; tokenize each on its own
                self._piece(piece)
            return
        for piece, (a, b) in zip(words, groups, strict=True):
            piece_spaces = spaces[a:b]
            piece_spaces[-1] = piece[-1] == " "
            self._remember(piece, texts[a:b], lowers[a:b], piece_spaces)

    def _spacy(self, text: str) -> tuple[list[str], list[str], list[bool]]:
        """The same, from a spaCy Doc (token attributes read in bulk)."""
        doc = self._nlp.make_doc(text)
        strings = self._nlp.vocab.strings
        orths, lows, flags = doc.to_array(["ORTH", "LOWER", "SPACY"]).T.tolist()
        return [strings[o] for o in orths], [strings[o] for o in lows], [bool(f) for f in flags]

    def __call__(self, text: str) -> tuple[list[str], list[str], list[bool]]:
        """Token texts, their lower-case forms, and whether a space follows each."""
        found = _PIECES.findall(text)
        get = self._cache.get
        known = [get(piece) for piece in found]
        if None in known:
            new = dict.fromkeys(p for p, e in zip(found, known, strict=True) if e is None)
            self._learn(list(new))
            known = [get(piece) for piece in found]
        pieces = [entry or self._piece(piece) for piece, entry in zip(found, known, strict=True)]
        ends = [(i, e[3]) for i, e in enumerate(pieces) if e[3] is not None]
        for (i, (_, tails)), (j, (heads, _)) in pairwise(ends):
            if j == i + 1 and any(not self._follows[a].isdisjoint(heads) for a in tails):
                # A special-case match may cross from one piece into the next.
                return self._spacy(text)
        return (
            list(chain.from_iterable(map(_TEXTS, pieces))),
            list(chain.from_iterable(map(_LOWERS, pieces))),
            list(chain.from_iterable(map(_SPACES, pieces))),
        )

"""The phrase notation of the rule files, compiled to spaCy ``Matcher`` token patterns.

A phrase is words separated by spaces, each matched as a whole token, case-insensitively::

    saddle (anaesthesia|anesthesia|numbness)      one of the alternatives
    [left|right|l|r] leg weakness                 optional: zero or one of the alternatives
    radiat* down the leg                          any token starting with "radiat"
    {side} EHL {weak_grade}                       a class from classes.yaml (a list of
                                                  phrases, or a regular expression for one token)

Alternatives may be several words (``(bowel|bladder and bowel)``) or a class; groups do not
nest.  Each
word is split by the same tokenizer that reads the notes ("h/o" is three tokens, "+ve" two), so
a rule writer need not know spaCy's tokenization.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

TokenPattern = dict[str, object]
Pattern = list[TokenPattern]

# Expanding multi-word alternatives multiplies patterns; past this a phrase is better split.
MAX_PATTERNS_PER_PHRASE = 256

_ELEMENT = re.compile(r"\(([^()\[\]]*)\)|\[([^()\[\]]*)\]|\{([a-z0-9_]+)\}|([^\s()\[\]{}]+)")


class PhraseSyntaxError(ValueError):
    """A phrase in a rule file does not follow the notation; the message says where."""


@dataclass(frozen=True)
class _Token:
    kind: str  # "exact" | "prefix" | "regex"
    value: str


@dataclass(frozen=True)
class ClassDef:
    """A named class: alternatives (phrases without groups) or a regex for one token."""

    phrases: tuple[str, ...] = ()
    regex: str | None = None


Tokenize = Callable[[str], list[str]]


def _contraction(core: str, tokenize: Tokenize) -> list[str] | None:
    """The one token of a contraction written alone ("'ve", "'s", "'re"): in a note it follows
    a word ("I've" is "I" and "'ve"), but alone the tokenizer splits off the apostrophe."""
    for subject in ("i", "they", "he"):
        pieces = [p.lower() for p in tokenize(subject + core) if p.strip()]
        if pieces == [subject, core.lower()]:
            return pieces[1:]
    return None


def _word_tokens(word: str, tokenize: Tokenize) -> list[_Token]:
    prefix = word.endswith("*") and len(word) > 1
    core = word[:-1] if prefix else word
    pieces = [p.lower() for p in tokenize(core) if p.strip()]
    if core[:1] in ("'", "\u2019") and len(pieces) > 1:
        pieces = _contraction(core, tokenize) or pieces
    if not pieces:
        raise PhraseSyntaxError(f"word {word!r} has no tokens")
    tokens = [_Token("exact", p) for p in pieces]
    if prefix:
        tokens[-1] = _Token("prefix", pieces[-1])
    return tokens


def _alternative(text: str, tokenize: Tokenize) -> list[_Token]:
    words = text.split()
    if not words:
        raise PhraseSyntaxError("empty alternative")
    out: list[_Token] = []
    for word in words:
        out.extend(_word_tokens(word, tokenize))
    return out


def _slots(
    phrase: str, classes: Mapping[str, ClassDef], tokenize: Tokenize
) -> list[tuple[list[list[_Token]], bool]]:
    slots: list[tuple[list[list[_Token]], bool]] = []
    pos = 0
    for match in _ELEMENT.finditer(phrase):
        if phrase[pos : match.start()].strip():
            raise PhraseSyntaxError(f"unbalanced bracket near {phrase[pos : match.start()]!r}")
        pos = match.end()
        group, optional, cls, word = match.groups()
        if word is not None:
            slots.append(([_word_tokens(word, tokenize)], False))
        elif cls is not None:
            if cls not in classes:
                raise PhraseSyntaxError(f"unknown class {{{cls}}}; known: {sorted(classes)}")
            definition = classes[cls]
            if definition.regex is not None:
                slots.append(([[_Token("regex", definition.regex)]], False))
            else:
                alts = [_alternative(p, tokenize) for p in definition.phrases]
                slots.append((alts, False))
        else:
            body = group if group is not None else (optional or "")
            alts = []
            for alt in body.split("|"):
                ref = re.fullmatch(r"\s*\{([a-z0-9_]+)\}\s*", alt)
                if ref is None:
                    alts.append(_alternative(alt, tokenize))
                    continue
                if ref.group(1) not in classes:
                    raise PhraseSyntaxError(
                        f"unknown class {alt.strip()}; known: {sorted(classes)}"
                    )
                definition = classes[ref.group(1)]
                if definition.regex is not None:
                    alts.append([_Token("regex", definition.regex)])
                else:
                    alts.extend(_alternative(p, tokenize) for p in definition.phrases)
            slots.append((alts, optional is not None))
    if phrase[pos:].strip():
        raise PhraseSyntaxError(f"unbalanced bracket near {phrase[pos:]!r}")
    if not slots:
        raise PhraseSyntaxError("empty phrase")
    if all(opt for _, opt in slots):
        raise PhraseSyntaxError("every part is optional: the phrase could match nothing")
    return slots


def _token_pattern(tokens: Sequence[_Token], optional: bool, split: bool) -> TokenPattern:
    exact = sorted({t.value for t in tokens if t.kind == "exact"})
    if len(exact) == len(tokens) or (len(exact) == len({(t.kind, t.value) for t in tokens})):
        spec: TokenPattern = {"LOWER": exact[0] if len(exact) == 1 else {"IN": exact}}
    elif split:
        # For the TokenMatcher: exact words stay a set (indexed by word), only the prefixes
        # and regexes are tried one by one.
        others = [
            re.escape(t.value) + r"\S*" if t.kind == "prefix" else t.value
            for t in tokens
            if t.kind != "exact"
        ]
        regex = "^(?:" + "|".join(others) + ")$"
        spec = {"LOWER": {"IN": exact, "REGEX": regex} if exact else {"REGEX": regex}}
    else:
        parts = []
        for t in tokens:
            if t.kind == "exact":
                parts.append(re.escape(t.value))
            elif t.kind == "prefix":
                parts.append(re.escape(t.value) + r"\S*")
            else:
                parts.append(t.value)
        spec = {"LOWER": {"REGEX": "^(?:" + "|".join(parts) + ")$"}}
    if optional:
        spec["OP"] = "?"
    return spec


def compile_phrase(
    phrase: str, classes: Mapping[str, ClassDef], tokenize: Tokenize, *, split: bool = False
) -> list[Pattern]:
    """Token patterns for one phrase; raises ``PhraseSyntaxError`` with the reason.

    The patterns are spaCy ``Matcher`` patterns, unless ``split``: then a token that mixes
    exact words and prefixes/regexes carries both an ``IN`` list and a ``REGEX`` (for
    :class:`backtriage.text.matcher.TokenMatcher`, which spaCy does not accept).
    """
    slots = _slots(phrase, classes, tokenize)
    # Each slot becomes either one token pattern (all alternatives one token long) or a choice
    # between token sequences, expanded into separate patterns.
    choices: list[list[Pattern]] = []
    for alts, optional in slots:
        if all(len(a) == 1 for a in alts):
            choices.append([[_token_pattern([a[0] for a in alts], optional, split)]])
            continue
        # Alternatives of the same length share one pattern, position by position: "below
        # the knee|below his knee" -> below (the|his) knee.  This may accept a few odd mixes
        # ("big leg" from "big toe|lower leg") but keeps the pattern count linear.
        by_length: dict[int, list[list[_Token]]] = {}
        for alt in alts:
            by_length.setdefault(len(alt), []).append(alt)
        seqs: list[Pattern] = [
            [_token_pattern([a[i] for a in same], False, split) for i in range(length)]
            for length, same in sorted(by_length.items())
        ]
        if optional:
            seqs.append([])
        choices.append(seqs)
    count = 1
    for c in choices:
        count *= len(c)
    if count > MAX_PATTERNS_PER_PHRASE:
        raise PhraseSyntaxError(
            f"expands to {count} patterns (limit {MAX_PATTERNS_PER_PHRASE}); split it"
        )
    patterns: list[Pattern] = []
    for combo in itertools.product(*choices):
        pattern = [spec for part in combo for spec in part]
        if pattern and any("OP" not in spec for spec in pattern):
            patterns.append(pattern)
    if not patterns:
        raise PhraseSyntaxError("every expansion is optional: the phrase could match nothing")
    for pattern in patterns:
        for spec in pattern:
            lower = spec["LOWER"]
            if isinstance(lower, dict) and "REGEX" in lower:
                try:
                    re.compile(str(lower["REGEX"]))
                except re.error as exc:
                    raise PhraseSyntaxError(f"bad regular expression: {exc}") from exc
    return patterns

"""A token-pattern matcher, in place of medspaCy's TargetMatcher (and of spaCy's ``Matcher``
under ConText).

Why: medspaCy's TargetMatcher adds each rule to spaCy's ``Matcher``, which validates every
pattern with pydantic and rebuilds its table of predicates on every token spec added — with
our ~2,500 target patterns that took 8 s to load (target: under 1 s) — and spaCy's ``Matcher``
then took ~25 ms per note on ConText's ~250 trigger patterns.  This matcher takes the same
token patterns (``{"LOWER": ..., "OP": "?"}`` as compiled by :mod:`.phrases`), loads them in
milliseconds, and indexes them by their first two words, so each word of a note is tried
against only the few patterns that can start there.  The caller decides which tokens to pass
(targets skip whitespace tokens, so a phrase may run across a line break; ConText triggers
keep them, so "{end}" can match a line end).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from backtriage.text.phrases import Pattern


@dataclass(frozen=True)
class _Spec:
    words: frozenset[str]  # exact lower-case words, and/or
    regex: re.Pattern[str] | None  # a regex over the lower-case token
    optional: bool

    def accepts(self, word: str) -> bool:
        return word in self.words or (self.regex is not None and self.regex.match(word) is not None)


_MAX_PAIRS = 4096  # past this many word pairs, index a pattern by its first word only


def _spec(token: dict[str, object], regexes: dict[str, re.Pattern[str]]) -> _Spec:
    lower = token["LOWER"]
    optional = token.get("OP") == "?"
    if isinstance(lower, str):
        return _Spec(frozenset([lower]), None, optional)
    if not isinstance(lower, dict):
        raise ValueError(f"unsupported token pattern {token!r}")
    words = frozenset(str(w) for w in lower.get("IN", ()))
    regex = None
    if "REGEX" in lower:
        source = str(lower["REGEX"])
        # One compiled object per distinct regex: the scan index groups patterns by it.
        if source not in regexes:
            regexes[source] = re.compile(source)
        regex = regexes[source]
    return _Spec(words, regex, optional)


@dataclass(frozen=True)
class Match:
    key: int  # index of the pattern's rule, as given to ``add``
    start: int  # token indices into the doc, end exclusive
    end: int


class TokenMatcher:
    """Find every rule whose pattern matches at each position; longest match per rule and start."""

    def __init__(self) -> None:
        self._patterns: list[tuple[int, tuple[_Spec, ...]]] = []
        self._plain: list[bool] = []  # pattern has no optional token
        self._regexes: dict[str, re.Pattern[str]] = {}
        self._by_word: dict[str, list[int]] = {}
        # Patterns whose first token may match by regex, grouped by that regex so that each
        # regex is tried once per word.
        self._scan: dict[re.Pattern[str], list[int]] = {}
        # Patterns whose first two tokens are required exact words, by that word pair: most
        # candidates found by their first word alone ("no", "pain") fail on the second.
        self._by_pair: dict[tuple[str, str], list[int]] = {}
        # Patterns starting with a regex ("{num} days ago"), by that regex, then second word.
        self._scan_pair: dict[re.Pattern[str], dict[str, list[int]]] = {}

    def add(self, key: int, pattern: Pattern) -> None:
        specs = tuple(_spec(t, self._regexes) for t in pattern)
        for variant in _variants(specs):
            index = len(self._patterns)
            self._patterns.append((key, variant))
            self._plain.append(not any(spec.optional for spec in variant))
            first = variant[0]
            second = variant[1] if len(variant) > 1 else None
            if second is not None and not second.optional and second.regex is None:
                if first.regex is None and len(first.words) * len(second.words) <= _MAX_PAIRS:
                    for w1 in first.words:
                        for w2 in second.words:
                            self._by_pair.setdefault((w1, w2), []).append(index)
                    continue
                if not first.words and first.regex is not None:
                    by_second = self._scan_pair.setdefault(first.regex, {})
                    for w2 in second.words:
                        by_second.setdefault(w2, []).append(index)
                    continue
            for word in first.words:
                self._by_word.setdefault(word, []).append(index)
            if first.regex is not None:
                self._scan.setdefault(first.regex, []).append(index)

    def __call__(self, words: Sequence[str]) -> list[Match]:
        """Every rule matching at each position of lower-case ``words``, longest per start."""
        found: dict[tuple[int, int], int] = {}
        by_word, by_pair, scan, scan_pair = (
            self._by_word,
            self._by_pair,
            self._scan,
            self._scan_pair,
        )
        n = len(words)
        for i, word in enumerate(words):
            following = words[i + 1] if i + 1 < n else None
            # (pattern, how many leading tokens the index has already checked)
            candidates = [(p, 1) for p in by_word.get(word, ())]
            if following is not None:
                candidates.extend((p, 2) for p in by_pair.get((word, following), ()))
            for regex, indices in scan.items():
                if regex.match(word) is not None:
                    candidates.extend((p, 1) for p in indices)
            if following is not None:
                for regex, by_second in scan_pair.items():
                    if following in by_second and regex.match(word) is not None:
                        candidates.extend((p, 2) for p in by_second[following])
            for p, checked in candidates:
                key, specs = self._patterns[p]
                if not self._plain[p]:
                    longest = _longest(specs, words, i)
                    if longest is not None and longest > found.get((key, i), -1):
                        found[(key, i)] = longest
                    continue
                # No optional token: walk the rest directly.
                end = i + len(specs)
                if end > n:
                    continue
                j = i + checked
                for spec in specs[checked:]:
                    w = words[j]
                    if w not in spec.words and (spec.regex is None or spec.regex.match(w) is None):
                        break
                    j += 1
                else:
                    if end > found.get((key, i), -1):
                        found[(key, i)] = end
        return [Match(key, start, end) for (key, start), end in found.items()]


def _variants(specs: tuple[_Spec, ...]) -> list[tuple[_Spec, ...]]:
    """The pattern with each optional token among its first three taken or left out, so that
    each variant starts with required tokens and can be indexed by its first two words."""
    variants: list[tuple[_Spec, ...]] = [()]
    for i, spec in enumerate(specs):
        if i < 3 and spec.optional:
            required = _Spec(spec.words, spec.regex, False)
            variants = [(*v, required) for v in variants] + variants
        else:
            variants = [(*v, spec) for v in variants]
    seen: set[tuple[_Spec, ...]] = set()
    out = []
    for v in variants:
        if v and any(not s.optional for s in v) and v not in seen:
            seen.add(v)
            out.append(v)
    return out


def _longest(specs: tuple[_Spec, ...], words: Sequence[str], start: int) -> int | None:
    """End of the longest match of ``specs`` at ``start``, or None."""
    best: int | None = None
    # Depth-first over (spec index, word index); optional specs branch.
    stack = [(0, start)]
    while stack:
        si, wi = stack.pop()
        if si == len(specs):
            if wi > start and (best is None or wi > best):
                best = wi
            continue
        spec = specs[si]
        if spec.optional:
            stack.append((si + 1, wi))
        if wi < len(words) and spec.accepts(words[wi]):
            stack.append((si + 1, wi + 1))
    return best

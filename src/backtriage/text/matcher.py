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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from backtriage.text.phrases import Pattern


@dataclass(frozen=True, slots=True)
class _Spec:
    words: frozenset[str]  # exact lower-case words, and/or
    regex: re.Pattern[str] | None  # a regex over the lower-case token
    optional: bool

    def accepts(self, word: str) -> bool:
        return word in self.words or (self.regex is not None and self.regex.match(word) is not None)


_MAX_PAIRS = 4096  # past this many word pairs, index a pattern by its first word only
_MAX_CACHE = 50_000  # distinct words remembered by a matcher (cleared when full)
# A pattern ready to try at a word whose first ``checked`` tokens the index has matched: (rule
# key, all specs, no spec optional, the remaining specs as (words, regex match or None),
# number of specs).
_Candidate = tuple[
    int,
    tuple["_Spec", ...],
    bool,
    tuple[tuple[frozenset[str], Callable[[str], "re.Match[str] | None"] | None], ...],
    int,
]
_Candidates = tuple[_Candidate, ...]
# Per word: candidates by first word, by a regex on the first word, and the second-word
# tables of the regexes it matches.
_Entry = tuple[_Candidates, _Candidates, tuple[dict[str, _Candidates], ...]]
_MISSING: _Entry = ((), (), ())  # not yet in the cache


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


@dataclass(frozen=True, slots=True)
class Match:
    key: int  # index of the pattern's rule, as given to ``add``
    start: int  # token indices into the doc, end exclusive
    end: int


class TokenMatcher:
    """Find every rule whose pattern matches at each position; longest match per rule and start."""

    def __init__(self) -> None:
        # (rule key, token specs, whether no spec is optional)
        self._patterns: list[tuple[int, tuple[_Spec, ...], bool]] = []
        # Per distinct word: its candidates by first word, by a regex on the first word, and
        # the second-word tables of the regexes it matches (see ``__call__``).
        self._cache: dict[str, _Entry | None] = {}
        self._pair_firsts: frozenset[str] = frozenset()
        self._ready = False  # the candidate tables below are built on the first call
        self._pair_candidates: dict[tuple[str, str], _Candidates] = {}
        self._scan_pair_candidates: dict[re.Pattern[str], dict[str, _Candidates]] = {}
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
        self._ready = False
        specs = tuple(_spec(t, self._regexes) for t in pattern)
        for variant in _variants(specs):
            index = len(self._patterns)
            self._patterns.append((key, variant, not any(spec.optional for spec in variant)))
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

    def _candidate(self, p: int, checked: int) -> _Candidate:
        key, specs, plain = self._patterns[p]
        if any(spec.optional for spec in specs[:checked]):
            # (A variant may start with an optional token, past the first three.)  The index
            # matched it, but a match may also skip it: try the whole pattern.
            checked = 0
        rest = tuple(
            (spec.words, spec.regex.match if spec.regex is not None else None)
            for spec in specs[checked:]
        )
        return key, specs, plain, rest, len(specs)

    def _prepare(self) -> None:
        """The index as candidates ready to try (after the last ``add``)."""
        self._pair_candidates = {
            pair: tuple(self._candidate(p, 2) for p in indices)
            for pair, indices in self._by_pair.items()
        }
        self._pair_firsts = frozenset(w1 for w1, _ in self._by_pair)
        self._scan_pair_candidates = {
            regex: {w: tuple(self._candidate(p, 2) for p in ps) for w, ps in by_second.items()}
            for regex, by_second in self._scan_pair.items()
        }
        self._cache.clear()
        self._ready = True

    def _entry(self, word: str) -> _Entry | None:
        """What the index offers for one word, computed once per distinct word."""
        singles = tuple(self._candidate(p, 1) for p in self._by_word.get(word, ()))
        scanned = tuple(
            self._candidate(p, 1)
            for regex, indices in self._scan.items()
            if regex.match(word)
            for p in indices
        )
        pairs = tuple(
            by_second
            for regex, by_second in self._scan_pair_candidates.items()
            if regex.match(word)
        )
        # None: nothing can start at this word (most words), skipped at once.
        entry = (
            (singles, scanned, pairs)
            if singles or scanned or pairs or word in self._pair_firsts
            else None
        )
        if len(self._cache) >= _MAX_CACHE:
            self._cache.clear()
        self._cache[word] = entry
        return entry

    def __call__(self, words: Sequence[str]) -> list[Match]:
        """Every rule matching at each position of lower-case ``words``, longest per start."""
        if not self._ready:
            self._prepare()
        found: dict[tuple[int, int], int] = {}
        pair_candidates, cache = self._pair_candidates, self._cache
        n = len(words)
        for i, word in enumerate(words):
            entry = cache.get(word, _MISSING)
            if entry is _MISSING:
                entry = self._entry(word)
            if entry is None:
                continue
            singles, scanned, scan_pairs = entry
            # The candidates in a fixed order (by first word, by first two words, by a regex
            # on the first word, by such a regex and the second word): the order of ``found``
            # decides which rule's literal a span keeps.
            groups = [singles] if singles else []
            if i + 1 < n:
                following = words[i + 1]
                pair = pair_candidates.get((word, following))
                if pair is not None:
                    groups.append(pair)
                if scanned:
                    groups.append(scanned)
                for by_second in scan_pairs:
                    group = by_second.get(following)
                    if group is not None:
                        groups.append(group)
            elif scanned:
                groups.append(scanned)
            for group in groups:
                for key, specs, plain, rest, length in group:
                    if not plain:
                        longest = _longest(specs, words, i, length - len(rest))
                        if longest is not None and longest > found.get((key, i), -1):
                            found[(key, i)] = longest
                        continue
                    # No optional token: walk the rest directly.
                    end = i + length
                    if end > n:
                        continue
                    j = end - len(rest)
                    for accepted, regex_match in rest:
                        w = words[j]
                        if w not in accepted and (regex_match is None or regex_match(w) is None):
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


def _longest(
    specs: tuple[_Spec, ...], words: Sequence[str], start: int, checked: int
) -> int | None:
    """End of the longest match of ``specs`` at ``start``, or None, given that its first
    ``checked`` specs (required ones) are known to match the words from ``start``."""
    # The word positions reachable after each spec, breadth-first; an optional spec may be
    # skipped.
    n = len(words)
    positions = {start + checked}
    for spec in specs[checked:]:
        reached = set(positions) if spec.optional else set()
        for wi in positions:
            if wi < n and spec.accepts(words[wi]):
                reached.add(wi + 1)
        if not reached:
            return None
        positions = reached
    end = max(positions)
    return end if end > start else None

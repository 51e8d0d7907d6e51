"""A token-pattern matcher, in place of medspaCy's TargetMatcher (and of spaCy's ``Matcher``
under ConText).

Why: medspaCy's TargetMatcher adds each rule to spaCy's ``Matcher``, which validates every
pattern with pydantic and rebuilds its table of predicates on every token spec added — with
our ~2,500 target patterns that took 8 s to load (target: under 1 s) — and spaCy's ``Matcher``
then took ~25 ms per note on ConText's ~250 trigger patterns.  This matcher takes the same
token patterns (``{"LOWER": ..., "OP": "?"}`` as compiled by :mod:`.phrases`) and loads them
in milliseconds.  It walks them from each word of a note as one trie, determinized as it goes:
the set of trie nodes a run of words leads to is one state, and where each next word leads
from a state is remembered, so a word costs one dictionary look-up however many patterns are
still open (an index of candidates by their first two words, tried one by one, cost ~3x more
on the benchmark notes).  The caller decides which tokens to pass (targets skip whitespace
tokens, so a phrase may run across a line break; ConText triggers keep them, so "{end}" can
match a line end).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from backtriage.text.phrases import Pattern


@dataclass(frozen=True, slots=True)
class _Spec:
    words: frozenset[str]  # exact lower-case words, and/or
    regex: re.Pattern[str] | None  # a regex over the lower-case token
    optional: bool

    def accepts(self, word: str) -> bool:
        return word in self.words or (self.regex is not None and self.regex.match(word) is not None)


_MAX_PAIRS = 4096  # past this many word pairs, a pattern is ranked by its first word only
_MAX_CACHE = 50_000  # trie steps remembered by a matcher (cleared when full)


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
        # One compiled object per distinct regex: the ranks group patterns by it.
        if source not in regexes:
            regexes[source] = re.compile(source)
        regex = regexes[source]
    return _Spec(words, regex, optional)


class Match(NamedTuple):
    key: int  # index of the pattern's rule, as given to ``add``
    start: int  # token indices into the doc, end exclusive
    end: int


# How a variant is ranked among the matches at one start (see ``TokenMatcher``): by its first
# word, by its first two words, by a regex on its first word, by such a regex and the second
# word; then by the order it was added.
_BY_WORD, _BY_PAIR, _BY_REGEX, _BY_REGEX_PAIR = range(4)
_Rank = tuple[int, int, int]  # (how, which regex, variant index)
# A variant ending in a trie node: its rule key, its rank, and for a variant whose first spec
# has words and a regex, those words and its rank when the first word is not one of them.
_End = tuple[int, _Rank, tuple[frozenset[str], _Rank] | None]


def _by_rank(item: tuple[int, tuple[_Rank, int]]) -> _Rank:
    return item[1][0]


class _Node:
    """A node of the trie of pattern variants: the specs matched so far."""

    __slots__ = ("_index", "children", "ends")

    def __init__(self) -> None:
        self.children: dict[_Spec, _Node] = {}
        self.ends: list[_End] = []
        self._index: _Index | None = None  # built on first use, dropped when a child is added

    def child(self, spec: _Spec) -> _Node:
        node = self.children.get(spec)
        if node is None:
            node = self.children[spec] = _Node()
            self._index = None
        return node

    def index(self) -> _Index:
        """The children by word, by regex, and behind an optional spec (the root has
        thousands of children: a new word must not be tried against each)."""
        if self._index is None:
            by_word: dict[str, list[_Node]] = {}
            by_regex: list[tuple[re.Pattern[str], _Node]] = []
            optional: list[_Node] = []
            for spec, node in self.children.items():
                for word in spec.words:
                    by_word.setdefault(word, []).append(node)
                if spec.regex is not None:
                    by_regex.append((spec.regex, node))
                if spec.optional:
                    optional.append(node)
            self._index = (by_word, by_regex, optional)
        return self._index

    def closure(self) -> list[_Node]:
        """This node and those reached from it by skipping optional specs."""
        out = [self]
        for child in self.index()[2]:
            out.extend(child.closure())
        return out

    def step(self, word: str) -> list[_Node]:
        """The children whose spec accepts ``word`` (a child may come twice)."""
        by_word, by_regex, _ = self.index()
        out = list(by_word.get(word, ()))
        out.extend(node for regex, node in by_regex if regex.match(word) is not None)
        return out


_Index = tuple[dict[str, list[_Node]], list[tuple[re.Pattern[str], _Node]], list[_Node]]


class _State:
    """The trie nodes a run of words leads to (with optional specs taken or skipped), and
    where each next word leads, remembered."""

    __slots__ = ("ends", "more", "nodes", "steps")

    def __init__(self, nodes: tuple[_Node, ...]) -> None:
        self.nodes = nodes
        self.ends: tuple[_End, ...] = tuple(end for node in nodes for end in node.ends)
        self.more = any(node.children for node in nodes)  # may a longer match follow
        self.steps: dict[str, _State | None] = {}


_MISSING = _State(())  # a step not yet remembered


class TokenMatcher:
    """Find every rule whose pattern matches at each position; longest match per rule and start.

    The matches at one start come in a fixed order: by how each pattern starts (by its first
    word; by its first two words, when both are required words; by a regex on its first word;
    by such a regex and a required second word), then in the order the rules were added
    (regexes in the order first used).  That order decides which rule's literal a span keeps.
    """

    def __init__(self) -> None:
        self._trie = _Node()
        self._regexes: dict[str, re.Pattern[str]] = {}
        self._keys: list[int] = []  # per variant: its rule's key
        self._regex_order: dict[re.Pattern[str], int] = {}
        self._regex_pair_order: dict[re.Pattern[str], int] = {}
        # Variants that start with an optional spec (a pattern whose first four specs are
        # optional): tried only where their first spec (with the second, if ranked by two
        # words) accepts the words, then matched with that spec taken or skipped.
        self._odd: list[tuple[int, tuple[_Spec, ...], _Rank, _Rank | None]] = []
        self._states: dict[frozenset[int], _State] = {}
        self._root: _State | None = None  # built on first use: adding thousands stays linear
        self._cached = 0  # steps remembered

    def add(self, key: int, pattern: Pattern) -> None:
        specs = tuple(_spec(t, self._regexes) for t in pattern)
        for variant in _variants(specs):
            index = len(self._keys)
            self._keys.append(key)
            rank, by_regex = self._rank(index, variant)
            if variant[0].optional:
                self._odd.append((index, variant, rank, by_regex))
                continue
            node = self._trie
            for spec in variant:
                node = node.child(spec)
            node.ends.append(
                (key, rank, None if by_regex is None else (variant[0].words, by_regex))
            )
        self._forget()

    def _rank(self, index: int, variant: tuple[_Spec, ...]) -> tuple[_Rank, _Rank | None]:
        """The variant's rank by its first words, and by a regex on its first word (if any)."""
        first = variant[0]
        second = variant[1] if len(variant) > 1 else None
        if second is not None and not second.optional and second.regex is None:
            if first.regex is None and len(first.words) * len(second.words) <= _MAX_PAIRS:
                return (_BY_PAIR, 0, index), None
            if not first.words and first.regex is not None:
                order = self._regex_pair_order.setdefault(first.regex, len(self._regex_pair_order))
                return (_BY_REGEX_PAIR, order, index), None
        by_regex = None
        if first.regex is not None:
            order = self._regex_order.setdefault(first.regex, len(self._regex_order))
            by_regex = (_BY_REGEX, order, index)
        if not first.words and by_regex is not None:
            return by_regex, None
        return (_BY_WORD, 0, index), by_regex

    def _forget(self) -> None:
        """Drop every remembered state and step (after ``add``, or when too many)."""
        self._states = {}
        self._root = None
        self._cached = 0

    def _start(self) -> _State:
        """The state before any word: the trie's root and what skipping optional specs reaches."""
        if self._root is None:
            self._root = self._state(tuple(self._trie.closure()))
        return self._root

    def _state(self, nodes: tuple[_Node, ...]) -> _State:
        ids = frozenset(map(id, nodes))
        state = self._states.get(ids)
        if state is None:
            state = self._states[ids] = _State(nodes)
        return state

    def _step(self, state: _State, word: str) -> _State | None:
        """Where ``word`` leads from ``state`` (None: no match can go on), remembered."""
        if self._cached >= _MAX_CACHE:
            self._forget()  # ``state`` still works; it is no longer shared
        reached: dict[int, _Node] = {}
        for node in state.nodes:
            for child in node.step(word):
                for next_node in child.closure():
                    reached.setdefault(id(next_node), next_node)
        result = self._state(tuple(reached.values())) if reached else None
        state.steps[word] = result
        self._cached += 1
        return result

    def __call__(self, words: Sequence[str], starts: Iterable[int] | None = None) -> list[Match]:
        """Every rule matching at each position of lower-case ``words`` (or at ``starts``,
        in increasing order, only), longest per rule and start."""
        out: list[Match] = []
        n = len(words)
        odd = self._odd
        positions = range(n) if starts is None else starts
        for i in positions:
            word = words[i]
            root = self._start()
            state = root.steps.get(word, _MISSING)
            if state is _MISSING:
                state = self._step(root, word)
            if state is None and not odd:
                continue
            # Per rule: the rank of its best variant and the end of its longest match.
            found: dict[int, tuple[_Rank, int]] = {}
            end = i + 1
            while state is not None:
                for key, rank, by_regex in state.ends:
                    if by_regex is not None and word not in by_regex[0]:
                        rank = by_regex[1]
                    best = found.get(key)
                    # Later ends are longer: keep the best rank, take the end.
                    found[key] = (rank if best is None or rank < best[0] else best[0], end)
                if end >= n or not state.more:
                    break
                following = words[end]
                next_state = state.steps.get(following, _MISSING)
                state = self._step(state, following) if next_state is _MISSING else next_state
                end += 1
            if odd:
                self._match_odd(words, i, found)
            if len(found) == 1:
                for key, (_, stop) in found.items():
                    out.append(Match(key, i, stop))
            elif found:
                for key, (_, stop) in sorted(found.items(), key=_by_rank):
                    out.append(Match(key, i, stop))
        return out

    def _match_odd(self, words: Sequence[str], i: int, found: dict[int, tuple[_Rank, int]]) -> None:
        """The variants that start with an optional spec, at start ``i``."""
        word = words[i]
        following = words[i + 1] if i + 1 < len(words) else None
        for index, specs, rank, by_regex in self._odd:
            first = specs[0]
            if rank[0] in (_BY_PAIR, _BY_REGEX_PAIR):
                tried = following is not None and specs[1].accepts(following)
                tried = tried and (
                    word in first.words
                    if rank[0] == _BY_PAIR
                    else first.regex is not None and first.regex.match(word) is not None
                )
            elif word in first.words:
                tried = True
            else:
                tried = first.regex is not None and first.regex.match(word) is not None
                rank = by_regex if by_regex is not None else rank
            if not tried:
                continue
            end = _longest(specs, words, i, 0)
            if end is None:
                continue
            key = self._keys[index]
            best = found.get(key)
            if best is None:
                found[key] = (rank, end)
            else:
                found[key] = (min(best[0], rank), max(best[1], end))


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

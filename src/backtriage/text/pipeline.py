"""The NLP pipeline: spaCy's blank English tokenizer, a line-aware sentence splitter, a target
matcher, and medspaCy's ConText algorithm, with this package's rules.

Why not ``medspacy.load()`` as it is: on the same ~500-word notes it reads ~7 notes/s here
(``bench/bench_text.py``); the reader (this pipeline, the values and the judging) reads over
15x as many.  What was kept and what replaced:

- kept: spaCy's rule-based English tokenizer (no model, nothing downloaded), its tokens read
  through :class:`~backtriage.text.tokens.Tokens` (the same tokens, without a ``Doc``, cached
  per whitespace-delimited piece: spaCy's own cache stops at a Doc's first tokenizer
  exception); medspaCy's ConText rules, modifiers and graph (``ConTextRule``,
  ``ConTextModifier`` with its termination logic, ``ConTextGraph`` linking modifiers to
  targets);
- replaced: PyRuSH, the default sentence splitter (~55 ms per 600-token note, DEBUG logging):
  a sentence here ends at a full stop or a line break (unless the next line continues it in
  lower case), which costs nothing;
- replaced: medspaCy's TargetMatcher.  It loads our ~2,500 target patterns through spaCy's
  ``Matcher`` in ~8 s (pydantic validation of every pattern, a quadratic predicate table);
  :class:`~backtriage.text.matcher.TokenMatcher` takes the same token patterns, loads in
  milliseconds and walks them as a trie.  It also matches ConText's trigger patterns:
  spaCy's ``Matcher`` took ~25 ms per note on them;
- replaced: ConText's call.  It matches triggers over the whole doc and asks ``token.sent``
  for each modifier (spaCy rescans the doc on every call); here triggers are matched only in
  sentences that hold a target (as medspaCy PR #314 proposed), scopes are set from our own
  sentence starts by the same rule ``ConTextModifier`` uses, and each sentence gets its own
  ``ConTextGraph`` (a scope never leaves its sentence, so the edges are the same);
- replaced: spaCy ``Span`` objects as ConText's targets.  ``ConTextModifier.modifies`` reads
  only a target's ``start``, ``end`` and ``label_``; a plain ``_Target`` with those attributes
  (and its character offsets, computed from the token lengths) gives the same edges without
  creating a Span per match and a Token per offset read (with the matcher's per-word cache,
  this took the reader from ~60 to ~90 notes/s in ``bench/bench_text.py``);
- not used: medspaCy's 102 default ConText rules, written for US inpatient notes (their
  "history" trigger fires on every "Past Medical History:" header): ``context.yaml`` holds ours.

Two details keep it fast and bounded on any input:

- target matches are resolved here: the longest span wins; identical spans of two concepts
  are both kept; a phrase that also means another finding says so (``implies``);
- texts are read in chunks of whole lines of at most ~600 characters: a sentence never
  crosses a chunk, and ConText, which compares every modifier pair and every target-modifier
  pair, stays cheap on a 1 MB text; chunks without a target skip ConText.
"""

from __future__ import annotations

import warnings
from bisect import bisect_right
from collections.abc import Iterator
from itertools import accumulate
from operator import add
from typing import Any, NamedTuple

from backtriage.text.matcher import TokenMatcher
from backtriage.text.rules import Rules
from backtriage.text.tokens import Tokens

# Third-party import noise stays here: spaCy 3.7 imports click's deprecated parser (a
# DeprecationWarning with click >= 8.2), medspaCy calls ``warnings.filterwarnings("ignore")``
# at import time (which would silence every warning in the process), and PyRuSH's loguru logger
# writes DEBUG lines to stderr.  catch_warnings() undoes medspaCy's global filter on exit.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import spacy
    from spacy.language import Language

    try:  # loguru comes with PyRuSH, which medspaCy imports
        from loguru import logger as _loguru_logger

        _loguru_logger.disable("PyRuSH")  # only PyRuSH's messages, not the process's
    except ImportError:  # pragma: no cover
        pass
    from medspacy.common.util import (  # type: ignore[import-untyped]
        prune_overlapping_matches,
    )
    from medspacy.context import (  # type: ignore[import-untyped]
        ConTextGraph,
        ConTextModifier,
        ConTextRule,
    )

# A chunk of at most this many characters is one spaCy Doc (whole lines where possible).
CHUNK_CHARS = 600
_SPAN_GROUP = "backtriage_targets"
# After these, a "?" opens a query instead of ending a sentence ("(? CES)", "pain, ? CES").
_OPENERS = frozenset("(,;:-")
# The question marks read as a POSSIBLE_EXISTENCE modifier ("?CES", "saddle numbness??").
QUERY_MARKS = frozenset({"?", "??"})


def blank_english() -> Language:
    """spaCy's rule-based English tokenizer, no model (nothing is downloaded)."""
    return spacy.blank("en")


class _Target:
    """A target span, as ConText reads it (``start``, ``end``, ``label_``, like a spaCy Span),
    with its character offsets and the literal of the rule that found it."""

    __slots__ = ("end", "end_char", "label_", "literal", "start", "start_char")

    def __init__(
        self, start: int, end: int, label: str, start_char: int, end_char: int, literal: str
    ) -> None:
        self.start = start
        self.end = end
        self.label_ = label
        self.start_char = start_char
        self.end_char = end_char
        self.literal = literal


class Modifier(NamedTuple):
    """A ConText modifier attached to a mention: its category and character span."""

    category: str
    start: int
    end: int


class Mention(NamedTuple):
    """One target phrase found in a text, with the modifiers ConText attached to it.

    (A named tuple, not a frozen dataclass: a long note has hundreds, and a frozen
    dataclass's ``__init__`` costs a few times more.)
    """

    concept: str
    start: int  # character offsets into the original text
    end: int
    categories: frozenset[str]
    modifiers: tuple[Modifier, ...]
    # Character span covering the target and the modifiers that changed it (the evidence).
    evidence_start: int
    evidence_end: int
    literal: str


def _sentence_starts(texts: list[str], spaces: list[bool]) -> list[int]:
    """Indices of the tokens that start a sentence.

    A sentence ends at a full stop / ! / ? ("L4/5." and "Dr." split too, which only narrows a
    modifier's scope) and at a line break, unless the next line starts in lower case: notes are
    often hard-wrapped mid-sentence ("denies numbness, tingling,\nbladder problems").  "?CES"
    (no space after the "?") is a query about what follows, not the end of a sentence; so is a
    spaced "?" that opens a sentence or follows a space or "(,;:-" ("? urinary retention").
    """
    starts: list[int] = []
    after_stop = True
    after_newline = False
    n = len(texts)
    for i, text in enumerate(texts):
        if text.isspace():
            if after_stop:
                starts.append(i)
                after_stop = False
            after_newline = after_newline or "\n" in text
            continue
        opens = after_stop or (after_newline and not text[:1].islower())
        if opens:
            starts.append(i)
        after_stop = text in {".", "!", "?"} and (spaces[i] or i + 1 == n or texts[i + 1].isspace())
        if after_stop and text == "?" and (opens or spaces[i - 1] or texts[i - 1] in _OPENERS):
            # "? urinary retention", "pain, ? CES": a query of what follows, not an end.
            after_stop = False
        after_newline = False
    return starts


class Pipeline:
    """Tokenizer, sentence splitter, TargetMatcher and ConText, built once from ``Rules``."""

    def __init__(self, rules: Rules, nlp: Language | None = None) -> None:
        self.rules = rules
        self.nlp: Language = nlp if nlp is not None else spacy.blank("en")
        self._tokens = Tokens(self.nlp)
        self.matcher = TokenMatcher()
        # Per target rule: the span label ConText sees, and the rule's literal.
        self._target_info: list[tuple[str, str]] = []
        for index, compiled in enumerate(rules.targets):
            self.matcher.add(index, compiled.pattern)
            self._target_info.append((compiled.key.upper(), compiled.literal))
        # ConText's rules and algorithm are medspaCy's; its matching is done by a TokenMatcher
        # too (spaCy's Matcher took ~25 ms per note on our 250 modifier patterns).
        self._modifier_rules: list[ConTextRule] = []
        self._modifier_matcher = TokenMatcher()
        for compiled in rules.modifier_patterns:
            modifier = rules.modifiers[int(compiled.key)]
            self._modifier_matcher.add(len(self._modifier_rules), compiled.pattern)
            self._modifier_rules.append(
                ConTextRule(
                    literal=compiled.literal,
                    category=modifier.category,
                    pattern=compiled.pattern,
                    direction=modifier.direction,
                    max_scope=modifier.max_scope,
                    allowed_types=self._allowed(modifier.allowed),
                    terminated_by=set(modifier.terminated_by) if modifier.terminated_by else None,
                )
            )

    def _allowed(self, refs: list[str] | None) -> set[str] | None:
        if refs is None:
            return None
        labels: set[str] = set()
        for ref in refs:
            if ref in self.rules.groups:
                group = set(self.rules.groups[ref])
                labels.update(
                    cid.upper()
                    for cid, concept in self.rules.concepts.items()
                    if group & set(concept.finding_ids)
                )
            else:
                labels.add(ref.upper())
        return labels

    def _apply_context(
        self, n: int, targets: list[_Target], starts: list[int], lowers: list[str]
    ) -> dict[int, list[Any]]:
        """medspaCy's ConText algorithm, matching modifiers only in sentences with a target.

        Same steps as ``ConText.__call__`` (match, prune overlaps, scope, terminate, link), but
        ConText matches its rules over the whole doc, and most sentences of a note hold no
        finding (medspaCy PR #314 proposed the same, ``match_target_sents_only``).  Scopes are
        computed here from our sentence starts, as ``ConTextModifier`` would from ``token.sent``
        (which spaCy answers by rescanning the doc on every call).
        """

        def sentence(i: int) -> tuple[int, int]:
            k = bisect_right(starts, i) - 1
            return starts[k], starts[k + 1] if k + 1 < len(starts) else n

        # A few tokens past the sentence end: a trigger starting in the sentence may run on
        # ("Saddle anaesthesia? No.").
        ranges = sorted({(a, min(n, b + 3)) for a, b in (sentence(t.start) for t in targets)})
        # One pass of the matcher over those sentences, for triggers that start in them.
        keep = [False] * n
        for start, end in ranges:
            keep[start:end] = [True] * (end - start)
        tried = [i for i, kept in enumerate(keep) if kept]
        found = {(m.key, m.start, m.end) for m in self._modifier_matcher(lowers, tried)}
        matches = prune_overlapping_matches(sorted(found)) if found else []
        # A phrase in two rules ("unclear" looks forward in one and back in the other) is two
        # modifiers: medspaCy's pruning would keep only one of the two identical spans.
        spans = {(start, end) for _, start, end in matches}
        matches = sorted((m for m in found if (m[1], m[2]) in spans), key=lambda m: (m[1], m[2]))
        # A scope never leaves its sentence, so one ConText graph per sentence gives the same
        # edges as one per doc, without comparing every pair across the doc.
        by_sentence: dict[int, tuple[list[_Target], list[Any]]] = {}
        for target in targets:
            by_sentence.setdefault(sentence(target.start)[0], ([], []))[0].append(target)
        for key, m_start, m_end in matches:
            bounds = sentence(m_start)
            if bounds[0] not in by_sentence:
                continue
            rule = self._modifier_rules[key]
            scope = _scope(rule.direction, rule.max_scope, m_start, m_end, bounds)
            sentence_targets, sentence_modifiers = by_sentence[bounds[0]]
            if rule.direction.lower() == "backward":
                scope = _backward_list(scope, m_start, lowers, bounds[0], sentence_targets)
            sentence_modifiers.append(ConTextModifier(rule, m_start, m_end, None, *scope))
        # The edges, by target (ConText would store them in ``span._.modifiers``, an extension
        # attribute that is slow to write).
        linked: dict[int, list[Any]] = {}
        for sentence_targets, modifiers in by_sentence.values():
            if not modifiers:
                continue
            graph = ConTextGraph(prune_on_modifier_overlap=False)
            graph.targets = sentence_targets
            graph.modifiers = modifiers
            graph.update_scopes()
            graph.apply_modifiers()
            for target, modifier in graph.edges:
                linked.setdefault(id(target), []).append(modifier)
        return linked

    def tokenize(self, text: str) -> list[str]:
        return [t.text for t in self.nlp.tokenizer(text)]

    def mentions(self, text: str) -> Iterator[Mention]:
        """Every target mention in ``text``, in order, with offsets into ``text``."""
        for offset, chunk in _chunks(text):
            yield from self._read_chunk(chunk, offset)

    def _read_chunk(self, chunk: str, offset: int) -> Iterator[Mention]:
        # A trailing newline gives a trigger at the very end ("wt loss N") a token to follow.
        # The tokens of ``nlp.make_doc``, without the Doc (see :mod:`.tokens`).  A token's
        # character offset is the sum of the lengths before it (a Doc's text is its tokens'
        # text and trailing spaces, in order).
        texts, lowers, spaces = self._tokens(chunk + "\n")
        idx = [0, *accumulate(map(add, map(len, texts), spaces))]
        kept = [i for i, text in enumerate(texts) if not text.isspace()]
        seen: set[tuple[int, int, str]] = set()
        spans: list[_Target] = []
        for match in self.matcher([lowers[i] for i in kept]):
            label, literal = self._target_info[match.key]
            start, end = kept[match.start], kept[match.end - 1] + 1
            if (start, end, label) not in seen:
                seen.add((start, end, label))
                last = end - 1
                spans.append(
                    _Target(start, end, label, idx[start], idx[last] + len(texts[last]), literal)
                )
        if not spans:
            return  # nothing for ConText to modify (most lines of a long note)
        starts = _sentence_starts(texts, spaces)
        spans = _resolve_overlaps(spans)
        linked = self._apply_context(len(texts), spans, starts, lowers)
        for span in spans:
            categories = set()
            modifiers: list[Modifier] = []
            ev_start, ev_end = span.start_char, span.end_char
            for modifier in linked.get(id(span), ()):
                m_start, m_end = modifier.modifier_span
                if span.start <= m_start and m_end <= span.end:
                    # medspaCy's overlap test misses a trigger strictly inside the target
                    # ("previous" in "no previous episodes"); the target already says it.
                    continue
                first_char = idx[m_start]
                m_end_char = idx[m_end - 1] + len(texts[m_end - 1])
                if not _query_attaches(chunk, first_char, m_end_char, span):
                    continue
                categories.add(modifier.category)
                modifiers.append(
                    Modifier(modifier.category, offset + first_char, offset + m_end_char)
                )
                ev_start = min(ev_start, first_char)
                ev_end = max(ev_end, m_end_char)
            ev_end = min(ev_end, len(chunk))
            yield Mention(
                concept=span.label_.lower(),
                start=offset + span.start_char,
                end=offset + span.end_char,
                categories=frozenset(categories),
                modifiers=tuple(modifiers),
                evidence_start=offset + ev_start,
                evidence_end=offset + ev_end,
                literal=span.literal,
            )


def _scope(
    direction: str, max_scope: int | None, start: int, end: int, sentence: tuple[int, int]
) -> tuple[int, int]:
    """A modifier's scope within its sentence, as ``ConTextModifier.__set_scope`` sets it."""
    sent_start, sent_end = sentence
    direction = direction.lower()
    if direction == "forward":
        lo, hi = end, sent_end
        if max_scope is not None and hi - lo > max_scope:
            hi = end + max_scope
    elif direction == "backward":
        lo, hi = sent_start, start
        if max_scope is not None and hi - lo > max_scope:
            lo = start - max_scope
    else:
        lo, hi = sent_start, sent_end
        if max_scope is not None and start - lo > max_scope:
            lo = start - max_scope
        if max_scope is not None and hi - end > max_scope:
            hi = end + max_scope
    return lo, hi


#: Tokens that separate the items of a list ("fever, wt loss; hx ca").
_ITEM_BREAKS = frozenset({",", ";"})


def _backward_list(
    scope: tuple[int, int],
    start: int,
    lowers: list[str],
    sentence_start: int,
    targets: list[_Target],
) -> tuple[int, int]:
    """The scope of a trigger that looks back ("negative", ": none", "unclear"), cut to the
    list of items it ends.

    It reaches back item by item (items are separated by commas or semicolons) while each item
    holds a target, and stops at the first that holds none: in "history of breast cancer, CXR
    negative" and "saddle anaesthesia, PR exam negative" the denial is the test's, not the
    finding's.  A list in brackets right before the trigger is reached whole, however long
    ("Red flags (fever, wt loss, hx ca): none").  A comma right before the trigger belongs to
    it ("fever, no").
    """
    lo, hi = scope
    pos = start
    # The tokenizer may keep a bracket and the colon after it together ("):").
    if pos > sentence_start and lowers[pos - 1].startswith(")"):
        for k in range(pos - 2, sentence_start - 1, -1):
            if lowers[k].startswith(")"):
                break
            if lowers[k] == "(":
                lo = min(lo, k + 1)
                break
    if pos > lo and lowers[pos - 1] in _ITEM_BREAKS:
        pos -= 1
    reach = pos
    while pos > lo:
        k = pos - 1
        while k >= lo and lowers[k] not in _ITEM_BREAKS:
            k -= 1
        item_start = max(k + 1, lo)
        # A target the trigger ends ("SLR neg") is the trigger's own, not a list item.
        if not any(t.start < pos and item_start < t.end <= start for t in targets):
            break
        reach = item_start
        pos = k
    return reach, hi


def _query_attaches(text: str, start: int, end: int, target: _Target) -> bool:
    """Whether a "?" modifier belongs to ``target``: "?CES" and "? CES" query what follows,
    "numbness?" what precedes; any other modifier always attaches."""
    if text[start:end] not in QUERY_MARKS:
        return True
    if target.start_char >= end:
        # "?CES" or "? CES": the query touches the next word only.
        detached = start == 0 or text[start - 1].isspace() or text[start - 1] in "(,;:"
        return detached and not text[end : target.start_char].strip()
    return start > 0 and not text[start - 1].isspace()


def _resolve_overlaps(spans: list[_Target]) -> list[_Target]:
    """Drop a span inside a longer one; keep identical spans of different concepts.

    The longer phrase decides ("faecal incontinence" is not also a bare "incontinence"); a
    phrase that also means another concept says so with ``implies`` in its rule.
    """
    ordered = sorted(spans, key=lambda s: (s.start, -(s.end - s.start)))
    kept: list[_Target] = []
    # The kept spans that end after the current start: only those can cover or cross a span,
    # and the starts only grow.
    active: list[_Target] = []
    seen: set[tuple[int, int, str]] = set()
    for span in ordered:
        start, end = span.start, span.end
        key = (start, end, span.label_)
        if key in seen:
            continue
        if active:
            active = [k for k in active if k.end > start]
        length = end - start
        for k in active:
            k_length = k.end - k.start
            # Covered by a longer span, or crossed by one at least as long that starts before.
            if (k.start <= start and end <= k.end and k_length > length) or (
                k.start < start < k.end < end and k_length >= length
            ):
                break
        else:
            seen.add(key)
            kept.append(span)
            active.append(span)
    return sorted(kept, key=lambda s: (s.start, s.end))


def _chunks(text: str) -> Iterator[tuple[int, str]]:
    """Split ``text`` into (offset, chunk) of whole lines, each at most ~CHUNK_CHARS long."""
    start = 0
    n = len(text)
    while start < n:
        if n - start <= CHUNK_CHARS:
            yield start, text[start:]
            return
        # Prefer a line break that starts a new sentence (not a hard-wrapped continuation).
        cut = text.rfind("\n", start, start + CHUNK_CHARS)
        while cut > start and text[cut + 1 : cut + 2].islower():
            cut = text.rfind("\n", start, cut)
        if cut <= start:
            cut = text.rfind("\n", start, start + CHUNK_CHARS)
        if cut <= start:
            cut = text.rfind(". ", start, start + CHUNK_CHARS)
        if cut <= start:
            cut = text.rfind(" ", start, start + CHUNK_CHARS)
        if cut <= start:
            cut = start + CHUNK_CHARS - 1
        yield start, text[start : cut + 1]
        start = cut + 1

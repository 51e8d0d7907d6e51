"""``TextReader``: a complaint and a clinical note in, a ``Reading`` out.

The reader checks the input (text, not binary; within the size limit; English), finds
section headers, runs the pipeline (targets + ConText), judges each mention, and resolves
the mentions of each finding into one state:

- a family, hypothetical, uncertain or (for non-history findings) past mention sets nothing
  and is listed in ``uncertain``;
- a mention in a form's item reads as its box or answer says (:mod:`.forms`): an unticked box
  or an unanswered question sets nothing (it is not a denial) and is listed in ``uncertain``;
- a finding mentioned both present and absent is read as present — the safer reading for a
  screen that must never under-triage (this includes "initially denied X; on re-questioning
  reports X") — and the contradiction is listed in ``conflicts``.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal, TypeVar

from backtriage.case import Evidence
from backtriage.errors import TextError
from backtriage.text.forms import FormFinder, FormItem
from backtriage.text.language import looks_english
from backtriage.text.pipeline import QUERY_MARKS, Mention, Modifier, Pipeline, blank_english
from backtriage.text.reading import Conflict, Reading, State, Uncertain, Why
from backtriage.text.rules import Concept, Rules, load_rules
from backtriage.text.sections import SectionFinder, SectionIndex
from backtriage.text.values import (
    Found,
    find_age_sex,
    find_conservative_weeks,
    find_duration,
    find_location,
    find_measurements,
)

Source = Literal["complaint", "note"]
_T = TypeVar("_T")

# The case format allows a million characters per text field; the same limit here.
MAX_CHARS = 1_000_000
# A pasted record can repeat a phrase thousands of times; a report needs the first few.
MAX_SPANS = 20
MAX_UNCERTAIN = 200
_RECHECKED = re.compile(
    r"re-?question|further question|direct question|on re-?examination|on review|later|"
    r"subsequently|now (?:admits|reports|describes)|admits|on second|when asked again",
    re.IGNORECASE,
)
# Every place in a text where one of those phrases starts (they overlap in "now admits"), for
# ``_Rechecked``.  The leading lookahead (their first letters) changes no match and saves
# trying each phrase at every character.
_RECHECKED_AT = re.compile(r"(?=[adflnorsw])(?=(" + _RECHECKED.pattern + "))", re.IGNORECASE)
# Control characters (not tab/newline/CR/FF/VT), the replacement character left by a bad
# decode, lone surrogates and private-use characters: the marks of binary data.
_BINARY = re.compile("[\x00-\x08\x0e-\x1f\x7f\ufffd\ud800-\udfff\ue000-\uf8ff]")


@dataclass
class _Judged:
    finding: str
    state: State | None  # None: not set (see why)
    why: Why | None
    order: int
    # The evidence span; its pydantic ``Evidence`` is built only if the reading shows it (a
    # long note has many more mentions than a report lists).
    source: Source
    text: str
    start: int
    end: int
    detail: str
    # Doubted by a query ("?pulsatile mass") or an unclear list: a denial elsewhere does not
    # make the finding absent.
    doubts: bool = False
    _evidence: Evidence | None = None

    @property
    def evidence(self) -> Evidence:
        if self._evidence is None:
            self._evidence = Evidence(
                source=self.source,
                text=self.text[self.start : self.end],
                start=self.start,
                end=self.end,
                detail=self.detail,
            )
        return self._evidence


class TextReader:
    """Reads free text into tri-state findings and values.  Load once, call ``read`` often.

    Loading compiles the packaged rule files (a broken file raises ``KnowledgeError``).  ``read``
    is pure and deterministic: the same texts and date give the same ``Reading``.
    """

    def __init__(self) -> None:
        self._pipeline = _build()
        self.rules: Rules = self._pipeline.rules
        self._sections = SectionFinder(self.rules.sections)
        self._forms = FormFinder(self.rules.forms)
        # Per concept: every finding it speaks of (implied ones last), and its own findings
        # (``Concept`` computes both lists on each call).
        self._findings_of = {
            cid: (tuple(concept.all_findings), frozenset(concept.finding_ids))
            for cid, concept in self.rules.concepts.items()
        }

    @property
    def finding_ids(self) -> list[str]:
        """Every finding id this reader can set."""
        return self.rules.finding_ids

    def read(
        self, complaint: str | None = None, note: str | None = None, today: date | None = None
    ) -> Reading:
        """Read ``complaint`` and ``note`` (either may be None); ``today`` dates "since Monday"."""
        sources: list[tuple[Source, str]] = []
        for name, text in (("complaint", complaint), ("note", note)):
            if text is None:
                continue
            _check(name, text)
            sources.append((name, text))  # type: ignore[arg-type]

        warnings: list[str] = []
        judged: list[_Judged] = []
        readable: list[tuple[Source, str]] = []
        for name, text in sources:
            if not text.strip():
                continue
            if not looks_english(text):
                warnings.append(
                    f"the {name} does not look like English; nothing was read from it "
                    "(the rules are English only)"
                )
                continue
            readable.append((name, text))
            judged.extend(self._judge_source(name, text, len(judged)))

        fields: dict[str, object] = {}
        evidence: dict[str, list[Evidence]] = {}
        self._read_values(readable, today, fields, evidence, warnings)
        findings, conflicts = _resolve(judged, evidence, dict(readable), warnings)
        # Only the listed ones are built: a pasted form may leave thousands of boxes unticked.
        not_set = [j for j in judged if j.state is None]
        uncertain = [
            Uncertain(
                finding=j.finding,
                why=j.why or "uncertain",
                evidence=j.evidence,
                detail=_WHY_TEXT[j.why or "uncertain"],
            )
            for j in not_set[:MAX_UNCERTAIN]
        ]
        if len(not_set) > MAX_UNCERTAIN:
            warnings.append(
                f"{len(not_set) - MAX_UNCERTAIN} more uncertain mentions were not listed"
            )
        return Reading(
            findings=findings,
            evidence=evidence,
            uncertain=uncertain,
            conflicts=conflicts,
            warnings=warnings,
            **fields,
        )

    # --- findings ------------------------------------------------------------------------
    def _judge_source(self, source: Source, text: str, order0: int) -> list[_Judged]:
        index = SectionIndex(self._sections.find(text))
        forms = self._forms.find(text)
        out: list[_Judged] = []
        for mention in self._pipeline.mentions(text):
            concept = self.rules.concepts.get(mention.concept)
            if concept is None or concept.ignore:
                continue
            section = index.at(mention.start)
            policy = section.section.policy if section is not None else "none"
            item = forms.at(mention.start) if forms else None
            if item is not None:
                mention = forms.own(mention, item, text)
            answered_no = False
            if concept.asserts == "absent":
                # "Anal tone normal? No": the text's own answer (a form's box is the form's).
                answer_end = _answered_no(text, mention, item.end if item else len(text))
                if answer_end is not None:
                    answered_no = True
                    mention = mention._replace(evidence_end=max(mention.evidence_end, answer_end))
            all_findings, own_findings = self._findings_of[mention.concept]
            for finding in all_findings:
                state, why = self._judge(text, mention, concept, finding, policy, answered_no)
                if item is not None:
                    state, why = _answered(item, concept, state, why)
                if finding not in own_findings and state != "present":
                    continue  # an implied finding follows only a positive mention
                start, end, detail = _evidence(mention, concept, state, why)
                doubts = why == "unclear_list" or (why == "uncertain" and _queried(text, mention))
                out.append(
                    _Judged(
                        finding, state, why, order0 + len(out), source, text, start, end, detail,
                        doubts,
                    )
                )  # fmt: skip
        return out

    def _judge(
        self,
        text: str,
        mention: Mention,
        concept: Concept,
        finding: str,
        policy: str,
        answered_no: bool = False,
    ) -> tuple[State | None, Why | None]:
        cats = mention.categories
        # "never had cancer until last year", "no fever until yesterday": it began then.
        began = _UNTIL.match(text, mention.end) is not None
        negated = "NEGATED_EXISTENCE" in cats and not began
        if negated and (concept.negation == "adjacent" or _positive_after(text, mention)):
            # "no fever, weight loss present": the list's denial stops at a stated positive.
            negated = _negation_adjacent(text, mention)
        negated = negated or policy == "negated_list"
        family = "FAMILY" in cats or policy == "family"
        hypothetical = "HYPOTHETICAL" in cats or policy == "hypothetical"
        possible = concept.possible or (
            "POSSIBLE_EXISTENCE" in cats and not _answered_yes(text, mention)
        )
        historical = "HISTORICAL" in cats or policy == "historical"
        if family:
            return None, "family"
        if hypothetical:
            return None, "hypothetical"
        if answered_no:
            # A normal asked and answered no ("Anal tone normal? No") says it is not normal,
            # not how: no denial.  Where the "no" is the finding ("Can you feel the paper when
            # you wipe? No"), it states it.
            if historical or began:
                return None, "qualified"
            return _no_to_normal(concept) or (None, "qualified")
        if possible:
            return None, "uncertain"
        if concept.asserts == "absent":
            # "not neurologically intact" or "previously afebrile" say nothing definite; but a
            # list's denial running on ("no saddle anaesthesia, B&B normal") is no qualifier.
            # A normal function whose "no" is the finding is never denied into a normal: "she
            # doesn't really have control of her bladder".
            if (
                historical
                or began
                or (
                    negated
                    and (
                        (concept.no_means_present and concept.any_denial_qualifies)
                        or _negation_adjacent(text, mention)
                    )
                )
            ):
                return None, "qualified"
            return "absent", None
        if negated:
            if _unclear_denial(text, mention):
                return None, "unclear_list"
            return "absent", None
        if concept.vague:
            return None, "non_specific"
        if historical and finding not in self.rules.history_ids:
            return None, "historical"
        return "present", None

    # --- values --------------------------------------------------------------------------
    def _read_values(
        self,
        sources: list[tuple[Source, str]],
        today: date | None,
        fields: dict[str, object],
        evidence: dict[str, list[Evidence]],
        warnings: list[str],
    ) -> None:
        def first(finder: Callable[[str], _T | None]) -> tuple[Source, str, _T] | None:
            for name, text in sources:
                found = finder(text)
                if found is not None:
                    return name, text, found
            return None

        def put(key: str, name: Source, text: str, start: int, end: int, detail: str) -> None:
            evidence[key] = [
                Evidence(source=name, text=text[start:end], start=start, end=end, detail=detail)
            ]

        for name, text in sources:
            age, sex = find_age_sex(text)
            if age is not None and "age" not in fields:
                fields["age"] = age.value
                put("age", name, text, age.start, age.end, f"age {age.value}")
            if sex is not None and "sex" not in fields:
                fields["sex"] = sex.value
                put("sex", name, text, sex.start, sex.end, sex.value)
        dur = first(lambda t: find_duration(t, today))
        if dur is not None:
            name, text, found = dur
            fields["duration_days"] = found.value
            put("duration_days", name, text, found.start, found.end, f"{found.value} days")
        care = first(find_conservative_weeks)
        if care is not None:
            name, text, found_w = care
            fields["conservative_therapy_weeks"] = found_w.value
            put("conservative_therapy_weeks", name, text, found_w.start, found_w.end,
                f"{found_w.value} weeks")  # fmt: skip
        loc = first(find_location)
        if loc is not None:
            name, text, location = loc
            fields["location"] = location.location
            fields["side"] = location.side
            put("location", name, text, location.start, location.end, location.location or "")
        # Every stated value is kept as evidence; the highest is used: a normal reading later
        # in a note ("T 39.4 overnight, 37.2 now") must not hide a red flag.
        stated: dict[str, list[tuple[Source, str, Found[float]]]] = {}
        for name, text in sources:
            for key, values in find_measurements(text).items():
                stated.setdefault(key, []).extend((name, text, found) for found in values)
        measurements: dict[str, float] = {}
        for key, all_stated in stated.items():
            best = max(all_stated, key=lambda stated_one: stated_one[2].value)
            used = best[2]
            measurements[key] = used.value
            detail = f"{key} = {used.value}"
            if len(all_stated) > 1:
                detail += f", the highest of {len(all_stated)} stated"
            put(f"measurements.{key}", best[0], best[1], used.start, used.end, detail)
            if len(all_stated) == 1:
                continue
            evidence[f"measurements.{key}"].extend(
                Evidence(source=source, text=source_text[other.start : other.end],
                         start=other.start, end=other.end,
                         detail=f"{key} = {other.value}, also stated")
                for source, source_text, other in all_stated
                if other is not used
            )  # fmt: skip
            listed = ", ".join(f"{found[2].value:g}" for found in all_stated)
            warnings.append(
                f"{key}: {len(all_stated)} values stated ({listed}); the highest, "
                f"{used.value:g}, is used"
            )
        fields["measurements"] = measurements


_WHY_TEXT: dict[Why, str] = {
    "family": "about a family member, not the patient",
    "hypothetical": "advice or a hypothetical (what to watch for), not a finding",
    "uncertain": "stated as uncertain or to be checked",
    "historical": "mentioned as past, not as current",
    "non_specific": "too vague to say which finding: ask",
    "qualified": "a normal finding stated with a qualification: not read as absent",
    "unclear_list": "a 'no' before a comma may not reach it ('no fever, numbness'): ask",
    "unanswered": "a form's box left unticked or its question unanswered (not a denial): ask",
    "unclear_form": "a form's answer that cannot be read with confidence: ask",
}


def _answered(
    item: FormItem, concept: Concept, state: State | None, why: Why | None
) -> tuple[State | None, Why | None]:
    """A mention in a form's item, judged as written, then as the form answers it.

    Ticked (or "yes"), the item reads as written ("[x] No fever" is a denial).  Ticked "no", a
    plain or vague statement is denied ("Bladder or bowel problems: Y [ ] N [x]"); a question of
    normal function whose "no" is the finding states it ("Can you feel the paper when you wipe?
    No [x]"); any other denial or normal answered "no" is not read (a double negative).  Not
    ticked, not answered, or unclear: not read, whatever it says ("[ ] No fever" is no denial).
    Someone else's, a past or a hypothetical item stays so whatever the answer.
    """
    if item.answer == "yes" or why in _NOT_THE_PATIENTS_NOW:
        return state, why
    if item.answer == "no" and (state == "present" or why == "non_specific"):
        return "absent", None
    if item.answer == "no" and state == "absent":
        flipped = _no_to_normal(concept)
        if flipped is not None:
            return flipped
    return None, "unclear_form" if item.answer in ("no", "unclear") else "unanswered"


def _no_to_normal(concept: Concept) -> tuple[State | None, Why | None] | None:
    """What "no" to a normal function says (``no_means_present``): its finding present, or, if
    the concept is vague ("Can you control your bladder and bowels? No"), each one to ask.
    None for any other normal: its "no" says nothing definite."""
    if not concept.no_means_present:
        return None
    return (None, "non_specific") if concept.vague else ("present", None)


# Whys that say the mention is not about the patient now: a form's answer does not change them.
_NOT_THE_PATIENTS_NOW: frozenset[Why | None] = frozenset({"family", "hypothetical", "historical"})

_LIST_WORD = re.compile(r"(?<![a-z])(?:or|and|nor)(?![a-z])|/", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[.;:!?\n]")
_BARE_NO = re.compile(r"(?:no|nil|not)", re.IGNORECASE)


def _unclear_denial(text: str, mention: Mention) -> bool:
    """ "No fever, numbness in the left foot": a bare "no", then one comma, then this mention,
    and no list word (or, and, nor) or further comma in the clause — the comma may end the
    denial as well as continue it.  Read as absent, a present red flag would be hidden; so it is
    left unknown and asked.  "No fever, chills or weight loss" and "denies fever, weight loss"
    are lists, read as denials."""
    before = [
        m for m in mention.modifiers if m.category == "NEGATED_EXISTENCE" and m.end <= mention.start
    ]
    if not before:
        return False
    trigger = max(before, key=lambda m: m.end)
    if _BARE_NO.fullmatch(text[trigger.start : trigger.end]) is None:
        return False
    between = text[trigger.end : mention.start]
    if between.count(",") != 1 or _LIST_WORD.search(between) or _CLAUSE_END.search(between):
        return False
    rest = text[mention.end :]
    stop = _CLAUSE_END.search(rest)
    rest = rest[: stop.start() if stop else len(rest)]
    return "," not in rest and _LIST_WORD.search(rest) is None


def _negation_adjacent(text: str, mention: Mention) -> bool:
    """A negation right next to the target ("not neuro intact", "SLR positive: no")."""
    for m in mention.modifiers:
        if m.category != "NEGATED_EXISTENCE":
            continue
        if m.end <= mention.start and not text[m.end : mention.start].strip():
            return True
        if m.start >= mention.end and not text[mention.end : m.start].strip(" \t:-="):
            return True
    return False


# "Never had cancer until last year", "no fever until yesterday": it began then.
_UNTIL = re.compile(r"[ \t]*,?[ \t]*(?:until|till|til)\b", re.IGNORECASE)

_POSITIVE_AFTER = re.compile(
    r"[ \t]*[:=-]?[ \t]*(?:present|positive|\+ve|\+|yes|y|noted|reported|confirmed)(?![a-z])",
    re.IGNORECASE,
)


# A phrase that says it is positive itself ("HIV positive", "HIV +ve").
_POSITIVE_END = re.compile(r"(?<![a-z])(?:positive|pos|\+ve|\+)$", re.IGNORECASE)


def _positive_after(text: str, mention: Mention) -> bool:
    """The target is stated positive right after it ("weight loss present", "fever: yes") or
    by its own last word ("HIV positive")."""
    return (
        _POSITIVE_AFTER.match(text, mention.end) is not None
        or _POSITIVE_END.search(text, mention.start, mention.end) is not None
    )


# "Urinary retention? Yes", "Q: Urinary retention? A: yes", the answer on the next line.
_YES_ANSWER = re.compile(
    r"\s*(?:(?:a|ans|answer)\s*[:.)-]\s*)?(?:yes|y|present|positive|\+ve|\+)(?![a-z])",
    re.IGNORECASE,
)


# What may stand between the finding and its question mark: nothing, or a few more words of
# the same question ("numbness around back passage/genitals?"), not a new sentence.
_QUESTION_TAIL = re.compile(r"[^.;!?\n]{0,40}")

# A normal asked and answered no, after a few more words of the same question (no comma: in
# "B&B normal, fever: no" the "no" is the fever's): "Anal tone normal? No", "Bladder function
# normal? A: no", "Saddle sensation normal - N".  The "no" ends its answer ("? No change" is
# no answer).
_NO_ANSWER = re.compile(
    r"[^,.;:!?=\-\u2013\n]{0,40}?[ \t]*(?:\?+|[:=\-\u2013])\s*"
    r"(?:(?:a|ans|answer)[ \t]*[:.)\-][ \t]*)?(?:no|n|nil|none|neg|negative|-ve)"
    r"(?![\w/'])(?=[ \t]*(?:$|[\n.,;:!)\-\u2013]))",
    re.IGNORECASE,
)


def _answered_no(text: str, mention: Mention, end: int) -> int | None:
    """Where the "no" that answers a normal ends, if ``text[:end]`` answers it right after it.
    Not left to ConText: a "no" a few words on ("Is your bladder function normal at the moment?
    No") was taken for a list's denial running on, or was out of its reach, and either way the
    normal was read as stated (absent)."""
    m = _NO_ANSWER.match(text, mention.end, end)
    return m.end() if m is not None else None


def _answered_yes(text: str, mention: Mention) -> bool:
    """A form's question answered yes ("Urinary retention? Yes."): its "?" is the only
    uncertainty, and it asks rather than doubts."""
    queries = [m for m in mention.modifiers if m.category == "POSSIBLE_EXISTENCE"]
    return all(
        _is_query(text, m)
        and m.start >= mention.end
        and _QUESTION_TAIL.fullmatch(text, mention.end, m.start) is not None
        and _YES_ANSWER.match(text, m.end) is not None
        for m in queries
    )


def _evidence(
    mention: Mention, concept: Concept, state: State | None, why: Why | None
) -> tuple[int, int, str]:
    """The evidence span of a judged mention (start, end) and its detail."""
    # Present: the phrase itself; absent or not read: the phrase with the words that changed it
    # ("denies ... saddle anaesthesia").
    if state == "present" and concept.asserts == "absent":
        # A normal function answered no: the question and its answer ("Can you feel ...? No").
        start, end = mention.evidence_start, mention.evidence_end
        detail = "a normal function answered no"
    elif state == "present":
        start, end = mention.start, mention.end
        detail = "stated"
    else:
        start, end = mention.evidence_start, mention.evidence_end
        if state == "absent":
            detail = "stated normal" if concept.asserts == "absent" else "denied"
        else:
            detail = _WHY_TEXT[why or "uncertain"]
    return start, end, f"{detail} (rule {concept.id})"


def _queried(text: str, mention: Mention) -> bool:
    """A "?" makes the mention uncertain ("?pulsatile mass", "saddle numbness?"); a worry
    ("worried it might be cancer") or a plan ("to rule out") does not doubt a denial."""
    return any(_is_query(text, m) for m in mention.modifiers)


def _is_query(text: str, modifier: Modifier) -> bool:
    """A "?" modifier (ConText reads it as POSSIBLE_EXISTENCE)."""
    return modifier.category == "POSSIBLE_EXISTENCE" and text[modifier.start : modifier.end] in (
        QUERY_MARKS
    )


def _quote(j: _Judged) -> str:
    return " ".join(j.text[j.start : j.end].split())


def _resolve(
    judged: Iterable[_Judged],
    evidence: dict[str, list[Evidence]],
    texts: dict[Source, str],
    warnings: list[str],
) -> tuple[dict[str, State], list[Conflict]]:
    present: dict[str, list[_Judged]] = {}
    absent: dict[str, list[_Judged]] = {}
    doubted: dict[str, list[_Judged]] = {}
    for j in judged:
        if j.state == "present":
            present.setdefault(j.finding, []).append(j)
        elif j.state == "absent":
            absent.setdefault(j.finding, []).append(j)
        elif j.doubts:
            doubted.setdefault(j.finding, []).append(j)
    findings: dict[str, State] = {}
    conflicts: list[Conflict] = []
    rechecked = _Rechecked(texts)
    for finding in sorted(set(present) | set(absent)):
        pos, neg = present.get(finding, []), absent.get(finding, [])
        if not pos and finding in doubted:
            # "Abdo soft, ?pulsatile mass": a normal or a denial, and a query of the same
            # finding (or a "no" whose reach is unclear).  Unknown is not absent: it is left
            # unknown (the query is in ``uncertain``) and both are quoted.
            query, denial = doubted[finding][0], neg[0]
            warnings.append(
                f"{finding}: read as absent ('{_quote(denial)}') and as uncertain "
                f"('{_quote(query)}'): left unknown, ask"
            )
            continue
        chosen = pos or neg
        findings[finding] = "present" if pos else "absent"
        evidence[finding] = [j.evidence for j in chosen[:MAX_SPANS]]
        if len(chosen) > MAX_SPANS:
            warnings.append(
                f"{finding}: {len(chosen)} mentions; only the first {MAX_SPANS} are listed"
            )
        if pos and neg:
            conflicts.append(
                Conflict(
                    finding=finding,
                    chosen="present",
                    present=[j.evidence for j in pos[:MAX_SPANS]],
                    absent=[j.evidence for j in neg[:MAX_SPANS]],
                    why=_conflict_why(pos, neg, rechecked),
                )
            )
    return findings, conflicts


class _Rechecked:
    """Whether ``_RECHECKED`` matches within ``text[start:end]``, for many spans of a text.

    A long note has many conflicts, and searching the text between each pair of mentions cost
    ~1 ms per note; here the text is scanned once.  No phrase of ``_RECHECKED`` is a prefix of
    another, so at most one matches at a position, and the search over ``text[start:end]``
    succeeds exactly when a phrase starts at or after ``start`` and ends by ``end``.
    """

    def __init__(self, texts: dict[Source, str]) -> None:
        self._texts = texts
        self._found: dict[Source, tuple[list[int], list[int]]] = {}

    def between(self, source: Source, start: int, end: int) -> bool:
        if source not in self._found:
            text = self._texts.get(source, "")
            matches = [
                (m.start(), m.start() + len(m.group(1))) for m in _RECHECKED_AT.finditer(text)
            ]
            self._found[source] = ([s for s, _ in matches], [e for _, e in matches])
        starts, ends = self._found[source]
        i = bisect_left(starts, start)
        while i < len(starts) and starts[i] < end:
            if ends[i] <= end:
                return True
            i += 1
        return False


def _conflict_why(pos: list[_Judged], neg: list[_Judged], rechecked: _Rechecked) -> str:
    first_neg = min(neg, key=lambda j: j.order)
    last_pos = max(pos, key=lambda j: j.order)
    if first_neg.order < last_pos.order:
        a, b = first_neg, last_pos
        # A phrase of _RECHECKED in the text between the two mentions.
        again = a.source == b.source and rechecked.between(a.source, a.end, b.end)
        how = "on re-questioning" if again else "later"
        return f"first denied, {how} stated present: read as present"
    return (
        "the text states both; read as present, the safer reading for a screen that must "
        "never under-triage"
    )


def _check(name: str, text: object) -> None:
    if not isinstance(text, str):
        raise TextError(
            f"the {name} must be text (a string), not {type(text).__name__}; "
            "decode it as UTF-8 first"
        )
    if len(text) > MAX_CHARS:
        raise TextError(
            f"the {name} is {len(text):,} characters long; the limit is {MAX_CHARS:,}. "
            "Give the relevant note only."
        )
    if "\x00" in text:
        raise TextError(f"the {name} contains NUL bytes: it looks like binary data, not text")
    sample = text[:20_000]
    bad = len(_BINARY.findall(sample))
    if bad > max(3, len(sample) // 20):
        raise TextError(
            f"the {name} looks like binary data, not text ({bad} control or undecodable "
            f"characters in the first {len(sample):,}); paste the note as plain text"
        )


def _build() -> Pipeline:
    # The rules are compiled with the pipeline's own tokenizer, so build that first.
    nlp = blank_english()
    exceptions = {key.lower() for key in getattr(nlp.tokenizer, "rules", None) or {}}

    def tokenize(word: str) -> list[str]:
        # A plain alphabetic word is one token unless it is a tokenizer exception ("cannot");
        # skipping the tokenizer for those halves the load time.
        if word.isalpha() and word.isascii() and word.lower() not in exceptions:
            return [word]
        return [t.text for t in nlp.tokenizer(word)]

    rules = load_rules(tokenize)
    return Pipeline(rules, nlp)

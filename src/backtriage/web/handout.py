"""The patient handout: plain-language sentences from ``data/handout.yaml``, chosen by what the
assessment says (most likely diagnosis, urgency, suspected red-flag conditions, imaging ordered).

The file is validated against the knowledge base at load, all problems at once: every condition
and urgency has its sentences, every citation is a known reference id, and the only placeholder is
``{when}``.  Choosing sentences by the assessment's own fields decides nothing clinical.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from backtriage.assessment import Assessment
from backtriage.errors import KnowledgeError
from backtriage.knowledge import Knowledge
from backtriage.knowledge.loader import validated

FILE = "web/data/handout.yaml"
PLACEHOLDERS = {"when"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sentence(_Strict):
    text: str
    cite: list[str] = Field(min_length=1)


class _Diagnosis(_Strict):
    name: str
    what: list[Sentence] = Field(min_length=1)
    do: list[Sentence] = Field(min_length=1)
    avoid: list[Sentence] = Field(min_length=1)


class _Urgency(_Strict):
    now: Sentence
    come_back: Sentence


class _Imaging(_Strict):
    none: Sentence
    ordered: Sentence


class _SeeDoctor(_Strict):
    intro: Sentence
    signs: list[Sentence] = Field(min_length=1)


class _Warnings(_Strict):
    intro: Sentence
    signs: list[Sentence] = Field(min_length=1)
    see_doctor: _SeeDoctor


class HandoutFile(_Strict):
    schema_version: int
    most_likely: dict[str, _Diagnosis]
    urgency: dict[str, _Urgency]
    imaging: _Imaging
    warning_signs: _Warnings

    def sentences(self) -> list[tuple[str, Sentence]]:
        """Every sentence with where it is in the file (for checks and for tests)."""
        out: list[tuple[str, Sentence]] = []
        for cid, d in self.most_likely.items():
            for part in ("what", "do", "avoid"):
                out += [(f"most_likely.{cid}.{part}", s) for s in getattr(d, part)]
        for level, u in self.urgency.items():
            out += [(f"urgency.{level}.now", u.now), (f"urgency.{level}.come_back", u.come_back)]
        out += [("imaging.none", self.imaging.none), ("imaging.ordered", self.imaging.ordered)]
        w = self.warning_signs
        out += [
            ("warning_signs.intro", w.intro),
            ("warning_signs.see_doctor.intro", w.see_doctor.intro),
        ]
        out += [("warning_signs.signs", s) for s in w.signs]
        out += [("warning_signs.see_doctor.signs", s) for s in w.see_doctor.signs]
        return out


def check(data: Any, knowledge: Knowledge) -> HandoutFile:
    """Validate decoded handout data against ``knowledge``; raise with every problem found."""
    handout = validated(data, HandoutFile, FILE)
    problems = []
    if handout.schema_version != 1:
        problems.append(f"{FILE}: schema_version must be 1")
    for cid in knowledge.conditions:
        if cid not in handout.most_likely:
            problems.append(f"{FILE}: most_likely: no sentences for condition {cid!r}")
    for cid in handout.most_likely:
        if cid not in knowledge.conditions:
            problems.append(f"{FILE}: most_likely: unknown condition id {cid!r}")
    if sorted(handout.urgency) != ["emergency", "routine", "urgent"]:
        problems.append(f"{FILE}: urgency: needs exactly emergency, urgent and routine")
    for where, sentence in handout.sentences():
        for rid in sentence.cite:
            if rid not in knowledge.references:
                problems.append(f"{FILE}: {where}: unknown reference id {rid!r}")
        names = {name for _, name, _, _ in string.Formatter().parse(sentence.text) if name}
        if names - PLACEHOLDERS:
            problems.append(
                f"{FILE}: {where}: unknown placeholder(s) {sorted(names - PLACEHOLDERS)}"
            )
    if problems:
        raise KnowledgeError(problems)
    return handout


@lru_cache(maxsize=4)
def load(knowledge: Knowledge) -> HandoutFile:
    text = (resources.files("backtriage.web") / "data" / "handout.yaml").read_text("utf-8")
    return check(yaml.safe_load(text), knowledge)


@dataclass(frozen=True)
class Line:
    text: str
    cite: str  # footnote numbers, "1, 3"


@dataclass(frozen=True)
class Handout:
    urgency: str
    name: str
    now: Line
    what: list[Line]
    also: list[Line]  # other suspected conditions, in their own words
    tests: list[Line]
    do: list[Line]
    avoid: list[Line]
    come_back: Line
    warning_intro: Line
    warnings: list[Line]
    see_doctor_intro: Line
    see_doctor: list[Line]
    references: list[tuple[int, Any]]


def build(assessment: Assessment, knowledge: Knowledge) -> Handout:
    data = load(knowledge)
    order: list[str] = []
    when = _when(assessment.follow_up.reassess_in_days)

    def line(s: Sentence) -> Line:
        for rid in s.cite:
            if rid not in order:
                order.append(rid)
        numbers = sorted(order.index(r) + 1 for r in s.cite)
        return Line(s.text.format(when=when), ", ".join(map(str, numbers)))

    main = data.most_likely[assessment.most_likely]
    level = data.urgency[assessment.urgency]
    suspected = [
        c.id
        for c in assessment.conditions
        if c.status == "suspected" and c.id != assessment.most_likely
    ]
    # "No scan needed" reassures only when the patient goes home; an emergency is worked up there.
    imaging = [data.imaging.ordered] if assessment.imaging else []
    if not assessment.imaging and assessment.urgency == "routine":
        imaging = [data.imaging.none]
    w = data.warning_signs
    handout = Handout(
        urgency=assessment.urgency,
        name=main.name,
        now=line(level.now),
        what=[line(s) for s in main.what],
        also=[line(s) for cid in suspected for s in data.most_likely[cid].what],
        tests=[line(s) for s in imaging],
        do=[line(s) for s in main.do],
        avoid=[line(s) for s in main.avoid],
        come_back=line(level.come_back),
        warning_intro=line(w.intro),
        warnings=[line(s) for s in w.signs],
        see_doctor_intro=line(w.see_doctor.intro),
        see_doctor=[line(s) for s in w.see_doctor.signs],
        references=[],
    )
    refs = [(n, knowledge.references[rid]) for n, rid in enumerate(order, start=1)]
    return Handout(**{**handout.__dict__, "references": refs})


def _when(days: int | None) -> str:
    """The assessment's reassessment interval in everyday words."""
    if days is None:
        return "when your doctor tells you to"
    if days >= 14 and days % 7 == 0:
        return f"in {days // 7} weeks"
    return f"in {days} day{'s' if days != 1 else ''}"

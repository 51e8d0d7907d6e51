"""Output pieces that depend only on the knowledge base, built once per knowledge base.

Statements, questions and trace lines are the same for every case; building them per assessment
was most of the engine's time.  They are immutable, hold no patient data, and are keyed by the
(immutable) knowledge base itself, so sharing them across assessments cannot leak anything.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from backtriage.assessment import (
    AcrVariantMatch,
    Disagreement,
    FigureUse,
    Question,
    ReferenceOut,
    Statement,
    TraceStep,
    TriWord,
    trusted,
)
from backtriage.case import Evidence
from backtriage.engine.logic import Compiled, compile_rule, tri_word
from backtriage.knowledge import Knowledge
from backtriage.knowledge.rules import (
    All,
    FactCompare,
    Missing,
    conditions_named,
    describe,
    findings_named,
    walk,
)
from backtriage.knowledge.schema import Condition, Recommendation
from backtriage.knowledge.schema import Disagreement as KbDisagreement
from backtriage.knowledge.schema import Statement as KbStatement

PSYCHOSOCIAL = ("depression", "job_dissatisfaction", "passive_coping", "fear_avoidance")


@dataclass(frozen=True)
class ConditionParts:
    screen: Statement | None
    action: Statement | None
    caveat: Statement | None
    disagreement: Disagreement | None
    rule: str


@dataclass(frozen=True)
class RecPlan:
    """One recommendation, ready to apply: its compiled rule, its statement (unless the text has
    placeholders to fill per case), and its trace line for each possible verdict."""

    rec: Recommendation
    applies: Compiled
    statement: Statement | None
    traces: dict[bool | None, TraceStep] | None


@dataclass
class Prepared:
    conditions: dict[str, ConditionParts]
    questions: dict[str, Question]
    references: dict[str, ReferenceOut]
    labels: dict[str, str]
    phrases: dict[str, str]
    ask_order: tuple[str, ...]
    plan: tuple[RecPlan, ...]
    condition_inputs: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
    rec_inputs: tuple[tuple[str, ...], tuple[str, ...], frozenset[str]]
    selected: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    screened: dict[tuple[Any, ...], tuple[bool | None, Any, TraceStep | None]] = field(
        default_factory=dict
    )
    given: dict[tuple[str, str], Evidence] = field(default_factory=dict)
    variant_matches: dict[tuple[int, str], AcrVariantMatch] = field(default_factory=dict)
    figure_uses: dict[tuple[str, str | None, str | None, float | None], FigureUse] = field(
        default_factory=dict
    )
    traces: dict[tuple[str, TriWord, str], TraceStep] = field(default_factory=dict)

    def trace(self, rule: str, result: TriWord, why: str) -> TraceStep:
        key = (rule, result, why)
        step = self.traces.get(key)
        if step is None:
            step = self.traces[key] = trusted(TraceStep, rule=rule, result=result, why=why)
        return step


_PREPARED: weakref.WeakKeyDictionary[Knowledge, Prepared] = weakref.WeakKeyDictionary()


def prepared(knowledge: Knowledge) -> Prepared:
    found = _PREPARED.get(knowledge)
    if found is None:
        found = _PREPARED[knowledge] = _prepare(knowledge)
    return found


def _prepare(knowledge: Knowledge) -> Prepared:
    return Prepared(
        conditions={cid: _condition_parts(c) for cid, c in knowledge.conditions.items()},
        questions=_questions(knowledge),
        labels=_labels(knowledge),
        phrases={fid: phrase(f.label) for fid, f in knowledge.findings.items()},
        ask_order=_ask_order(knowledge),
        plan=_plan(knowledge),
        condition_inputs={cid: _inputs(knowledge, c) for cid, c in knowledge.conditions.items()},
        rec_inputs=_rec_inputs(knowledge),
        references={
            rid: ReferenceOut(
                **ref.model_dump(
                    include={
                        "id",
                        "authors",
                        "year",
                        "title",
                        "journal",
                        "citation",
                        "pmid",
                        "doi",
                        "url",
                        "verified",
                    }
                ),
                link=ref.link,
            )
            for rid, ref in knowledge.references.items()
        },
    )


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def statement(rec: Recommendation, context: dict[str, str]) -> Statement:
    fill = _Blank(context)
    always = isinstance(rec.applies, All) and not rec.applies.parts
    return Statement(
        id=rec.id,
        section=rec.section,
        summary=rec.summary.format_map(fill),
        detail=None if rec.detail is None else rec.detail.format_map(fill),
        strength=rec.strength,
        source=rec.source,
        citations=list(rec.citations),
        disagreement=disagreement(rec.disagreement),
        why=None if always else f"applies: {describe(rec.applies)}",
    )


def disagreement(item: KbDisagreement | None) -> Disagreement | None:
    if item is None:
        return None
    return Disagreement(summary=item.summary, positions=[p.model_dump() for p in item.positions])


def _condition_parts(condition: Condition) -> ConditionParts:
    def part(name: str, item: KbStatement | None) -> Statement | None:
        if item is None:
            return None
        return Statement(
            id=f"{condition.id}.{name}",
            section="red_flags",
            summary=item.summary,
            detail=item.detail,
            citations=list(item.citations),
        )

    return ConditionParts(
        screen=part("screen", condition.screen_statement),
        action=part("if_suspected", condition.if_suspected),
        caveat=part("caveat", condition.caveat),
        disagreement=disagreement(condition.disagreement),
        rule=describe(condition.suspect_when),
    )


def phrase(label: str) -> str:
    """A label inside a sentence: "Fever" → "fever", but "ESR 20 mm/h" stays."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def _ask_order(knowledge: Knowledge) -> tuple[str, ...]:
    """Screening items (then yellow flags) in the order to ask them: most dangerous first."""
    ordered: dict[str, None] = {}
    for condition in sorted(knowledge.conditions.values(), key=lambda c: c.priority):
        ordered.update(dict.fromkeys(condition.screening))
    ordered.update(dict.fromkeys(PSYCHOSOCIAL))
    return tuple(ordered)


def _inputs(knowledge: Knowledge, condition: Condition) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Every finding and fact a condition's result depends on: its rule, its screening items,
    its exam levels and its probability model.  Two cases that agree on these get the same
    result, so the result can be shared (it holds no other patient data)."""
    findings = set(condition.screening) | findings_named(condition.suspect_when)
    for fids in (condition.levels or {}).values():
        findings.update(fids)
    model = knowledge.models.get(condition.id)
    if model is not None:
        findings.update(model.findings)
    facts = {n.fact for n in walk(condition.suspect_when) if isinstance(n, FactCompare | Missing)}
    return tuple(sorted(findings)), tuple(sorted(facts))


def _rec_inputs(knowledge: Knowledge) -> tuple[tuple[str, ...], tuple[str, ...], frozenset[str]]:
    """The findings, facts and conditions the recommendations' rules read."""
    findings: set[str] = set()
    facts: set[str] = set()
    conditions: set[str] = set()
    for rec in knowledge.recommendations:
        findings |= findings_named(rec.applies)
        conditions |= conditions_named(rec.applies)
        facts |= {n.fact for n in walk(rec.applies) if isinstance(n, FactCompare | Missing)}
    return tuple(sorted(findings)), tuple(sorted(facts)), frozenset(conditions)


def _plan(knowledge: Knowledge) -> tuple[RecPlan, ...]:
    plans = []
    for rec in knowledge.recommendations:
        always = isinstance(rec.applies, All) and not rec.applies.parts
        templated = "{" in rec.summary or "{" in (rec.detail or "")
        label = f"recommendation {rec.id}: applies when {describe(rec.applies)}"
        traces = None
        if not always:
            traces = {
                verdict: TraceStep(
                    rule=label,
                    result=tri_word(verdict),
                    why="included" if verdict else "left out",
                )
                for verdict in (True, False, None)
            }
        plans.append(
            RecPlan(
                rec=rec,
                applies=compile_rule(rec.applies),
                statement=None if templated else statement(rec, {}),
                traces=traces,
            )
        )
    return tuple(plans)


def _labels(knowledge: Knowledge) -> dict[str, str]:
    """The trace's name for every rule, keyed "kind:id"."""
    # Recommendations carry their own trace lines in their plan (RecPlan.traces).
    labels = {
        f"imaging:{rule.id}": f"imaging rule {rule.id}: {describe(rule.when)}"
        for rule in knowledge.imaging_rules
    }
    labels.update(
        (f"acr:{match.variant}", f"ACR variant {match.variant}: {describe(match.when)}")
        for match in knowledge.acr.matching
    )
    labels.update(
        (f"condition:{c.id}", f"condition {c.id}: suspected when {describe(c.suspect_when)}")
        for c in knowledge.conditions.values()
    )
    return labels


def _questions(knowledge: Knowledge) -> dict[str, Question]:
    """One question per screening item (and yellow flag), naming every condition it screens."""
    asked: dict[str, list[str]] = {}
    for condition in sorted(knowledge.conditions.values(), key=lambda c: c.priority):
        for fid in condition.screening:
            asked.setdefault(fid, []).append(condition.id)
    for fid in PSYCHOSOCIAL:
        asked.setdefault(fid, []).append("psychosocial")
    return {
        fid: Question(
            finding=fid,
            label=knowledge.findings[fid].label,
            ask=knowledge.findings[fid].ask,
            kind=knowledge.findings[fid].kind,
            for_conditions=for_conditions,
        )
        for fid, for_conditions in asked.items()
    }

"""Output pieces that depend only on the knowledge base, built once per knowledge base.

Statements, questions and trace lines are the same for every case; building them per assessment
was most of the engine's time.  They are immutable, hold no patient data, and are keyed by the
(immutable) knowledge base itself, so sharing them across assessments cannot leak anything.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
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
from backtriage.engine.logic import (
    Facts,
    compile_key,
    compile_rule,
    compile_rules,
    tri_word,
)
from backtriage.knowledge import Knowledge
from backtriage.knowledge.rules import (
    All,
    FactCompare,
    Missing,
    Rule,
    describe,
    findings_named,
    walk,
)
from backtriage.knowledge.schema import Condition, Recommendation, phrase
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
    """One recommendation, ready to apply: its statement (unless the text has placeholders to
    fill per case) and its trace line for each possible verdict (None: it always applies).  Its
    rule is compiled with the others into ``Prepared.rec_verdicts``."""

    rec: Recommendation
    statement: Statement | None
    traces: dict[bool | None, TraceStep] | None


@dataclass(frozen=True)
class Inputs:
    """What a shared result reads: finding states, and the verdicts of the fact tests in its
    rules (``age > 50``), not the raw facts — so cases aged 60 and 61 share one result."""

    findings: tuple[str, ...]
    tests: tuple[Rule, ...]
    read: Callable[[Facts], tuple[Any, ...]]  # compiled: the finding states, then the verdicts

    def key(self, facts: Facts) -> tuple[Any, ...]:
        try:
            return self.read(facts)
        except KeyError:  # a partial findings map (the engine always passes a full one)
            states = facts.findings
            return (
                *(states.get(fid, "unknown") for fid in self.findings),
                *(compile_rule(test)(facts) for test in self.tests),
            )


def inputs(findings: Iterable[str], rules: Iterable[Rule]) -> Inputs:
    ids = tuple(sorted(set(findings)))
    tests = tuple(
        dict.fromkeys(
            node for rule in rules for node in walk(rule) if isinstance(node, FactCompare | Missing)
        )
    )
    return Inputs(findings=ids, tests=tests, read=compile_key(ids, tests))


@dataclass
class Prepared:
    conditions: dict[str, ConditionParts]
    questions: dict[str, Question]
    references: dict[str, ReferenceOut]
    labels: dict[str, str]
    phrases: dict[str, str]
    ask_order: tuple[str, ...]
    read_asked: Callable[[Mapping[str, str]], tuple[str, ...]]  # states in ask order
    shadowed: dict[str, frozenset[str]]  # finding -> earlier findings asked by the same question
    plan: tuple[RecPlan, ...]
    condition_inputs: tuple[tuple[Condition, Inputs], ...]
    rec_verdicts: Callable[[Facts], tuple[bool | None, ...]]  # the recommendations with a rule
    plan_verdicts: Callable[[Facts], tuple[bool | None, ...]]  # imaging rules, then ACR matching
    intake_facts: tuple[str, ...]  # the facts measured and derived findings are defined on
    given: dict[str, dict[str, Evidence]]  # finding -> state -> "findings: fever: present"
    selected: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    screened: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    plans: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    resolved: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    cited: dict[frozenset[str], dict[str, ReferenceOut]] = field(default_factory=dict)
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
    plan = _plan(knowledge)
    questions = _questions(knowledge)
    ask_order = _ask_order(knowledge)
    return Prepared(
        conditions={cid: _condition_parts(c) for cid, c in knowledge.conditions.items()},
        questions=questions,
        labels=_labels(knowledge),
        phrases={fid: phrase(f.label) for fid, f in knowledge.findings.items()},
        ask_order=ask_order,
        read_asked=itemgetter(*ask_order),
        shadowed={
            fid: frozenset(e for e in ask_order[:i] if questions[e].ask == questions[fid].ask)
            for i, fid in enumerate(ask_order)
            if any(questions[e].ask == questions[fid].ask for e in ask_order[:i])
        },
        plan=plan,
        rec_verdicts=compile_rules(tuple(p.rec.applies for p in plan if p.traces is not None)),
        plan_verdicts=compile_rules(
            tuple(rule.when for rule in knowledge.imaging_rules)
            + tuple(match.when for match in knowledge.acr.matching)
        ),
        given={
            fid: {
                state: trusted(Evidence, source="findings", detail=f"{fid}: {state}")
                for state in ("present", "absent")
            }
            for fid, finding in knowledge.findings.items()
            if finding.derived is None
        },
        intake_facts=tuple(
            sorted(
                {
                    node.fact
                    for f in knowledge.findings.values()
                    for rule in (f.present_when, f.derived)
                    if rule is not None
                    for node in walk(rule)
                    if isinstance(node, FactCompare | Missing)
                }
            )
        ),
        condition_inputs=tuple((c, _inputs(knowledge, c)) for c in knowledge.conditions.values()),
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


def statement_citations(statement: Statement) -> set[str]:
    """The reference ids a statement cites, its disagreement's positions included."""
    found = set(statement.citations)
    if statement.disagreement is not None:
        for position in statement.disagreement.positions:
            found.update(position["citations"])
    return found


def references_for(ready: Prepared, cited: frozenset[str]) -> dict[str, ReferenceOut]:
    """The references an assessment cites, in id order (shared between assessments citing the
    same set; the caller copies the mapping)."""
    found = ready.cited.get(cited)
    if found is None:
        if len(ready.cited) > 10_000:
            ready.cited.clear()
        found = ready.cited[cited] = {rid: ready.references[rid] for rid in sorted(cited)}
    return found


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


def _ask_order(knowledge: Knowledge) -> tuple[str, ...]:
    """Screening items (then yellow flags) in the order to ask them: most dangerous first."""
    ordered: dict[str, None] = {}
    for condition in sorted(knowledge.conditions.values(), key=lambda c: c.priority):
        ordered.update(dict.fromkeys(condition.screening))
    ordered.update(dict.fromkeys(PSYCHOSOCIAL))
    return tuple(ordered)


def _inputs(knowledge: Knowledge, condition: Condition) -> Inputs:
    """Every finding and fact test a condition's result depends on: its rule, its screening
    items, its exam levels and its probability model.  Two cases that agree on these get the
    same result, so the result can be shared (it holds no other patient data)."""
    findings = set(condition.screening) | findings_named(condition.suspect_when)
    for fids in (condition.levels or {}).values():
        findings.update(fids)
    model = knowledge.models.get(condition.id)
    if model is not None:
        findings.update(model.findings)
    return inputs(findings, [condition.suspect_when])


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

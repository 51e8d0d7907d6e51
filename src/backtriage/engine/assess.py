"""``assess(case, knowledge, today)``: the pure core.  No I/O, no clock, no globals."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from itertools import compress
from typing import Any

from backtriage.assessment import (
    URGENCY_ORDER,
    Assessment,
    ConditionResult,
    FollowUp,
    Psychosocial,
    Question,
    TraceStep,
    Urgency,
    trusted,
)
from backtriage.case import Case
from backtriage.engine import conditions as conditions_step
from backtriage.engine import imaging as imaging_step
from backtriage.engine import startback
from backtriage.engine import statements as statements_step
from backtriage.engine.intake import TextReading, resolve
from backtriage.engine.logic import Facts
from backtriage.engine.prepared import PSYCHOSOCIAL, prepared, references_for
from backtriage.knowledge import Knowledge

DEFAULT_CONDITION = "nonspecific_low_back_pain"
_CASE_JSON = Case.__pydantic_serializer__  # model_dump without its Python wrapper
REASSESS_DAYS = 28


def assess(
    case: Case, knowledge: Knowledge, today: date, reading: TextReading | None = None
) -> Assessment:
    """Assess one case.  ``reading`` is what the free-text reader found in the case's complaint
    and note, if anything; structured findings win over it."""
    resolved = resolve(case, knowledge, reading)
    start_back = startback.score(case.start_back)
    facts_map: dict[str, Any] = dict(resolved.facts)
    facts_map["start_back_risk"] = None if start_back is None else start_back.risk
    facts = Facts(findings=resolved.findings, facts=facts_map)

    screened = conditions_step.screen(knowledge, facts)
    most_likely = _most_likely(knowledge, screened.suspected)
    facts = Facts(
        findings=resolved.findings,
        facts=facts_map,
        suspected=screened.suspected,
        most_likely=most_likely,
    )
    plan = imaging_step.plan(knowledge, facts)
    location = resolved.presentation.get("location")
    context = {"at_location": f" ({location} back)" if location else ""}
    selected = statements_step.select(knowledge, facts, context)
    sections = selected.by_section  # shared between cases: copied into this assessment below

    results: list[ConditionResult] = []
    cited = set(selected.cited)
    cited |= plan.cited
    for result, refs in zip(screened.results, screened.cited, strict=True):
        if result.id != DEFAULT_CONDITION or most_likely == DEFAULT_CONDITION:
            results.append(result)
            cited |= refs
    urgency, reasons = _urgency(knowledge, results)
    unassessed = _unassessed(knowledge, resolved.findings)
    trace: list[TraceStep] = [*screened.trace, *plan.trace, *selected.trace]
    assessment_without_refs: dict[str, Any] = {
        "knowledge_version": knowledge.version,
        "assessed_on": today.isoformat(),
        "urgency": urgency,
        "urgency_reasons": reasons,
        "most_likely": most_likely,
        "most_likely_label": knowledge.conditions[most_likely].label,
        "reasoning": _reasoning(knowledge, most_likely, results, unassessed),
        "summary": list(sections.get("summary", ())),
        "diagnosis": list(sections.get("diagnosis", ())),
        "conditions": results,
        "imaging": list(plan.orders),
        "imaging_statements": list(sections.get("imaging", ())),
        "acr_variants": list(plan.variants),
        "labs": imaging_step.merge_labs(plan.labs, selected.labs),
        "unassessed": unassessed,
        "questions": _questions(knowledge, unassessed),
        "findings": resolved.findings,
        "evidence": resolved.evidence,
        "conflicts": resolved.conflicts,
        "uncertain": resolved.uncertain,
        "evaluation": list(sections.get("evaluation", ())),
        "psychosocial": trusted(
            Psychosocial,
            start_back=start_back,
            yellow_flags=[f for f in PSYCHOSOCIAL if resolved.findings.get(f) == "present"],
            statements=list(sections.get("psychosocial", ())),
        ),
        "management": list(sections.get("management", ())),
        "follow_up": trusted(
            FollowUp,
            reassess_in_days=REASSESS_DAYS if urgency == "routine" else None,
            statements=list(sections.get("follow_up", ())),
            safety_net=list(sections.get("safety_net", ())),
        ),
        "pitfalls": list(sections.get("pitfalls", ())),
        "case": _CASE_JSON.to_python(case, mode="json", exclude_none=True),
        "presentation": resolved.presentation,
        "warnings": resolved.warnings,
        "trace": trace,
    }
    # Every reference cited by the statements, condition results and orders chosen above.
    references = dict(references_for(prepared(knowledge), frozenset(cited)))
    return trusted(Assessment, references=references, **assessment_without_refs)


def _most_likely(knowledge: Knowledge, suspected: frozenset[str]) -> str:
    """The working diagnosis: the most dangerous suspected condition (it must be dealt with
    first), else the ordinary diagnosis the findings support, else nonspecific pain."""
    candidates = [cid for cid in suspected if cid != DEFAULT_CONDITION]
    if not candidates:
        return DEFAULT_CONDITION
    return min(candidates, key=lambda cid: knowledge.conditions[cid].priority)


def _reasoning(
    knowledge: Knowledge,
    most_likely: str,
    results: list[ConditionResult],
    unassessed: list[str],
) -> list[str]:
    """Why the working diagnosis is what it is, in the terms of the rules that decided it."""
    label = prepared(knowledge).phrases
    suspected = [r for r in results if r.status == "suspected" and r.id != DEFAULT_CONDITION]
    lines: list[str] = []
    for result in suspected:
        present = ", ".join(label[f] for f in result.triggers) or "the facts given"
        line = f"{result.label} is suspected: {present}."
        if result.levels:
            line += f" The examination points to {' and '.join(result.levels)}."
        lines.append(line)
    if not suspected:
        lines.append(
            "No red-flag condition, non-spinal cause or specific spinal diagnosis is suspected "
            "from what is known."
        )
    elif len(suspected) > 1:
        lines.append(
            f"{knowledge.conditions[most_likely].label} is named first because it is the most "
            "dangerous of the suspected conditions to miss."
        )
    not_excluded = [r.label for r in results if r.kind == "red_flag" and r.status == "not_excluded"]
    if not_excluded:
        lines.append(
            f"Not yet excluded: {', '.join(not_excluded)}; {len(unassessed)} findings are "
            "still unknown (see Ask next)."
        )
    return lines


def _urgency(knowledge: Knowledge, results: list[ConditionResult]) -> tuple[Urgency, list[str]]:
    urgency: Urgency = "routine"
    reasons: list[str] = []
    for result in results:
        if result.status != "suspected" or result.urgency is None:
            continue
        if URGENCY_ORDER[result.urgency] > URGENCY_ORDER[urgency]:
            urgency = result.urgency
        if result.urgency != "routine":
            phrases = prepared(knowledge).phrases
            present = ", ".join(phrases[f] for f in result.triggers)
            reasons.append(f"{result.label} suspected ({present}): {result.urgency}")
    return urgency, reasons


def _unassessed(knowledge: Knowledge, findings: Mapping[str, str]) -> list[str]:
    """Every unknown screening item (and yellow flag), most dangerous condition first."""
    ask_order = prepared(knowledge).ask_order
    try:
        states = prepared(knowledge).read_asked(findings)
    except KeyError:  # a partial findings map (assess always passes a full one)
        states = tuple(findings.get(fid, "unknown") for fid in ask_order)
    return list(compress(ask_order, map("unknown".__eq__, states)))


def _questions(knowledge: Knowledge, unassessed: list[str]) -> list[Question]:
    """The questions for what is still unknown; findings answered by one question (age over 50,
    over 70: "record the age") are asked once, where the first of them stands."""
    ready = prepared(knowledge)
    questions, shadowed = ready.questions, ready.shadowed
    if not shadowed.keys() & unassessed:
        return [questions[fid] for fid in unassessed]
    unknown = set(unassessed)
    return [
        questions[fid] for fid in unassessed if fid not in shadowed or not shadowed[fid] & unknown
    ]

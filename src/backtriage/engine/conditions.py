"""Screen every condition: suspected, not excluded, or screened negative — and why."""

from __future__ import annotations

from typing import NamedTuple

from backtriage.assessment import ConditionResult, Status, TraceStep, trusted
from backtriage.engine.logic import Facts, evaluate, tri_word
from backtriage.engine.prepared import prepared, statement_citations
from backtriage.engine.probability import probability
from backtriage.knowledge import Knowledge
from backtriage.knowledge.schema import Condition


class Screened(NamedTuple):
    results: list[ConditionResult]
    suspected: frozenset[str]
    trace: list[TraceStep]
    cited: list[frozenset[str]]  # the reference ids each result cites, in step with results


MEMO_LIMIT = 100_000  # distinct screening patterns kept before the memo starts afresh

Outcome = tuple[bool | None, ConditionResult | None, TraceStep | None, frozenset[str]]


def screen(knowledge: Knowledge, facts: Facts) -> Screened:
    results: list[ConditionResult] = []
    trace: list[TraceStep] = []
    cited: list[frozenset[str]] = []
    suspected: set[str] = set()
    ready = prepared(knowledge)
    memo: dict[tuple[object, ...], Outcome] = ready.screened
    if len(memo) > MEMO_LIMIT:
        memo.clear()
    for condition, inputs in ready.condition_inputs:  # file order is report order
        try:
            key = (condition.id, inputs.read(facts))
        except KeyError:  # a partial findings map (the engine always passes a full one)
            key = (condition.id, inputs.key(facts))
        found = memo.get(key)
        if found is None:
            found = memo[key] = _screen_one(knowledge, condition, facts)
        verdict, result, step, refs = found
        if verdict is True:
            suspected.add(condition.id)
        if result is not None:
            results.append(result)
            trace.append(step)  # type: ignore[arg-type]
            cited.append(refs)
    return Screened(results=results, suspected=frozenset(suspected), trace=trace, cited=cited)


def _screen_one(knowledge: Knowledge, condition: Condition, facts: Facts) -> Outcome:
    """One condition's verdict, result and trace line: a pure function of the condition's
    inputs (prepared.condition_inputs), so it is computed once per distinct pattern."""
    ready = prepared(knowledge)
    states = facts.findings
    verdict = evaluate(condition.suspect_when, facts)
    triggers: list[str] = []
    missing: list[str] = []
    absent: list[str] = []
    for fid in condition.screening:
        state = states.get(fid, "unknown")
        (triggers if state == "present" else absent if state == "absent" else missing).append(fid)
    status: Status
    if verdict is True:
        status = "suspected"
    elif condition.screening and len(absent) == len(condition.screening):
        status = "screened_negative"  # every screening item known, and known absent
    else:
        status = "not_excluded"
    if condition.kind != "red_flag" and status != "suspected" and not triggers:
        # Diagnoses and mimics are listed only when the findings raise them or speak to them.
        return verdict, None, None, frozenset()
    parts = ready.conditions[condition.id]
    step = ready.trace(
        ready.labels[f"condition:{condition.id}"], tri_word(verdict), f"status {status}"
    )
    result = trusted(
        ConditionResult,
        id=condition.id,
        label=condition.label,
        kind=condition.kind,
        status=status,
        urgency=condition.urgency if status == "suspected" else None,
        triggers=triggers,
        missing=missing,
        absent=absent,
        rule=parts.rule,
        probability=probability(knowledge, condition.id, states),
        screen=parts.screen,
        action=parts.action,
        action_lead=condition.action_lead,
        caveat=parts.caveat,
        disagreement=parts.disagreement,
        levels=_levels(condition, facts) if status == "suspected" else [],
    )
    return verdict, result, step, result_citations(result)


def result_citations(result: ConditionResult) -> frozenset[str]:
    """Every reference id one condition result cites (statements, disagreement, figures)."""
    found: set[str] = set()
    for statement in (result.screen, result.action, result.caveat):
        if statement is not None:
            found.update(statement_citations(statement))
    if result.disagreement is not None:
        for position in result.disagreement.positions:
            found.update(position["citations"])
    if result.probability is not None:
        found.update(result.probability.citations)
        for figure in result.probability.figures:
            found.update(figure.citations)
    return frozenset(found)


def _levels(condition: Condition, facts: Facts) -> list[str]:
    return [
        level
        for level, fids in (condition.levels or {}).items()
        if any(facts.findings.get(f) == "present" for f in fids)
    ]

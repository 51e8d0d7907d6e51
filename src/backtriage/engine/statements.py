"""Select the recommendations that apply to a case, in knowledge-base order, by section."""

from __future__ import annotations

from dataclasses import dataclass

from backtriage.assessment import Statement, TraceStep
from backtriage.engine.logic import Facts
from backtriage.engine.prepared import prepared, statement
from backtriage.knowledge import Knowledge


@dataclass(frozen=True)
class Selected:
    by_section: dict[str, list[Statement]]
    trace: list[TraceStep]


MEMO_LIMIT = 100_000


def select(knowledge: Knowledge, facts: Facts, context: dict[str, str]) -> Selected:
    """The recommendations that apply.  The selection is a pure function of the findings, facts
    and conditions the rules read (and the text placeholders), so it is shared between cases that
    agree on them."""
    ready = prepared(knowledge)
    finding_ids, fact_ids, condition_ids = ready.rec_inputs
    key = (
        *(facts.findings.get(fid, "unknown") for fid in finding_ids),
        *(facts.facts.get(name) for name in fact_ids),
        facts.suspected & condition_ids,
        facts.most_likely,
        *sorted(context.items()),
    )
    memo = ready.selected
    found: Selected | None = memo.get(key)
    if found is None:
        if len(memo) > MEMO_LIMIT:
            memo.clear()
        found = memo[key] = _select(knowledge, facts, context)
    return found


def _select(knowledge: Knowledge, facts: Facts, context: dict[str, str]) -> Selected:
    by_section: dict[str, list[Statement]] = {}
    trace: list[TraceStep] = []
    for plan in prepared(knowledge).plan:
        verdict = plan.applies(facts)
        if plan.traces is not None:
            trace.append(plan.traces[verdict])
        if verdict is True:
            item = plan.statement or statement(plan.rec, context)
            by_section.setdefault(plan.rec.section, []).append(item)
    return Selected(by_section=by_section, trace=trace)

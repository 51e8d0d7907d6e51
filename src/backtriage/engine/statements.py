"""Select the recommendations that apply to a case, in knowledge-base order, by section."""

from __future__ import annotations

from dataclasses import dataclass

from backtriage.assessment import Statement, TraceStep
from backtriage.engine.logic import Facts
from backtriage.engine.prepared import prepared, statement, statement_citations
from backtriage.knowledge import Knowledge


@dataclass(frozen=True)
class Selected:
    by_section: dict[str, list[Statement]]
    trace: list[TraceStep]
    cited: frozenset[str]
    labs: frozenset[str]  # laboratory tests the selected recommendations ask for


MEMO_LIMIT = 100_000


def select(knowledge: Knowledge, facts: Facts, context: dict[str, str]) -> Selected:
    """The recommendations that apply.  The selection is a pure function of the verdicts of the
    recommendations' rules (and the text placeholders), so it is shared between cases that agree
    on them."""
    ready = prepared(knowledge)
    verdicts = ready.rec_verdicts(facts)
    key = (verdicts, *sorted(context.items()))
    memo = ready.selected
    found: Selected | None = memo.get(key)
    if found is None:
        if len(memo) > MEMO_LIMIT:
            memo.clear()
        found = memo[key] = _select(knowledge, verdicts, context)
    return found


def _select(
    knowledge: Knowledge, verdicts: tuple[bool | None, ...], context: dict[str, str]
) -> Selected:
    by_section: dict[str, list[Statement]] = {}
    trace: list[TraceStep] = []
    cited: set[str] = set()
    labs: set[str] = set()
    tested = iter(verdicts)  # in plan order, one for each recommendation that has a rule
    for plan in prepared(knowledge).plan:
        verdict = True if plan.traces is None else next(tested)
        if plan.traces is not None:
            trace.append(plan.traces[verdict])
        if verdict is True:
            item = plan.statement or statement(plan.rec, context)
            by_section.setdefault(plan.rec.section, []).append(item)
            cited |= statement_citations(item)
            labs.update(plan.rec.labs)
    return Selected(
        by_section=by_section, trace=trace, cited=frozenset(cited), labs=frozenset(labs)
    )

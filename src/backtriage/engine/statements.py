"""Select the recommendations that apply to a case, in knowledge-base order, by section."""

from __future__ import annotations

from dataclasses import dataclass

from backtriage.assessment import Statement, TraceStep
from backtriage.engine.logic import Facts, evaluate, tri_word
from backtriage.engine.prepared import prepared, statement
from backtriage.knowledge import Knowledge


@dataclass(frozen=True)
class Selected:
    by_section: dict[str, list[Statement]]
    trace: list[TraceStep]


def select(knowledge: Knowledge, facts: Facts, context: dict[str, str]) -> Selected:
    ready = prepared(knowledge)
    by_section: dict[str, list[Statement]] = {}
    trace: list[TraceStep] = []
    for rec in knowledge.recommendations:
        verdict = evaluate(rec.applies, facts)
        if rec.id not in ready.always:
            trace.append(
                ready.trace(
                    ready.labels[f"recommendation:{rec.id}"],
                    tri_word(verdict),
                    "included" if verdict else "left out",
                )
            )
        if verdict is True:
            if rec.id in ready.templated:
                item = statement(rec, context)
            else:
                item = ready.statements[rec.id]
            by_section.setdefault(rec.section, []).append(item)
    return Selected(by_section=by_section, trace=trace)

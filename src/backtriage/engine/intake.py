"""From a case (and, optionally, what free text said) to the resolved state of every finding.

Order of precedence, each step recorded as evidence:
1. the case's structured ``findings`` (explicit input wins over text);
2. a measurement that sets a finding present (``present_when``: a temperature of 38 °C or more
   is a fever) — it also overrides an explicit ``absent``, because a measured red flag must not
   be hidden; the clash is reported as a conflict;
3. free text fills findings still unknown; a clash with step 1 is reported as a conflict;
4. derived findings (age over 50, ESR 20 or more) follow from the facts they are defined on.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from backtriage.assessment import Conflict, UncertainMention, trusted
from backtriage.case import MEASUREMENT_IDS, Case, Evidence, FindingState
from backtriage.engine.logic import Facts, evaluate
from backtriage.engine.prepared import prepared
from backtriage.errors import CaseError
from backtriage.knowledge import Knowledge
from backtriage.knowledge.rules import FactCompare, walk


class TextReading(Protocol):
    """What the free-text reader returns (see ``backtriage.text``); only these are used here."""

    @property
    def findings(self) -> Mapping[str, FindingState]: ...
    @property
    def evidence(self) -> Mapping[str, Sequence[Evidence]]: ...
    @property
    def age(self) -> int | None: ...
    @property
    def sex(self) -> str | None: ...
    @property
    def duration_days(self) -> int | None: ...
    @property
    def conservative_therapy_weeks(self) -> float | None: ...
    @property
    def measurements(self) -> Mapping[str, float]: ...
    @property
    def location(self) -> str | None: ...
    @property
    def side(self) -> str | None: ...
    @property
    def warnings(self) -> Sequence[str]: ...
    @property
    def uncertain(self) -> Sequence[Any]: ...
    @property
    def conflicts(self) -> Sequence[Any]: ...


class Resolved(NamedTuple):
    findings: dict[str, FindingState]
    evidence: dict[str, list[Evidence]]
    conflicts: list[Conflict]
    facts: dict[str, Any]
    presentation: dict[str, Any]
    warnings: list[str]
    uncertain: list[UncertainMention]


def check_case(case: Case, knowledge: Knowledge) -> None:
    """Reject finding ids the knowledge base does not know (naming the nearest valid one) and
    derived findings given directly (they follow from age or a measurement)."""
    if case.findings.keys() <= prepared(knowledge).given.keys():
        return  # every id known, none derived
    problems: list[str] = []
    for fid in case.findings:
        finding = knowledge.findings.get(fid)
        if finding is None:
            near = difflib.get_close_matches(fid, sorted(knowledge.findings), n=1, cutoff=0.6)
            hint = f" — did you mean {near[0]!r}?" if near else ""
            problems.append(
                f"findings: unknown finding id {fid!r}{hint} (valid ids: `backtriage kb findings`)"
            )
        elif finding.derived is not None:
            facts = sorted({n.fact for n in walk(finding.derived) if isinstance(n, FactCompare)})
            problems.append(
                f"findings: {fid!r} is derived from {', '.join(facts)}; give "
                f"{' / '.join(facts)} instead of the finding"
            )
    if problems:
        raise CaseError("; ".join(problems))


def case_facts(case: Case) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "age": case.age,
        "sex": case.sex,
        "duration_days": case.duration_days,
        "conservative_therapy_weeks": case.conservative_therapy_weeks,
        "surgical_candidate": case.surgical_candidate,
    }
    for mid in MEASUREMENT_IDS:
        facts[mid] = getattr(case.measurements, mid)
    return facts


def resolve(case: Case, knowledge: Knowledge, reading: TextReading | None = None) -> Resolved:
    check_case(case, knowledge)
    facts = case_facts(case)
    evidence: dict[str, list[Evidence]] = {}
    conflicts: list[Conflict] = []
    presentation: dict[str, Any] = {"location": None, "side": None}
    warnings: list[str] = []

    if reading is None and (case.complaint or case.note):
        warnings.append(
            "The complaint and note were kept but not read for findings: only the structured "
            "findings and measurements were used."
        )
    uncertain: list[UncertainMention] = []
    if reading is not None:
        warnings.extend(reading.warnings)
        uncertain = [
            trusted(
                UncertainMention,
                finding=u.finding,
                why=u.why,
                detail=u.detail,
                evidence=u.evidence,
            )
            for u in reading.uncertain
        ]
        for clash in reading.conflicts:
            conflicts.append(
                trusted(
                    Conflict,
                    finding=clash.finding,
                    kept=clash.chosen,
                    other="absent" if clash.chosen == "present" else "present",
                    why=f"the text says both: {clash.why}",
                    evidence=[*clash.present, *clash.absent],
                )
            )
        presentation = {"location": reading.location, "side": reading.side}
        for key, value in (
            ("age", reading.age),
            ("sex", reading.sex),
            ("duration_days", reading.duration_days),
            ("conservative_therapy_weeks", reading.conservative_therapy_weeks),
        ):
            if value is not None and facts.get(key) is None:
                facts[key] = value
                evidence[key] = list(reading.evidence.get(key, []))
        for mid, value in reading.measurements.items():
            if mid in facts and facts[mid] is None:
                facts[mid] = value
                evidence[f"measurements.{mid}"] = list(
                    reading.evidence.get(f"measurements.{mid}", [])
                )

    states: dict[str, FindingState] = dict.fromkeys(knowledge.findings, "unknown")
    states.update(case.findings)
    given = prepared(knowledge).given
    evidence.update(
        {fid: [given[fid][state]] for fid, state in case.findings.items() if state != "unknown"}
    )

    measured, derived = _from_facts(knowledge, facts)
    for fid, shown in measured:
        if states[fid] == "absent":
            conflicts.append(
                Conflict(
                    finding=fid,
                    kept="present",
                    other="absent",
                    why="a measurement shows it present; a measured red flag is not hidden by an "
                    "explicit 'absent'",
                    evidence=[*evidence.get(fid, []), shown],
                )
            )
            evidence[fid] = [shown]
        elif states[fid] == "present":
            evidence[fid].append(shown)
        else:
            evidence[fid] = [shown]
        states[fid] = "present"

    if reading is not None:
        for fid, text_state in reading.findings.items():
            if fid not in states:
                continue  # the reader only names known ids; derived ones come from facts
            spans = list(reading.evidence.get(fid, []))
            if states[fid] == "unknown":
                states[fid] = text_state
                evidence[fid] = spans
            elif states[fid] != text_state:
                conflicts.append(
                    Conflict(
                        finding=fid,
                        kept=states[fid],
                        other=text_state,
                        why="the structured findings and the text disagree; the structured "
                        "finding is kept",
                        evidence=[*evidence.get(fid, []), *spans],
                    )
                )

    for fid, state, derived_from in derived:
        states[fid] = state
        if derived_from is not None:
            evidence[fid] = [derived_from]

    # A mention the text did not count is worth showing only while the finding is still unknown.
    uncertain = [u for u in uncertain if states.get(u.finding) == "unknown"]
    return Resolved(
        findings=states,
        evidence={key: evidence[key] for key in sorted(evidence) if evidence[key]},
        conflicts=conflicts,
        facts=facts,
        presentation=presentation,
        warnings=warnings,
        uncertain=uncertain,
    )


Measured = tuple[tuple[str, Evidence], ...]
Derived = tuple[tuple[str, FindingState, Evidence | None], ...]
MEMO_LIMIT = 100_000


def _from_facts(knowledge: Knowledge, facts: dict[str, Any]) -> tuple[Measured, Derived]:
    """The findings a measurement shows present (``present_when``) and the derived findings,
    with their evidence: a pure function of the facts, so shared between cases that agree on
    them (keyed by the values of the facts those rules read, and their types: 38 and 38.0 are
    shown differently)."""
    ready = prepared(knowledge)
    values = tuple([facts.get(name) for name in ready.intake_facts])  # 4 facts: no itemgetter
    key = (values, tuple(map(type, values)))
    memo = ready.resolved
    found: tuple[Measured, Derived] | None = memo.get(key)
    if found is None:
        if len(memo) > MEMO_LIMIT:
            memo.clear()
        plain = Facts(findings={}, facts=facts)
        measured = tuple(
            (fid, _fact_evidence(finding.present_when, facts))
            for fid, finding in knowledge.findings.items()
            if finding.present_when is not None and evaluate(finding.present_when, plain) is True
        )
        derived: list[tuple[str, FindingState, Evidence | None]] = []
        for fid, finding in knowledge.findings.items():
            if finding.derived is None:
                continue
            value = evaluate(finding.derived, plain)
            if value is None:
                derived.append((fid, "unknown", None))
            else:
                state: FindingState = "present" if value else "absent"
                derived.append((fid, state, _fact_evidence(finding.derived, facts)))
        found = memo[key] = (measured, tuple(derived))
    return found


def _fact_evidence(rule: Any, facts: Mapping[str, Any]) -> Evidence:
    names = [node.fact for node in walk(rule) if isinstance(node, FactCompare)]
    name = names[0] if names else "facts"
    source = "measurements" if name in MEASUREMENT_IDS else name
    shown = ", ".join(f"{n} = {facts.get(n)}" for n in dict.fromkeys(names))
    return trusted(Evidence, source=source, detail=shown)

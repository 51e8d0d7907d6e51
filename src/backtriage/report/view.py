"""One view-model for every human-readable renderer (Markdown, HTML): the assessment, with
references numbered in order of first citation and ids turned into labels.  It decides nothing
clinical: every sentence comes from the assessment."""

from __future__ import annotations

from typing import Any

from backtriage.assessment import Assessment, Statement
from backtriage.knowledge import Knowledge
from backtriage.knowledge.schema import phrase

URGENCY_WORDS = {
    "emergency": "same-day emergency evaluation",
    "urgent": "prompt work-up: tests now, seen within days",
    "routine": "conservative care with planned reassessment",
}
STATUS_WORDS = {
    "suspected": "suspected",
    "not_excluded": "not excluded",
    "screened_negative": "screened negative",
}
STUDY_WORDS = {
    "xray_lumbar_spine": "Plain radiography of the lumbar spine",
    "mri_lumbar_spine_without_contrast": "MRI lumbar spine without contrast",
    "mri_lumbar_spine_with_and_without_contrast": "MRI lumbar spine with and without contrast",
    "ct_lumbar_spine_without_contrast": "CT lumbar spine without contrast",
}
LAB_WORDS = {"cbc": "CBC", "esr": "ESR", "crp": "CRP", "urinalysis": "urinalysis"}
TIMING_WORDS = {"immediate": "immediately", "prompt": "promptly", "routine": "routinely"}
# A value a finding is worked out from (evidence detail "age = 75"), in words + unit.  The
# measurements' names and units are the knowledge base's (measurements.yaml), as on the form.
VALUE_WORDS = {
    "age": ("age", ""),
    "duration_days": ("duration", "days"),
    "conservative_therapy_weeks": ("conservative therapy", "weeks"),
}


class Numbering:
    """Reference ids → 1, 2, 3 … in order of first citation."""

    def __init__(self) -> None:
        self.order: list[str] = []

    def __call__(self, citations: list[str]) -> str:
        numbers = []
        for rid in citations:
            if rid not in self.order:
                self.order.append(rid)
            numbers.append(str(self.order.index(rid) + 1))
        return ", ".join(numbers)


def build(assessment: Assessment, knowledge: Knowledge) -> dict[str, Any]:
    cite = Numbering()
    label = {fid: f.label for fid, f in knowledge.findings.items()}
    values = _value_words(knowledge)

    def statement(item: Statement | None) -> dict[str, Any] | None:
        if item is None:
            return None
        view: dict[str, Any] = {
            "summary": item.summary,
            "detail": item.detail,
            "strength": item.strength,
            "cite": cite(item.citations),
            "disagreement": None,
        }
        if item.disagreement is not None:
            view["disagreement"] = {
                "summary": item.disagreement.summary,
                "positions": [
                    {"position": p["position"], "cite": cite(p["citations"])}
                    for p in item.disagreement.positions
                ],
            }
        return view

    def statements(items: list[Statement]) -> list[dict[str, Any]]:
        return [view for view in map(statement, items) if view is not None]

    view: dict[str, Any] = {
        "a": assessment,
        "complaint": assessment.case.get("complaint"),
        "urgency_words": URGENCY_WORDS[assessment.urgency],
        "summary": statements(assessment.summary),
        "diagnosis": statements(assessment.diagnosis),
    }
    conditions = []
    for c in assessment.conditions:
        probability = None
        if c.probability is not None:
            p = c.probability
            probability = {
                "nothing_known": all(f.state in (None, "unknown") for f in p.figures),
                "pretest": _percent(p.pretest),
                "posttest": None if p.posttest is None else _percent(p.posttest),
                "method": p.method,
                "assumption": p.assumption,
                "if_present": [
                    {"label": label.get(fid, fid), "posttest": _percent(value)}
                    for fid, value in p.if_present.items()
                ],
                "unverified": p.unverified,
                "figures": [
                    {
                        "text": _figure_text(f.kind, f.value, f.lr, f.finding, f.state, label),
                        "certainty": f.certainty,
                        "setting": f.setting,
                        "cite": cite(f.citations),
                    }
                    for f in p.figures
                ],
            }
        conditions.append(
            {
                "id": c.id,
                "label": c.label,
                "kind": c.kind,
                "status": STATUS_WORDS[c.status],
                "suspected": c.status == "suspected",
                "urgency": c.urgency or knowledge.conditions[c.id].urgency,
                "triggers": [label[f] for f in c.triggers],
                "missing": [label[f] for f in c.missing],
                "absent": [label[f] for f in c.absent],
                "screen": statement(c.screen),
                "action": statement(c.action),
                "lead": c.action_lead,
                "caveat": statement(c.caveat),
                "disagreement": None
                if c.disagreement is None
                else {
                    "summary": c.disagreement.summary,
                    "positions": [
                        {"position": p["position"], "cite": cite(p["citations"])}
                        for p in c.disagreement.positions
                    ],
                },
                "levels": c.levels,
                "probability": probability,
            }
        )
    view["red_flags"] = [c for c in conditions if c["kind"] == "red_flag"]
    view["mimics"] = [c for c in conditions if c["kind"] == "mimic"]
    view["diagnoses"] = [c for c in conditions if c["kind"] == "diagnosis"]
    view["evaluation"] = statements(assessment.evaluation)
    view["imaging"] = [
        {
            "study": STUDY_WORDS.get(o.study, o.study),
            "timing": TIMING_WORDS[o.timing],
            "why": o.why,
            "acr": o.acr,
            "cite": cite(o.citations),
        }
        for o in assessment.imaging
    ]
    view["imaging_statements"] = statements(assessment.imaging_statements)
    view["acr_variants"] = [{"v": v, "cite": cite(v.citations)} for v in assessment.acr_variants]
    view["labs"] = [LAB_WORDS.get(lab, lab) for lab in assessment.labs]
    view["labs_cite"] = cite(lab_citations(assessment, knowledge))
    view["management"] = statements(assessment.management)
    view["psychosocial"] = {
        "start_back": assessment.psychosocial.start_back,
        "yellow_flags": [label[f] for f in assessment.psychosocial.yellow_flags],
        "statements": statements(assessment.psychosocial.statements),
    }
    view["follow_up"] = {
        "days": assessment.follow_up.reassess_in_days,
        "statements": statements(assessment.follow_up.statements),
        "safety_net": statements(assessment.follow_up.safety_net),
    }
    view["pitfalls"] = statements(assessment.pitfalls)
    view["questions"] = assessment.questions
    view["known"] = [
        {
            "label": label.get(fid, fid),
            "state": state,
            "evidence": [_evidence_text(e, values) for e in assessment.evidence.get(fid, [])],
        }
        for fid, state in assessment.findings.items()
        if state != "unknown"
    ]
    view["uncertain"] = [
        {
            "label": label.get(u.finding, u.finding),
            "why": u.why.replace("_", " "),
            "evidence": _evidence_text(u.evidence, values),
        }
        for u in assessment.uncertain
    ]
    view["conflicts"] = [
        {"label": label.get(c.finding, c.finding), "kept": c.kept, "other": c.other, "why": c.why}
        for c in assessment.conflicts
    ]
    view["references"] = [
        {
            "n": n,
            "ref": assessment.references[rid],
            "text": reference_text(assessment.references[rid]),
        }
        for n, rid in enumerate(cite.order, start=1)
    ]
    return view


def lab_citations(assessment: Assessment, knowledge: Knowledge) -> list[str]:
    """The citations of the statements that ask for the laboratory tests: the action of each
    suspected condition that asks for one, and each recommendation given that does."""
    wanted = set(assessment.labs)
    cited = [
        ref
        for c in assessment.conditions
        if c.status == "suspected" and c.action is not None
        if wanted & set(knowledge.conditions[c.id].labs)
        for ref in c.action.citations
    ]
    asking = {r.id for r in knowledge.recommendations if wanted & set(r.labs)}
    given = [
        *assessment.summary,
        *assessment.diagnosis,
        *assessment.evaluation,
        *assessment.imaging_statements,
        *assessment.management,
        *assessment.psychosocial.statements,
        *assessment.follow_up.statements,
        *assessment.follow_up.safety_net,
        *assessment.pitfalls,
    ]
    cited += [ref for s in given if s.id in asking for ref in s.citations]
    return list(dict.fromkeys(cited))


def reference_text(ref: Any) -> str:
    """Vancouver-like: Authors. Title. Journal Year;citation."""
    authors = ref.authors.rstrip(".")
    title = ref.title if ref.title.endswith(("?", "!", ".")) else f"{ref.title}."
    where = ref.citation or str(ref.year)
    if ref.citation and not ref.citation.startswith(str(ref.year)):
        where = f"{ref.year};{ref.citation}"
    return f"{authors}. {title} {ref.journal}. {where}."


def _percent(value: float) -> str:
    percent = value * 100
    if percent >= 10:
        return f"{percent:.0f}%"
    if percent >= 1:
        return f"{percent:.1f}%"
    return f"{percent:.2g}%"


def _figure_text(
    kind: str,
    value: float | None,
    lr: float | None,
    finding: str | None,
    state: str | None,
    label: dict[str, str],
) -> str:
    name = label.get(finding or "", finding or "")
    if kind == "pretest":
        return f"pretest probability {_percent(value or 0)}"
    if kind == "posttest":
        return f"{name} present: published post-test probability {_percent(value or 0)}"
    if state == "unknown":
        return f"{name} (not known yet): LR+ {lr:.2f} if present"
    sign = "+" if state == "present" else "−"
    return f"{name} {state}: LR{sign} {lr:.2f}" if lr is not None else f"{name} {state}"


def _value_words(knowledge: Knowledge) -> dict[str, tuple[str, str]]:
    """The name in a sentence and the unit of each value a finding can be worked out from: the
    case's own (VALUE_WORDS) and the knowledge base's measurements."""
    measured = {m.id: (phrase(m.label), m.unit) for m in knowledge.measurements.values()}
    return VALUE_WORDS | measured


def _evidence_text(evidence: Any, values: dict[str, tuple[str, str]]) -> str:
    if evidence.source in ("complaint", "note") and evidence.text is not None:
        return f"from the {evidence.source}: “{evidence.text}”"
    if evidence.source == "findings":
        return "given in the case's findings"
    words = _values_in_words(evidence.detail, values)
    if words is not None:
        return f"from {words}"
    return f"from {evidence.source}" + (f" ({evidence.detail})" if evidence.detail else "")


def _values_in_words(detail: str | None, values: dict[str, tuple[str, str]]) -> str | None:
    """ "temperature_c = 38.4, age = 75" -> "temperature 38.4 °C, age 75"; None if any part is
    not a value named in ``values`` (:func:`_value_words`)."""
    words = []
    for part in (detail or "").split(", "):
        name, equals, value = part.partition(" = ")
        if not equals or name not in values:
            return None
        word, unit = values[name]
        number = value.removesuffix(".0")  # 45.0 mm/h as typed, 45
        words.append(" ".join(filter(None, (word, number, unit))))
    return ", ".join(words)

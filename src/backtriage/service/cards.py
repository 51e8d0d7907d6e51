"""CDS Hooks cards and system actions, rendered from an assessment and order ratings.  A renderer:
what is urgent, suspected or missing is the engine's answer; here it is only worded.

Every statement in a card's detail ends with the numbers of the references it rests on (the
citations the assessment gives it), listed at the end of the detail, as in the report.

JSON hygiene (spec §Card): no element is null or empty; optional ones are left out."""

from __future__ import annotations

import uuid
from typing import Any

from backtriage.assessment import Assessment, ConditionResult, Statement
from backtriage.knowledge import Knowledge
from backtriage.report.view import (
    LAB_WORDS,
    STUDY_WORDS,
    Numbering,
    lab_citations,
    reference_text,
)
from backtriage.service.pama import OrderRating

INDICATOR = {"emergency": "critical", "urgent": "warning", "routine": "info"}
URGENCY_WORDS = {
    "emergency": "same-day emergency evaluation",
    "urgent": "prompt work-up",
    "routine": "conservative care",
}
OVERRIDE_SYSTEM = "urn:backtriage:override-reason"
OVERRIDE_REASONS = (
    ("red-flag-not-recorded", "A red flag is present that the record does not show"),
    ("prior-imaging-unavailable", "Earlier imaging is needed but not available"),
    ("specialist-requested", "Requested by the treating specialist"),
    ("clinical-judgement", "Clinical judgement (other reason)"),
)
SUMMARY_MAX = 139


def summary(text: str) -> str:
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1].rstrip() + "…"


def _source(knowledge: Knowledge) -> dict[str, Any]:
    acr = knowledge.references.get("acr2021")
    source: dict[str, Any] = {"label": "backtriage (ACR 2021, ACP/APS, NICE NG59)"}
    if acr is not None:
        source["url"] = acr.link
    return source


def _label(knowledge: Knowledge, finding: str) -> str:
    item = knowledge.findings.get(finding)
    return item.label if item is not None else finding


def _cite(numbering: Numbering, citations: list[str]) -> str:
    return f" [{numbering(citations)}]" if citations else ""


def _references(numbering: Numbering, knowledge: Knowledge) -> list[str]:
    """The detail's closing list of the references its statements cite, in citation order."""
    if not numbering.order:
        return []
    listed = [
        f"{n}. {reference_text(ref)} <{ref.link}>"
        for n, ref in enumerate((knowledge.references[rid] for rid in numbering.order), 1)
    ]
    return ["", "**References**", *listed]


def _red_flag_lines(assessment: Assessment, knowledge: Knowledge, cite: Numbering) -> list[str]:
    """A line for each suspected or not-yet-excluded condition, citing its screening statement
    (which findings point to it)."""
    lines: list[str] = []
    for condition in _suspected(assessment):
        why = ", ".join(_label(knowledge, f) for f in condition.triggers) or condition.rule
        lines.append(
            f"- **{condition.label}: suspected** — {why}"
            + _cite(cite, _basis(condition.screen, condition.action))
        )
    for condition in assessment.conditions:
        if condition.status == "not_excluded" and condition.kind == "red_flag":
            ask = ", ".join(_label(knowledge, f) for f in condition.missing[:6])
            lines.append(
                f"- {condition.label}: not excluded — still to assess: {ask}"
                + _cite(cite, _basis(condition.screen, condition.action))
            )
    return lines


def _suspected(assessment: Assessment) -> list[ConditionResult]:
    """The conditions suspected that are not a diagnosis: the red flags and non-spinal causes."""
    return [c for c in assessment.conditions if c.status == "suspected" and c.kind != "diagnosis"]


def _basis(*statements: Statement | None) -> list[str]:
    """The citations of the first of ``statements`` there is."""
    return next((s.citations for s in statements if s is not None), [])


def patient_view_card(
    assessment: Assessment, knowledge: Knowledge, report_url: str, recorded: list[str]
) -> dict[str, Any] | None:
    """One card with the triage, or None when there is nothing to act on (routine urgency, no
    suspected condition, no test to order, no red-flag diagnosis in the chart): sparing alert
    fatigue.  ``recorded`` are the active coded conditions the record holds."""
    suspected = [
        c for c in assessment.conditions if c.status == "suspected" and c.kind != "diagnosis"
    ]
    charted = [
        knowledge.conditions[c].label
        for c in recorded
        if c in knowledge.conditions and knowledge.conditions[c].kind == "red_flag"
    ]
    quiet = assessment.urgency == "routine" and not suspected and not charted
    if quiet and not assessment.imaging and not assessment.labs:
        return None
    text = (
        f"Low back pain: {URGENCY_WORDS[assessment.urgency]} — most likely "
        f"{assessment.most_likely_label.lower()}"
    )
    cite = Numbering()
    flags = _red_flag_lines(assessment, knowledge, cite)
    lines = ["**Red flags**", *(flags or ["- none suspected"])]
    if charted:
        lines += [
            "",
            f"**Diagnosed in the chart:** {', '.join(charted)} — the triage above reads "
            "findings, not diagnoses; review the diagnosis with the findings still to assess.",
        ]
    if assessment.imaging:
        lines += ["", "**Imaging now**"]
        lines += [
            f"- {STUDY_WORDS.get(order.study, order.study)} ({order.timing}): {order.why}"
            + _cite(cite, order.citations)
            for order in assessment.imaging
        ]
    if assessment.labs:
        labs = ", ".join(LAB_WORDS.get(lab, lab) for lab in assessment.labs)
        lines += [
            "",
            f"**Laboratory tests:** {labs}" + _cite(cite, lab_citations(assessment, knowledge)),
        ]
    if assessment.unassessed:
        labels = ", ".join(_label(knowledge, f) for f in assessment.unassessed[:12])
        more = len(assessment.unassessed) - 12
        lines += ["", f"**Not yet assessed:** {labels}" + (f" and {more} more" if more > 0 else "")]
    lines += _references(cite, knowledge)
    return _card(
        summary(text),
        INDICATOR[assessment.urgency],
        "\n".join(lines),
        knowledge,
        report_url,
    )


def order_cards(
    ratings: list[OrderRating],
    assessment: Assessment,
    knowledge: Knowledge,
    report_url: str,
    alternative_orders: dict[str, dict[str, Any]],
) -> list[tuple[dict[str, Any], str]]:
    """(card, kind) for each rated order that needs the orderer's attention."""
    out: list[tuple[dict[str, Any], str]] = []
    for rating in ratings:
        display = rating.order.code.display
        if rating.rating == "not-appropriate":
            table = knowledge.acr_variants
            cite = Numbering()
            variant_texts = [
                f"ACR variant {v}: {table[v].text}" + _cite(cite, list(knowledge.acr.citations))
                for v in rating.variants
            ]
            flagged = bool(_suspected(assessment))
            lines = [
                f"**{display}** is rated *{rating.category}* by the ACR Appropriateness Criteria "
                "for low back pain (2021) for this patient:",
                *(f"- {text}" for text in variant_texts),
                "",
                "**Red flags**"
                if flagged
                else "The rating assumes no red flag; these are not yet recorded as assessed:",
                *(_red_flag_lines(assessment, knowledge, cite) or ["- (all screened)"]),
                *_references(cite, knowledge),
            ]
            card = _card(
                summary(f"{display}: usually not appropriate for this low back pain (ACR 2021)"),
                "warning",
                "\n".join(lines),
                knowledge,
                report_url,
            )
            suggestions = _suggestions(rating, display, alternative_orders)
            if suggestions:  # none for an order sent without an id: a removal must name it
                card["suggestions"] = suggestions
                card["selectionBehavior"] = "at-most-one"
            card["overrideReasons"] = [
                {"system": OVERRIDE_SYSTEM, "code": code, "display": text}
                for code, text in OVERRIDE_REASONS
            ]
            out.append((card, "order-not-appropriate"))
        elif rating.rating is None:
            missing = "; ".join(rating.missing)
            card = _card(
                summary(f"Lumbar imaging order not rated (ACR 2021): needs {missing}"),
                "info",
                f"To rate **{display}** against the ACR Appropriateness Criteria for low back "
                f"pain, the record needs: {missing}.",
                knowledge,
                report_url,
            )
            out.append((card, "order-unrated"))
    return out


def _suggestions(
    rating: OrderRating, display: str, alternative_orders: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Remove the order, or replace it with a study rated Usually Appropriate.  "Instead": a
    suggestion's actions are applied together and the user accepts at most one suggestion, so
    a replacement removes the order itself."""
    if rating.order.reference is None:
        return []
    remove = {
        "type": "delete",
        "description": f"Remove the draft order for {display}",
        "resourceId": rating.order.reference,
    }
    suggestions: list[dict[str, Any]] = [
        {
            "label": f"Remove the order for {display}",
            "uuid": str(uuid.uuid4()),
            "isRecommended": True,
            "actions": [remove],
        }
    ]
    for procedure in rating.alternatives:
        resource = alternative_orders.get(procedure)
        if resource is not None:
            create = {"type": "create", "description": f"Order {procedure}", "resource": resource}
            suggestions.append(
                {
                    "label": f"Order {procedure} instead",
                    "uuid": str(uuid.uuid4()),
                    "actions": [remove, create],
                }
            )
    return suggestions


def _card(
    text: str, indicator: str, detail: str, knowledge: Knowledge, report_url: str
) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid4()),
        "summary": text,
        "indicator": indicator,
        "detail": detail,
        "source": _source(knowledge),
        "links": [{"label": "Full backtriage report", "url": report_url, "type": "absolute"}],
    }

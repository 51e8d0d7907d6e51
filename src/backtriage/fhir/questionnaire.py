"""The intake Questionnaire (one question per finding, answers present / absent / unknown), built
from the knowledge base so it can never drift from the finding ids, and the reading of a
QuestionnaireResponse to it."""

from __future__ import annotations

from typing import Any

from backtriage.case import FindingState
from backtriage.knowledge import Knowledge

URL = "urn:backtriage:fhir:Questionnaire:lbp-intake"
ANSWER_SYSTEM = "urn:backtriage:fhir:CodeSystem:finding-state"
_STATES: tuple[FindingState, ...] = ("present", "absent", "unknown")


def intake_questionnaire(knowledge: Knowledge) -> dict[str, Any]:
    """The FHIR R4 Questionnaire served at ``/fhir/Questionnaire/lbp-intake``."""
    items = []
    for finding in knowledge.findings.values():
        if finding.kind == "derived":
            continue  # computed from other answers (e.g. age), never asked
        items.append(
            {
                "linkId": finding.id,
                "text": finding.ask,
                "prefix": finding.label,
                "type": "choice",
                "answerOption": [
                    {"valueCoding": {"system": ANSWER_SYSTEM, "code": state, "display": state}}
                    for state in _STATES
                ],
            }
        )
    return {
        "resourceType": "Questionnaire",
        "id": "lbp-intake",
        "url": URL,
        "version": knowledge.version,
        "name": "BacktriageLowBackPainIntake",
        "title": "Low back pain intake (backtriage)",
        "status": "active",
        "subjectType": ["Patient"],
        "description": "One question per finding the backtriage engine screens for. Unknown is "
        "not absent: leave a question unanswered or answer 'unknown' when it was not assessed.",
        "item": items,
    }


def is_intake(canonical: str | None) -> bool:
    return bool(canonical) and str(canonical).split("|")[0].rstrip("/").endswith("lbp-intake")


def answers(items: Any) -> list[tuple[str, FindingState]]:
    """(linkId, state) for every answered item, nested items included."""
    out: list[tuple[str, FindingState]] = []
    for item in items or []:
        for answer in item.answer or []:
            state = _state(answer)
            if state is not None:
                out.append((item.linkId, state))
            out.extend(answers(answer.item))
        out.extend(answers(item.item))
    return out


def _state(answer: Any) -> FindingState | None:
    coding = answer.valueCoding
    if coding is not None and coding.code in _STATES:
        code: FindingState = coding.code
        return code
    if answer.valueBoolean is not None:
        return "present" if answer.valueBoolean else "absent"
    return None

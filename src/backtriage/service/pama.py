"""The Argonaut "CDS Hooks for PAMA" rating of a lumbar imaging order from the ACR 2021 table.

ACR category -> Argonaut ``pama-rating``:
  Usually Appropriate                      -> appropriate
  May Be Appropriate (and its Disagreement) -> appropriate, with a second coding saying "may be
      appropriate": the IG's code list has no middle value, it allows finer translation codings,
      and CMS counted "may be appropriate" as adhering to AUC; the card says so.
  Usually Not Appropriate                  -> not-appropriate
Which variants apply is the engine's answer (``Assessment.acr_variants``).  Several specific
variants (a red flag each) -> the most favourable rating among them, since any one of them can
justify the study.  Only the fallback variants (1/2, which differ by duration) -> rated only when
they agree.  No low back pain in the record and no reason on the order -> no rating, and the
card asks for the indication; coded reasons none of which is low back pain -> no-criteria-apply.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from backtriage.assessment import Assessment
from backtriage.fhir import FhirCodes, ImagingOrder
from backtriage.knowledge import Knowledge

Rating = Literal["appropriate", "not-appropriate", "no-criteria-apply"]
RATING_SYSTEM = "http://fhir.org/argonaut/CodeSystem/pama-rating"
CATEGORY_SYSTEM = "urn:backtriage:acr-category"
EXT = "http://fhir.org/argonaut/Extension/"
_BEST = {
    "Usually Appropriate": 3,
    "May Be Appropriate (Disagreement)": 2,
    "May Be Appropriate": 2,
    "Usually Not Appropriate": 0,
}
_RATING: dict[str, Rating] = {
    "Usually Appropriate": "appropriate",
    "May Be Appropriate": "appropriate",
    "May Be Appropriate (Disagreement)": "appropriate",
    "Usually Not Appropriate": "not-appropriate",
}


@dataclass(frozen=True)
class OrderRating:
    order: ImagingOrder
    rating: Rating | None
    category: str | None = None
    variants: tuple[int, ...] = ()
    missing: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()  # ACR procedures rated Usually Appropriate
    consult_id: str = field(default_factory=lambda: f"urn:uuid:{uuid.uuid4()}")


def rate(
    order: ImagingOrder,
    assessment: Assessment,
    knowledge: Knowledge,
    codes: FhirCodes,
    lbp_in_record: bool,
) -> OrderRating:
    fallback = {m.variant for m in knowledge.acr.matching if m.fallback}
    matched = [v.variant for v in assessment.acr_variants]
    specific = [v for v in matched if v not in fallback]
    reasons = [
        (c.system or "", c.code or "")
        for concept in order.model.reasonCode or []
        for c in concept.coding or []
    ]
    lbp_reason = any(
        codes.finding_for(s, c) or codes.condition_for(s, c) for s, c in reasons if s and c
    )
    if not (lbp_in_record or lbp_reason or specific):
        if reasons:
            return OrderRating(order, "no-criteria-apply")
        return OrderRating(order, None, missing=("the indication (a coded reasonCode)",))
    if order.procedure is None:
        return OrderRating(
            order,
            None,
            missing=("the study: with or without contrast",),
        )
    variants = specific or [v for v in matched if v in fallback]
    if not variants:
        return OrderRating(order, None, missing=("the clinical scenario (no ACR variant applies)",))
    table = knowledge.acr_variants
    categories = {
        v: next(r.category for r in table[v].ratings if r.procedure == order.procedure)
        for v in variants
    }
    if specific:
        category = max(categories.values(), key=lambda c: _BEST[c])
    elif len(set(categories.values())) == 1:
        category = next(iter(categories.values()))
    else:
        return OrderRating(
            order, None, variants=tuple(variants), missing=("how long the back pain has lasted",)
        )
    alternatives = tuple(
        dict.fromkeys(
            r.procedure
            for v in variants
            for r in table[v].ratings
            if r.category == "Usually Appropriate" and r.procedure != order.procedure
        )
    )
    return OrderRating(
        order, _RATING[category], category, tuple(sorted(variants)), (), alternatives
    )


def rated_resource(rating: OrderRating, qcdsm: str, auc_url: str) -> dict[str, Any]:
    """The ServiceRequest as sent, plus the Argonaut rating extensions (any earlier ones
    replaced); nothing else changes, as the IG requires.  A new top-level object: the elements
    it does not change are the ones sent (shared, not copied: nothing here modifies them)."""
    assert rating.rating is not None  # callers pass rated orders only
    resource = dict(rating.order.resource)
    kept = [e for e in resource.get("extension") or [] if not str(e.get("url", "")).startswith(EXT)]
    codings: list[dict[str, Any]] = [{"system": RATING_SYSTEM, "code": rating.rating}]
    if rating.category is not None:
        codings.append(
            {
                "system": CATEGORY_SYSTEM,
                "code": rating.category.lower().replace(" ", "-").replace("(", "").replace(")", ""),
                "display": f"ACR: {rating.category}",
            }
        )
    kept += [
        {"url": EXT + "pama-rating", "valueCodeableConcept": {"coding": codings}},
        {"url": EXT + "pama-rating-qcdsm-consulted", "valueString": qcdsm},
        {"url": EXT + "pama-rating-consult-id", "valueUri": rating.consult_id},
        {"url": EXT + "pama-rating-auc-applied", "valueUri": auc_url},
    ]
    resource["extension"] = kept
    return resource


def alternative_order(procedure: str, codes: FhirCodes, patient_id: str) -> dict[str, Any] | None:
    """A draft ServiceRequest for ``procedure`` coded with its CPT code, if there is one."""
    code = next(
        (c for c in codes.orders.values() if c.procedure == procedure and "cpt" in c.system),
        None,
    )
    if code is None:
        return None
    return {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient_id}"},
        "code": {"coding": [{"system": code.system, "code": code.code, "display": code.display}]},
    }

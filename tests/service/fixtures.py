"""CDS Hooks request builders, including the Argonaut connectathon low back pain vector."""

from __future__ import annotations

import json
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

CPT = "http://www.ama-assn.org/go/cpt"
SCT = "http://snomed.info/sct"
# context.patientId and a reference to that patient, in each form a client may send them
SAME_PATIENT = [
    ("p1", "Patient/p1"),
    ("p1", "https://ehr.example.test/fhir/Patient/p1"),
    ("p1", "Patient/p1/_history/3"),
    ("Patient/p1", "Patient/p1"),
]


def send_json(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: Any,
    content_type: str = "application/fhir+json",
) -> None:
    """Answer a test stand-in server's request with ``body`` as JSON."""
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def years_ago(years: int, today: date | None = None) -> str:
    today = today or date.today()
    return (today.replace(year=today.year - years) - timedelta(days=30)).isoformat()


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }


def lbp_condition(
    onset_days: int = 120, code: str = "279039007", patient: str = "p1"
) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": "lbp",
        "subject": {"reference": f"Patient/{patient}"},
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "code": {"coding": [{"system": SCT, "code": code, "display": "Low back pain"}]},
        "onsetDateTime": (date.today() - timedelta(days=onset_days)).isoformat(),
    }


def order(
    cpt: str = "72133", reason: str | None = "279039007", oid: str = "o1", patient: str = "p1"
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": oid,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient}"},
        "code": {"coding": [{"system": CPT, "code": cpt}]},
    }
    if reason:
        resource["reasonCode"] = [{"coding": [{"system": SCT, "code": reason}]}]
    return resource


def prefetch(
    *conditions: dict[str, Any], age: int = 49, sex: str = "female", **extra: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "patient": {
            "resourceType": "Patient",
            "id": "p1",
            "gender": sex,
            "birthDate": years_ago(age),
        },
        "conditions": bundle(*conditions) if conditions else None,
        "observations": None,
        "medications": None,
        "intake": None,
    }
    out.update(extra)
    return out


def order_sign(
    *orders: dict[str, Any], pre: dict[str, Any] | None = None, hook: str = "order-sign"
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": hook,
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {
            "userId": "Practitioner/1",
            "patientId": "p1",
            "draftOrders": bundle(*(orders or (order(),))),
        },
        "prefetch": pre if pre is not None else prefetch(lbp_condition()),
    }
    if hook == "order-select":
        body["context"]["selections"] = [f"ServiceRequest/{o['id']}" for o in orders or (order(),)]
    return body


def argonaut_lbp() -> dict[str, Any]:
    """Connectathon 2019-09: CPT 72133, SNOMED 279039007, 49-year-old woman, 4 months, no red
    flags -> not-appropriate."""
    return order_sign(order("72133", "279039007"), pre=prefetch(lbp_condition(120)))


def patient_view(pre: dict[str, Any]) -> dict[str, Any]:
    return {
        "hook": "patient-view",
        "hookInstance": "5bd7a4d4-1a42-4a39-9a41-8b3c1f0f2a11",
        "context": {"userId": "Practitioner/1", "patientId": "p1"},
        "prefetch": {"notes": None, **pre},
    }

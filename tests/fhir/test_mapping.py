"""FHIR R4 -> case: codes from the knowledge base, units, medications, the intake answers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from backtriage.api import default_knowledge
from backtriage.fhir import FhirError, fhir_codes, intake_questionnaire, parse_resource, read_record
from backtriage.fhir.questionnaire import ANSWER_SYSTEM, URL

TODAY = date(2026, 11, 25)
K = default_knowledge()
C = fhir_codes(K)


def read(*resources: dict[str, Any]) -> Any:
    return read_record([parse_resource(r, "test") for r in resources], K, C, TODAY)


def condition(system: str, code: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "subject": {"reference": "Patient/p"},
        "code": {"coding": [{"system": system, "code": code}]},
        **extra,
    }


def test_patient_age_sex_and_lbp_duration() -> None:
    reading = read(
        {"resourceType": "Patient", "birthDate": "1977-11-26", "gender": "female"},
        condition(
            "http://snomed.info/sct",
            "279039007",
            onsetDateTime=(TODAY - timedelta(days=120)).isoformat(),
        ),
    )
    assert (reading.case.age, reading.case.sex, reading.case.duration_days) == (48, "female", 120)
    assert reading.lbp_coded


def test_icd10_prefix_and_history_and_refuted() -> None:
    reading = read(
        condition(
            "http://hl7.org/fhir/sid/icd-10-cm",
            "Z85.3",
            clinicalStatus={"coding": [{"code": "resolved"}]},
        ),
        condition(
            "http://snomed.info/sct",
            "386661006",
            verificationStatus={"coding": [{"code": "refuted"}]},
        ),
    )
    assert reading.case.findings == {"history_of_cancer": "present", "fever": "absent"}


def test_observation_units_and_latest_value() -> None:
    def temp(value: float, unit: str, when: str) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
            "valueQuantity": {"value": value, "code": unit},
            "effectiveDateTime": when,
        }

    crp = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "1988-5"}]},
        "valueQuantity": {"value": 2.5, "code": "mg/dL"},
    }
    reading = read(temp(37.0, "Cel", "2026-11-01"), temp(101.3, "[degF]", "2026-11-20"), crp)
    assert reading.case.measurements.temperature_c == pytest.approx(38.5)
    assert reading.case.measurements.crp_mg_l == 25.0


def test_corticosteroids_for_three_months_and_immunosuppressant() -> None:
    pred = {
        "resourceType": "MedicationStatement",
        "status": "active",
        "subject": {"reference": "Patient/p"},
        "medicationCodeableConcept": {"text": "Prednisone 10 MG Oral Tablet"},
        "effectivePeriod": {"start": "2026-06-01"},
    }
    inhaled = {
        **pred,
        "medicationCodeableConcept": {"text": "budesonide"},
        "dosage": [{"route": {"text": "inhalation"}}],
    }
    tacro = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p"},
        "authoredOn": "2026-11-01",
        "medicationCodeableConcept": {"text": "Tacrolimus 1 MG"},
    }
    reading = read(pred, inhaled, tacro)
    assert reading.case.findings == {
        "prolonged_corticosteroid_use": "present",
        "immunocompromised": "present",
    }
    short = {**pred, "effectivePeriod": {"start": "2026-10-01"}}
    assert read(short).case.findings == {}


def test_questionnaire_response_and_document_text() -> None:
    items = [item["linkId"] for item in intake_questionnaire(K)["item"]]
    assert "saddle_anesthesia" in items and len(items) == len(set(items))
    response = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": URL,
        "item": [
            {
                "linkId": "saddle_anesthesia",
                "answer": [{"valueCoding": {"system": ANSWER_SYSTEM, "code": "absent"}}],
            },
            {"linkId": "fever", "answer": [{"valueBoolean": True}]},
        ],
    }
    doc = {
        "resourceType": "DocumentReference",
        "status": "current",
        "content": [{"attachment": {"contentType": "text/plain", "data": "RGVuaWVzIGZldmVyLg=="}}],
    }
    reading = read(response, doc)
    assert reading.case.findings == {"saddle_anesthesia": "absent", "fever": "present"}
    assert reading.case.note == "Denies fever."
    bad = {
        **response,
        "item": [{"linkId": "saddle_anaesthesia", "answer": [{"valueBoolean": True}]}],
    }
    with pytest.raises(FhirError, match="did you mean 'saddle_anesthesia'"):
        read(bad)


def test_invalid_resources_name_what_is_wrong() -> None:
    with pytest.raises(FhirError, match="not a FHIR R4 resource type"):
        parse_resource({"resourceType": "Nope"}, "x")
    with pytest.raises(FhirError, match="Patient/p1 is not valid FHIR R4"):
        parse_resource({"resourceType": "Patient", "id": "p1", "gender": 3}, "x")


def test_code_lists_resolve() -> None:
    procedures = {p.name for p in K.acr.procedures}
    assert all(c.procedure in procedures for c in C.orders.values() if c.procedure)
    assert C.orders[("http://www.ama-assn.org/go/cpt", "72133")].procedure == (
        "CT lumbar spine without and with IV contrast"
    )

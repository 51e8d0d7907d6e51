"""CDS Hooks conformance in the spirit of the Inferno CRD test kit: discovery, cards, system
actions, the Argonaut PAMA low back pain vector, errors."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.service import fixtures as f

SIGN = "/cds-services/backtriage-lumbar-imaging-sign"
SELECT = "/cds-services/backtriage-lumbar-imaging-select"
VIEW = "/cds-services/backtriage-patient-view"
RATING = "http://fhir.org/argonaut/Extension/pama-rating"


def no_empty(node: Any, path: str = "$") -> None:
    """CDS Hooks: no element is null or empty ("", [], {}) — except the top-level cards."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}"
            if here != "$.cards":
                assert value not in (None, "", [], {}), f"{here} is null or empty"
            no_empty(value, here)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            no_empty(item, f"{path}[{index}]")


def check_cards(body: dict[str, Any]) -> None:
    no_empty(body)
    assert isinstance(body["cards"], list)
    for card in body["cards"]:
        assert len(card["summary"]) < 140
        assert card["indicator"] in ("info", "warning", "critical")
        assert card["source"]["label"]
        assert card["uuid"]
        assert any(
            link["type"] == "absolute" and "/reports/" in link["url"] for link in card["links"]
        )
        if "suggestions" in card:
            assert card["selectionBehavior"] in ("at-most-one", "any")
            for suggestion in card["suggestions"]:
                assert suggestion["label"]
                for action in suggestion.get("actions", []):
                    assert action["type"] in ("create", "update", "delete")
                    assert action["description"]
                    if action["type"] == "delete":  # a relative reference: Type/id
                        assert re.fullmatch(
                            r"ServiceRequest/[A-Za-z0-9\-.]{1,64}", action["resourceId"]
                        )
        for reason in card.get("overrideReasons", []):
            assert reason["code"] and reason["system"] and reason["display"]
        check_cited(card["detail"])


CITED = re.compile(r" \[(\d+(?:, \d+)*)\]$")
UNCITED = ("- none suspected", "- (all screened)")


def check_cited(detail: str) -> None:
    """Every statement a card makes (a bullet, the tests to order) ends with the numbers of
    its references, and each number is in the card's reference list, with a link."""
    body, _, listed = detail.partition("\n\n**References**\n")
    references = {}
    for line in listed.splitlines():
        number, _, text = line.partition(". ")
        references[int(number)] = text
        assert re.search(r"<https?://\S+>$", text), line
    for line in body.splitlines():
        if line.startswith(("- ", "**Laboratory")) and line not in UNCITED:
            found = CITED.search(line)
            assert found, f"uncited: {line!r}"
            assert {int(n) for n in found.group(1).split(", ")} <= set(references), line


def ratings(body: dict[str, Any]) -> list[str]:
    out = []
    for action in body.get("systemActions", []):
        assert action["type"] == "update"
        for ext in action["resource"]["extension"]:
            if ext["url"] == RATING:
                out.append(ext["valueCodeableConcept"]["coding"][0]["code"])
    return out


def test_discovery(insecure: Any) -> None:
    body = insecure.get("/cds-services").json()
    hooks = {s["hook"] for s in body["services"]}
    assert hooks == {"patient-view", "order-select", "order-sign"}
    for service in body["services"]:
        for field in ("hook", "id", "title", "description", "prefetch"):
            assert service[field]
        assert all("{{context.patientId}}" in q for q in service["prefetch"].values())
    no_empty(body)


def test_argonaut_low_back_pain_vector_is_not_appropriate(insecure: Any) -> None:
    response = insecure.post(SIGN, json=f.argonaut_lbp())
    assert response.status_code == 200
    body = response.json()
    check_cards(body)
    assert ratings(body) == ["not-appropriate"]
    assert body["extension"]["systemActions"] == body["systemActions"]
    resource = body["systemActions"][0]["resource"]
    urls = {e["url"] for e in resource["extension"]}
    assert {
        RATING,
        RATING + "-qcdsm-consulted",
        RATING + "-consult-id",
        RATING + "-auc-applied",
    } <= urls
    consult = next(e for e in resource["extension"] if e["url"].endswith("consult-id"))
    assert consult["valueUri"].startswith("urn:uuid:")
    # the order is otherwise unchanged
    sent = f.argonaut_lbp()["context"]["draftOrders"]["entry"][0]["resource"]
    assert {k: v for k, v in resource.items() if k != "extension"} == sent
    (card,) = body["cards"]
    assert card["indicator"] == "warning"
    assert card["suggestions"][0]["actions"][0]["type"] == "delete"
    assert card["overrideReasons"]


def test_an_alternative_replaces_the_order_it_is_offered_instead_of(insecure: Any) -> None:
    # CT (without, then with contrast) for a 61-year-old with a history of cancer: usually not
    # appropriate, MRI usually appropriate.  Suggestions are at-most-one, so "order the MRI
    # instead" must remove the CT itself (a suggestion's actions are applied together), or
    # accepting it leaves both orders.
    cancer = {**f.lbp_condition(code="266987004"), "id": "ca"}
    body = f.order_sign(f.order("72133"), pre=f.prefetch(f.lbp_condition(), cancer, age=61))
    result = insecure.post(SIGN, json=body).json()
    check_cards(result)
    (card,) = result["cards"]
    assert card["selectionBehavior"] == "at-most-one"
    instead = [s for s in card["suggestions"] if "instead" in s["label"]]
    assert instead
    for suggestion in instead:
        kinds = [(a["type"], a.get("resourceId")) for a in suggestion["actions"]]
        assert kinds == [("delete", "ServiceRequest/o1"), ("create", None)]
        assert suggestion["actions"][1]["resource"]["resourceType"] == "ServiceRequest"


def test_a_rating_for_a_red_flag_does_not_say_it_assumes_none(insecure: Any) -> None:
    cancer = {**f.lbp_condition(code="266987004"), "id": "ca"}
    body = f.order_sign(f.order("72133"), pre=f.prefetch(f.lbp_condition(), cancer, age=61))
    (card,) = insecure.post(SIGN, json=body).json()["cards"]
    assert "Spinal malignancy: suspected" in card["detail"]
    assert "assumes no red flag" not in card["detail"]
    # the Argonaut vector: no red flag recorded, and the card says the rating rests on that
    (plain,) = insecure.post(SIGN, json=f.argonaut_lbp()).json()["cards"]
    assert "The rating assumes no red flag" in plain["detail"]


def test_an_order_without_an_id_gets_no_suggestion_to_remove_it(insecure: Any) -> None:
    order = f.order("72148")
    del order["id"]
    result = insecure.post(SIGN, json=f.order_sign(order)).json()
    check_cards(result)
    (card,) = result["cards"]  # the advice stands; there is no order to point a removal at
    assert "suggestions" not in card and "selectionBehavior" not in card
    assert ratings(result) == ["not-appropriate"]


def test_order_select_rates_only_selected_lumbar_orders(insecure: Any) -> None:
    other = {
        "resourceType": "ServiceRequest",
        "id": "chest",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": f.CPT, "code": "71046"}]},
    }
    body = f.order_sign(f.order("72148"), other, hook="order-select")
    body["context"]["selections"] = ["ServiceRequest/o1"]
    result = insecure.post(SELECT, json=body).json()
    check_cards(result)
    assert ratings(result) == ["not-appropriate"]


def _referral(**extra: Any) -> dict[str, Any]:
    """A physiotherapy referral in the same order session, not valid FHIR R4 (a month 13)."""
    return {
        "resourceType": "ServiceRequest",
        "id": "pt",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "code": {"text": "Physiotherapy referral"},
        "occurrenceDateTime": "2030-13-01",
        **extra,
    }


def test_other_orders_in_the_session_are_not_validated(insecure: Any) -> None:
    # draftOrders holds every unsigned order of the session: one this service does not read
    # (another kind of order, or in order-select one not selected) cannot silence its answer
    body = f.order_sign(f.order("72148"), _referral())
    result = insecure.post(SIGN, json=body)
    assert result.status_code == 200, result.text
    assert ratings(result.json()) == ["not-appropriate"]
    coded = _referral(code={"coding": [{"system": f.CPT, "code": "97161"}]})
    body = f.order_sign(f.order("72148"), coded, f.order("72100", oid="o2"), hook="order-select")
    body["context"]["selections"] = ["ServiceRequest/o1"]
    body["context"]["draftOrders"]["entry"][2]["resource"]["status"] = "not-a-status"
    result = insecure.post(SELECT, json=body)
    assert result.status_code == 200, result.text
    assert ratings(result.json()) == ["not-appropriate"]
    # an invalid lumbar imaging order is still an error that names it
    invalid = {**f.order("72148"), "occurrenceDateTime": "2030-13-01"}
    response = insecure.post(SIGN, json=f.order_sign(invalid))
    assert response.status_code == 400
    assert "ServiceRequest/o1" in response.json()["issue"][0]["diagnostics"]


def _with_subject(order: dict[str, Any], reference: str | None) -> dict[str, Any]:
    """``order`` with ``subject`` naming ``reference`` (None: without a subject)."""
    order = {k: v for k, v in order.items() if k != "subject"}
    return order if reference is None else {**order, "subject": {"reference": reference}}


@pytest.mark.parametrize(("path", "hook"), [(SIGN, "order-sign"), (SELECT, "order-select")])
@pytest.mark.parametrize(
    "reference",
    ["Patient/p2", "https://ehr.example.test/fhir/Patient/p2", "Patient/p2/_history/4"],
)
def test_a_draft_order_for_another_patient_is_400_not_rated(
    insecure: Any, path: str, hook: str, reference: str
) -> None:
    # Rated against p1's record, p2's MRI got p1's rating written onto it (a systemAction)
    body = f.order_sign(_with_subject(f.order("72148"), reference), hook=hook)
    response = insecure.post(path, json=body)
    assert response.status_code == 400, response.text
    diagnostics = response.json()["issue"][0]["diagnostics"]
    where = "context.draftOrders entry[0]: ServiceRequest/o1 is about Patient/p2"
    assert where in diagnostics and "context.patientId ('p1')" in diagnostics, diagnostics


@pytest.mark.parametrize(("path", "hook"), [(SIGN, "order-sign"), (SELECT, "order-select")])
@pytest.mark.parametrize(
    ("patient_id", "reference"),
    f.SAME_PATIENT,
)
def test_a_draft_order_for_this_patient_is_rated(
    insecure: Any, path: str, hook: str, patient_id: str, reference: str
) -> None:
    order = _with_subject(f.order("72148"), reference)
    body = f.order_sign(order, hook=hook)
    body["context"]["patientId"] = patient_id
    response = insecure.post(path, json=body)
    assert response.status_code == 200, response.text
    assert ratings(response.json()) == ["not-appropriate"]
    (action,) = response.json()["systemActions"]
    assert {k: v for k, v in action["resource"].items() if k != "extension"} == order


def test_a_read_draft_order_without_a_subject_is_invalid_not_another_patients(
    insecure: Any,
) -> None:
    # no subject names no other patient; but FHIR R4 requires ServiceRequest.subject (1..1),
    # so an order that is read (lumbar imaging) still fails validation, as it did
    response = insecure.post(SIGN, json=f.order_sign(_with_subject(f.order("72148"), None)))
    assert response.status_code == 400, response.text
    diagnostics = response.json()["issue"][0]["diagnostics"]
    assert "ServiceRequest/o1 is not valid FHIR R4: subject: Field required" in diagnostics


@pytest.mark.parametrize(
    "other",
    [
        {**_referral(), "subject": {"reference": "Patient/p2"}},  # not read, not even valid
        {
            "resourceType": "MedicationRequest",
            "id": "nsaid",
            "status": "draft",
            "intent": "order",
            "subject": {"reference": "Patient/p2"},
            "medicationCodeableConcept": {"text": "Naproxen 500 MG"},
        },
    ],
)
def test_any_draft_order_for_another_patient_is_400(insecure: Any, other: dict[str, Any]) -> None:
    # CDS Hooks 2.0: draftOrders are the orders of the patient in context; one of another
    # patient's says the session is mixed up, so none of its orders is rated (in order-select
    # even when that order is not selected)
    body = f.order_sign(f.order("72148"), other)
    name = f"{other['resourceType']}/{other['id']}"
    response = insecure.post(SIGN, json=body)
    assert response.status_code == 400, response.text
    diagnostics = response.json()["issue"][0]["diagnostics"]
    assert f"context.draftOrders entry[1]: {name} is about Patient/p2" in diagnostics
    body = f.order_sign(f.order("72148"), other, hook="order-select")
    body["context"]["selections"] = ["ServiceRequest/o1"]
    response = insecure.post(SELECT, json=body)
    assert response.status_code == 400, response.text
    assert f"entry[1]: {name} is about Patient/p2" in response.json()["issue"][0]["diagnostics"]
    # without a subject it is taken as this patient's, and, not read, is not validated
    del body["context"]["draftOrders"]["entry"][1]["resource"]["subject"]
    assert ratings(insecure.post(SELECT, json=body).json()) == ["not-appropriate"]


def test_an_alternative_order_names_the_patient_in_context(insecure: Any) -> None:
    # context.patientId 'Patient/p1' made the suggested MRI's subject 'Patient/Patient/p1'
    cancer = {**f.lbp_condition(code="266987004"), "id": "ca"}
    body = f.order_sign(f.order("72133"), pre=f.prefetch(f.lbp_condition(), cancer, age=61))
    body["context"]["patientId"] = "Patient/p1"
    (card,) = insecure.post(SIGN, json=body).json()["cards"]
    created = [a for s in card["suggestions"] for a in s["actions"] if a["type"] == "create"]
    assert created
    assert all(a["resource"]["subject"] == {"reference": "Patient/p1"} for a in created)


def test_cauda_equina_makes_mri_appropriate(insecure: Any) -> None:
    retention = {**f.lbp_condition(code="267064002"), "id": "ur"}  # retention of urine
    intake = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": "urn:backtriage:fhir:Questionnaire:lbp-intake",
        "item": [{"linkId": "saddle_anesthesia", "answer": [{"valueBoolean": True}]}],
    }
    body = f.order_sign(
        f.order("72148"),
        f.order("72100", oid="o2"),
        pre=f.prefetch(f.lbp_condition(), retention, intake=intake),
    )
    result = insecure.post(SIGN, json=body).json()
    check_cards(result)
    assert ratings(result) == ["appropriate", "not-appropriate"]  # MRI yes, radiography no


def test_may_be_appropriate_is_appropriate_with_a_translation(insecure: Any) -> None:
    osteoporosis = {**f.lbp_condition(code="M81.0"), "id": "op"}
    osteoporosis["code"]["coding"][0]["system"] = "http://hl7.org/fhir/sid/icd-10-cm"
    body = f.order_sign(f.order("72158"), pre=f.prefetch(f.lbp_condition(), osteoporosis))
    result = insecure.post(SIGN, json=body).json()
    check_cards(result)
    assert ratings(result) == ["appropriate"]
    rating = result["systemActions"][0]["resource"]["extension"][0]["valueCodeableConcept"]
    assert rating["coding"][1]["display"] == "ACR: May Be Appropriate"
    assert result["cards"] == []  # nothing to act on


def test_patient_view_shows_a_recorded_red_flag_diagnosis(insecure: Any) -> None:
    ces = {**f.lbp_condition(code="192970008"), "id": "ces"}  # cauda equina syndrome
    result = insecure.post(VIEW, json=f.patient_view(f.prefetch(ces))).json()
    check_cards(result)
    (card,) = result["cards"]
    assert "Cauda equina syndrome" in card["detail"]


def test_unspecified_contrast_is_not_rated_and_says_why(insecure: Any) -> None:
    order = f.order("72133")
    order["code"] = {"coding": [{"system": "http://loinc.org", "code": "24968-0"}]}
    result = insecure.post(SIGN, json=f.order_sign(order)).json()
    check_cards(result)
    assert "systemActions" not in result
    (card,) = result["cards"]
    assert "contrast" in card["summary"] or "contrast" in card["detail"]


def test_no_indication_is_not_rated(insecure: Any) -> None:
    result = insecure.post(SIGN, json=f.order_sign(f.order(reason=None), pre=f.prefetch())).json()
    check_cards(result)
    assert "systemActions" not in result
    assert "reasonCode" in result["cards"][0]["summary"]


def test_other_indication_is_no_criteria_apply(insecure: Any) -> None:
    result = insecure.post(
        SIGN, json=f.order_sign(f.order(reason="13213009"), pre=f.prefetch())
    ).json()
    assert ratings(result) == ["no-criteria-apply"]


def test_non_imaging_orders_are_ignored(insecure: Any) -> None:
    body = f.order_sign(f.order("99213"))
    del body["prefetch"]  # not needed: nothing to rate, so no 412 either
    result = insecure.post(SIGN, json=body).json()
    assert result == {"cards": []}


def test_patient_view_quiet_when_nothing_to_act_on(insecure: Any) -> None:
    result = insecure.post(VIEW, json=f.patient_view(f.prefetch(f.lbp_condition()))).json()
    assert result == {"cards": []}


def test_patient_view_card_for_red_flag(insecure: Any) -> None:
    cancer = {**f.lbp_condition(code="266987004"), "id": "ca"}  # history of malignant neoplasm
    result = insecure.post(
        VIEW, json=f.patient_view(f.prefetch(f.lbp_condition(), cancer, age=61))
    ).json()
    check_cards(result)
    (card,) = result["cards"]
    assert card["indicator"] in ("warning", "critical")
    assert "Red flags" in card["detail"]
    report = insecure.get(card["links"][0]["url"].replace("http://testserver", ""))
    assert report.status_code == 200 and "<html" in report.text.lower()


@pytest.mark.parametrize("missing", ["patient", "conditions"])
def test_missing_prefetch_without_fhir_server_is_412(insecure: Any, missing: str) -> None:
    body = f.argonaut_lbp()
    del body["prefetch"][missing]
    response = insecure.post(SIGN, json=body)
    assert response.status_code == 412
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert missing in outcome["issue"][0]["diagnostics"]


def test_unknown_service_is_404(insecure: Any) -> None:
    response = insecure.post("/cds-services/nope", json=f.argonaut_lbp())
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", b'{"hook": "order-sign"}', b'"x"', b"null"],
)
def test_malformed_bodies_are_400(insecure: Any, body: bytes) -> None:
    response = insecure.post(SIGN, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def test_malformed_json_says_where_and_what_to_send(insecure: Any) -> None:
    body = b'{"hook": "order-sign",\n "context": {patientId: "p1"}}'
    response = insecure.post(SIGN, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    (issue,) = response.json()["issue"]
    assert issue["code"] == "structure"
    assert issue["diagnostics"] == (
        "body: not valid JSON — Expecting property name enclosed in double quotes at line 2, "
        "column 14; send one JSON object"
    )
    assert "patientId" not in issue["diagnostics"]  # the body's text is never echoed


@pytest.mark.parametrize("headers", [{}, {"content-type": "text/plain"}])
def test_a_body_not_sent_as_json_says_so(insecure: Any, headers: dict[str, str]) -> None:
    # the JSON itself is fine: what to fix is the Content-Type, and the answer says so
    response = insecure.post(SIGN, content=json.dumps(f.argonaut_lbp()), headers=headers)
    assert response.status_code == 400
    (issue,) = response.json()["issue"]
    assert "Content-Type: application/json" in issue["diagnostics"]


def test_invalid_fhir_is_400_naming_the_resource(insecure: Any) -> None:
    body = f.argonaut_lbp()
    body["prefetch"]["patient"] = {"resourceType": "Patient", "birthDate": "not a date"}
    response = insecure.post(SIGN, json=body)
    assert response.status_code == 400
    assert "patient" in response.json()["issue"][0]["diagnostics"]


def test_wrong_hook_for_service_is_400(insecure: Any) -> None:
    body = f.argonaut_lbp()
    body["hook"] = "patient-view"
    assert insecure.post(SIGN, json=body).status_code == 400


def test_feedback_is_idempotent_and_summarised(insecure: Any) -> None:
    card = insecure.post(SIGN, json=f.argonaut_lbp()).json()["cards"][0]["uuid"]
    item = {
        "card": card,
        "outcome": "overridden",
        "outcomeTimestamp": "2026-11-25T01:00:00Z",
        "overrideReason": {
            "reason": {"system": "urn:backtriage:override-reason", "code": "clinical-judgement"}
        },
    }
    url = SIGN + "/feedback"
    assert insecure.post(url, json={"feedback": [item]}).json() == {"stored": 1}
    assert insecure.post(url, json={"feedback": [item]}).json() == {"stored": 0}
    rows = insecure.app.state.store.summary()
    (row,) = [r for r in rows if r.kind == "order-not-appropriate"]
    assert (row.issued, row.overridden, row.accepted) == (1, 1, 0)
    assert insecure.post(url, json={"feedback": [{"card": card}]}).status_code == 400


def test_questionnaire_and_health(insecure: Any) -> None:
    assert insecure.get("/healthz").json()["status"] == "ok"
    q = insecure.get("/fhir/Questionnaire/lbp-intake").json()
    assert q["resourceType"] == "Questionnaire"
    ids = {item["linkId"] for item in q["item"]}
    assert {"saddle_anesthesia", "history_of_cancer", "fever"} <= ids


def test_a_trailing_slash_is_answered_not_redirected(insecure: Any) -> None:
    # A 307 to the URL without the slash: EHR clients rarely POST again after a redirect, so
    # a client configured with ".../{id}/" got no cards at all
    call = insecure.post(SIGN + "/", json=f.argonaut_lbp(), follow_redirects=False)
    assert call.status_code == 200, call.text
    assert ratings(call.json()) == ["not-appropriate"]
    discovery = insecure.get("/cds-services/", follow_redirects=False)
    assert discovery.status_code == 200
    assert discovery.json() == insecure.get("/cds-services").json()
    item = {
        "card": call.json()["cards"][0]["uuid"],
        "outcome": "overridden",
        "outcomeTimestamp": "2026-11-25T01:00:00Z",
    }
    feedback = insecure.post(SIGN + "/feedback/", json={"feedback": [item]}, follow_redirects=False)
    assert feedback.json() == {"stored": 1}
    # the slash form is not a second route in the OpenAPI description
    paths = insecure.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/cds-services") and path.endswith("/")]

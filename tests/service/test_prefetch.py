"""A prefetch key the client left out is fetched from fhirServer (a loopback stand-in here) with
the bearer token; when it cannot be, 412 with an OperationOutcome naming the key."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.service import fixtures as f

SIGN = "/cds-services/backtriage-lumbar-imaging-sign"
SEEN: list[tuple[str, str | None]] = []


CANCER = {**f.lbp_condition(code="266987004"), "id": "ca"}  # history of malignant neoplasm
CANCER_P2 = {**f.lbp_condition(code="266987004", patient="p2"), "id": "ca"}


OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "exception", "diagnostics": "search failed"}],
}
WARNING = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "warning", "code": "informational", "diagnostics": "no results"}],
}
# Patient p3's searches fail as servers report it: a 404, an OperationOutcome answered 200,
# something other than a Bundle, a Bundle holding an error.  p3's Patient read is a 404 (no
# such Patient), p5's answers a Bundle (not the Patient asked for).
FAILED: dict[str, tuple[int, Any]] = {
    "/fhir/Condition?patient=p3": (404, OUTCOME),
    "/fhir/Observation?patient=p3": (200, OUTCOME),
    "/fhir/MedicationRequest?patient=p3": (200, {**f.prefetch()["patient"], "id": "p3"}),
    "/fhir/QuestionnaireResponse?patient=p3": (
        200,
        {**f.bundle(OUTCOME), "entry": [{"resource": OUTCOME, "search": {"mode": "outcome"}}]},
    ),
    "/fhir/DocumentReference?patient=p3": (200, f.bundle(WARNING)),
    "/fhir/Patient/p3": (404, OUTCOME),
    # patient p6's server answers another patient's condition
    "/fhir/Condition?patient=p6": (
        200,
        f.bundle(CANCER_P2),
    ),
    "/fhir/Patient/p5": (200, f.bundle()),
}


class FhirStandIn(BaseHTTPRequestHandler):
    """Patient p1: low back pain.  Patient p2, 61: low back pain on the first page of its
    conditions, a history of cancer on the second (as a server that pages at 1 result would,
    with a next link in HAPI FHIR's form).  Patient p3: the failures in FAILED."""

    def do_GET(self) -> None:
        SEEN.append((self.path, self.headers.get("Authorization")))
        base = f"http://127.0.0.1:{self.server.server_address[1]}/fhir"
        failed = next((v for k, v in FAILED.items() if self.path.startswith(k)), None)
        if failed is not None:
            self._answer(*failed)
            return
        if self.path.startswith("/fhir?_getpages=p2"):
            body = f.bundle(CANCER_P2)
        elif self.path.startswith("/fhir/Condition?patient=p2"):
            body = {
                **f.bundle(f.lbp_condition(120, patient="p2")),
                "link": [{"relation": "next", "url": f"{base}?_getpages=p2&_getpagesoffset=1"}],
            }
        elif self.path.startswith("/fhir/Condition"):
            body = f.bundle(f.lbp_condition(120))
        elif self.path.startswith("/fhir/Patient/p2"):
            body = {**f.prefetch(age=61)["patient"], "id": "p2"}
        elif self.path.startswith("/fhir/Patient/p1"):
            body = f.prefetch()["patient"]
        else:
            self.send_response(500)
            self.end_headers()
            return
        self._answer(200, body)

    def _answer(self, status: int, body: Any) -> None:
        f.send_json(self, status, body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def fhir_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FhirStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/fhir"
    server.shutdown()
    server.server_close()


def auth() -> dict[str, Any]:
    return {
        "access_token": "t0k3n",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "cds-service",
    }


def test_missing_keys_are_fetched_with_the_token(insecure: Any, fhir_server: str) -> None:
    SEEN.clear()
    body = f.argonaut_lbp()
    del body["prefetch"]["patient"], body["prefetch"]["conditions"]
    body["fhirServer"], body["fhirAuthorization"] = fhir_server, auth()
    response = insecure.post(SIGN, json=body)
    assert response.status_code == 200, response.text
    assert {path.split("?")[0] for path, _ in SEEN} == {"/fhir/Patient/p1", "/fhir/Condition"}
    assert all(token == "Bearer t0k3n" for _, token in SEEN)
    rating = response.json()["systemActions"][0]["resource"]["extension"][-4]
    assert rating["valueCodeableConcept"]["coding"][0]["code"] == "not-appropriate"


def test_a_failing_fhir_server_is_412(insecure: Any, fhir_server: str) -> None:
    body = f.argonaut_lbp()
    del body["prefetch"]["observations"]
    body["fhirServer"], body["fhirAuthorization"] = fhir_server, auth()
    response = insecure.post(SIGN, json=body)
    assert response.status_code == 412
    assert "observations" in response.json()["issue"][0]["diagnostics"]


def test_null_means_no_data(insecure: Any) -> None:
    body = f.argonaut_lbp()
    body["prefetch"]["conditions"] = None
    assert insecure.post(SIGN, json=body).status_code == 200


def _paged_mri(fhir_server: str | None) -> dict[str, Any]:
    """An MRI for patient p2 (61, low back pain); the conditions are left to the FHIR server."""
    body = f.order_sign(f.order("72148", patient="p2"), pre=f.prefetch(age=61))
    body["context"]["patientId"] = "p2"
    del body["prefetch"]["patient"], body["prefetch"]["conditions"]
    if fhir_server is not None:
        body["fhirServer"], body["fhirAuthorization"] = fhir_server, auth()
    return body


def _rating(response: Any) -> str:
    (action,) = response.json()["systemActions"]
    (rating,) = [e for e in action["resource"]["extension"] if e["url"].endswith("pama-rating")]
    return str(rating["valueCodeableConcept"]["coding"][0]["code"])


def test_every_page_of_a_search_is_read(insecure: Any, fhir_server: str) -> None:
    # The cancer history is on the second page: reading the first alone rated the MRI
    # not-appropriate (and suggested removing it).
    SEEN.clear()
    response = insecure.post(SIGN, json=_paged_mri(fhir_server))
    assert response.status_code == 200, response.text
    assert ("/fhir?_getpages=p2&_getpagesoffset=1", "Bearer t0k3n") in SEEN
    assert _rating(response) == "appropriate"


def test_a_prefetched_search_with_more_pages_is_completed_or_412(
    insecure: Any, fhir_server: str
) -> None:
    body = _paged_mri(fhir_server)
    body["prefetch"]["conditions"] = {
        **f.bundle(f.lbp_condition(120, patient="p2")),
        "link": [{"relation": "next", "url": f"{fhir_server}?_getpages=p2"}],
    }
    body["prefetch"]["patient"] = {**f.prefetch(age=61)["patient"], "id": "p2"}
    assert _rating(insecure.post(SIGN, json=body)) == "appropriate"
    # without a FHIR server to read the rest from, the data are incomplete: 412, not a rating
    del body["fhirServer"], body["fhirAuthorization"]
    response = insecure.post(SIGN, json=body)
    assert response.status_code == 412
    assert "'conditions'" in response.json()["issue"][0]["diagnostics"]
    assert "page" in response.json()["issue"][0]["diagnostics"]


def test_a_next_page_elsewhere_is_not_followed(insecure: Any, fhir_server: str) -> None:
    SEEN.clear()
    body = _paged_mri(fhir_server)
    body["prefetch"]["conditions"] = {
        **f.bundle(f.lbp_condition(120, patient="p2")),
        "link": [{"relation": "next", "url": "https://elsewhere.test/fhir?_getpages=p2"}],
    }
    response = insecure.post(SIGN, json=body)  # the token is never sent to another server
    assert response.status_code == 412
    assert not any("_getpages" in path for path, _ in SEEN)


@pytest.mark.parametrize("patient", ["Patient/p1/_history/2", "p 1/../p2", "p1?x=1"])
def test_a_patient_id_that_is_no_fhir_id_is_400_not_a_query(
    insecure: Any, fhir_server: str, patient: str
) -> None:
    # its last segment is not the patient: no query is made with it
    SEEN.clear()
    body = f.argonaut_lbp()
    body["context"]["patientId"] = patient
    del body["prefetch"]["conditions"]
    body["fhirServer"], body["fhirAuthorization"] = fhir_server, auth()
    response = insecure.post(SIGN, json=body)
    assert response.status_code == 400
    assert "context.patientId" in response.json()["issue"][0]["diagnostics"]
    assert SEEN == []


def test_a_patient_reference_fills_the_template_with_its_id(
    insecure: Any, fhir_server: str
) -> None:
    SEEN.clear()
    body = f.argonaut_lbp()
    body["context"]["patientId"] = "Patient/p1"
    del body["prefetch"]["conditions"]
    body["fhirServer"], body["fhirAuthorization"] = fhir_server, auth()
    assert insecure.post(SIGN, json=body).status_code == 200
    assert [path for path, _ in SEEN] == ["/fhir/Condition?patient=p1"]


def _p3(fhir_server: str, *fetched: str) -> dict[str, Any]:
    """An MRI for patient p3 (61, low back pain, in the prefetch), with ``fetched`` left to
    the FHIR server."""
    pre = f.prefetch(f.lbp_condition(patient="p3"), age=61)
    body = f.order_sign(f.order("72148", patient="p3"), pre=pre)
    body["context"]["patientId"] = "p3"
    body["prefetch"]["patient"]["id"] = "p3"
    for key in fetched:
        del body["prefetch"][key]
    body["fhirServer"], body["fhirAuthorization"] = fhir_server, auth()
    return body


def _diagnostics(response: Any) -> str:
    return str(response.json()["issue"][0]["diagnostics"])


def test_a_search_answered_404_is_412_not_no_conditions(insecure: Any, fhir_server: str) -> None:
    # A 404 to Condition?patient=p3 says the search failed, not that p3 has no conditions: read
    # as "nothing found", a cancer history the server could not give was taken as absent and
    # the MRI rated not-appropriate
    body = _p3(fhir_server, "conditions")
    response = insecure.post(SIGN, json=body)
    assert response.status_code == 412, response.text
    assert "'conditions'" in _diagnostics(response)
    assert "HTTP 404" in _diagnostics(response)


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("observations", "with an OperationOutcome (an error)"),
        ("medications", "a Patient, not the Bundle"),
        ("intake", "Bundle holds an OperationOutcome with an error"),
    ],
)
def test_an_error_answered_200_is_412_not_data(
    insecure: Any, fhir_server: str, key: str, why: str
) -> None:
    body = _p3(fhir_server, key)
    response = insecure.post(SIGN, json=body)
    assert response.status_code == 412, response.text
    assert f"'{key}'" in _diagnostics(response)
    assert why in _diagnostics(response)


def test_a_read_answered_with_another_type_is_412(insecure: Any, fhir_server: str) -> None:
    body = _p3(fhir_server, "patient")
    body["context"]["patientId"] = "p5"
    orders = body["context"]["draftOrders"]["entry"]
    for value in body["prefetch"]["conditions"]["entry"] + orders:
        value["resource"]["subject"]["reference"] = "Patient/p5"
    response = insecure.post(SIGN, json=body)
    assert response.status_code == 412, response.text
    assert "a Bundle, not the Patient" in _diagnostics(response)


def test_a_patient_read_answered_404_is_no_patient(insecure: Any, fhir_server: str) -> None:
    # CDS Hooks §Prefetch: a query that finds nothing is null, "to account for the possibility
    # that the prefetch url is a single-resource request"; the read's 404 is that null
    body = _p3(fhir_server, "patient")
    assert insecure.post(SIGN, json=body).status_code == 200


def test_a_warning_in_a_search_bundle_is_not_an_error(insecure: Any, fhir_server: str) -> None:
    body = f.patient_view(f.prefetch(f.lbp_condition(patient="p3"), age=61))
    body["context"]["patientId"] = "p3"
    body["prefetch"]["patient"]["id"] = "p3"
    del body["prefetch"]["notes"]
    body["fhirServer"], body["fhirAuthorization"] = fhir_server, auth()
    response = insecure.post("/cds-services/backtriage-patient-view", json=body)
    assert response.status_code == 200, response.text


def test_a_prefetched_bundle_holding_an_error_is_fetched_or_412(insecure: Any) -> None:
    # CDS Hooks 3.0 §Prefetch: clients SHOULD report a failed prefetch with OperationOutcome(s),
    # and services SHOULD look for them; one inside a Bundle means part of the search failed
    body = f.argonaut_lbp()
    body["prefetch"]["conditions"] = {
        **f.bundle(f.lbp_condition()),
        "entry": [{"resource": f.lbp_condition()}, {"resource": OUTCOME}],
    }
    response = insecure.post(SIGN, json=body)
    assert response.status_code == 412, response.text
    assert "'conditions'" in _diagnostics(response)
    assert "OperationOutcome" in _diagnostics(response)


def _of(patient: str, **resources: dict[str, Any]) -> dict[str, Any]:
    """Resources of each key's type about ``patient`` (a reference), valid FHIR R4."""
    subject = {"reference": patient}
    kinds = {
        "conditions": {**CANCER, "subject": subject},
        "observations": {
            "resourceType": "Observation",
            "id": "t",
            "status": "final",
            "subject": subject,
            "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
            "valueQuantity": {"value": 38.6, "code": "Cel"},
        },
        "medications": {
            "resourceType": "MedicationRequest",
            "id": "m",
            "status": "active",
            "intent": "order",
            "subject": subject,
            "medicationCodeableConcept": {"text": "Tacrolimus 1 MG"},
        },
        "intake": {
            "resourceType": "QuestionnaireResponse",
            "id": "q",
            "status": "completed",
            "subject": subject,
            "item": [{"linkId": "fever", "answer": [{"valueBoolean": True}]}],
        },
        "notes": {
            "resourceType": "DocumentReference",
            "id": "n",
            "status": "current",
            "subject": subject,
            "content": [{"attachment": {"contentType": "text/plain", "data": "RmV2ZXIu"}}],
        },
    }
    return {key: f.bundle(kinds[key]) for key in kinds} | resources


VIEW = "/cds-services/backtriage-patient-view"


@pytest.mark.parametrize(
    ("key", "reference", "resource"),
    [
        ("patient", "", "Patient/p2"),
        ("conditions", "Patient/p2", "Condition/ca"),
        ("observations", "https://ehr.example.test/fhir/Patient/p2", "Observation/t"),
        ("medications", "Patient/p2/_history/4", "MedicationRequest/m"),
        ("intake", "Patient/p2", "QuestionnaireResponse/q"),
        ("notes", "Patient/p2", "DocumentReference/n"),
    ],
)
def test_another_patients_data_is_400_naming_the_key_and_resource(
    insecure: Any, key: str, reference: str, resource: str
) -> None:
    # Used silently, another patient's cancer, fever or immunosuppressant became this
    # patient's red flag (and their absence could hide one)
    pre = f.prefetch(**_of("Patient/p1"))
    if key == "patient":
        pre["patient"]["id"] = "p2"
    else:
        pre[key] = _of(reference)[key]
    response = insecure.post(VIEW, json=f.patient_view(pre))
    assert response.status_code == 400, response.text
    diagnostics = _diagnostics(response)
    assert f"prefetch '{key}'" in diagnostics and resource in diagnostics, diagnostics
    assert "Patient/p2" in diagnostics and "context.patientId" in diagnostics, diagnostics


@pytest.mark.parametrize(
    ("key", "reference", "resource"),
    [
        ("observations", "Group/cohort", "Observation/t"),
        ("conditions", "Location/ward-3", "Condition/ca"),
    ],
)
def test_data_about_a_group_or_place_is_400_not_this_patients(
    insecure: Any, key: str, reference: str, resource: str
) -> None:
    # A group's "fever: no" read as this patient's would be a denial no one made for them.
    pre = f.prefetch(**_of("Patient/p1"))
    pre[key] = _of(reference)[key]
    response = insecure.post(VIEW, json=f.patient_view(pre))
    assert response.status_code == 400, response.text
    diagnostics = _diagnostics(response)
    assert f"prefetch '{key}'" in diagnostics and resource in diagnostics, diagnostics
    assert reference in diagnostics and "cannot be used as this patient's" in diagnostics


@pytest.mark.parametrize(
    ("patient_id", "reference"),
    f.SAME_PATIENT,
)
def test_this_patients_data_in_any_reference_form_is_used(
    insecure: Any, patient_id: str, reference: str
) -> None:
    pre = f.prefetch(**_of(reference))
    # what has no patient reference cannot be checked, and stays: an included Medication, a
    # QuestionnaireResponse without a subject
    medication = {"resourceType": "Medication", "id": "tac", "code": {"text": "Tacrolimus"}}
    pre["medications"]["entry"].append({"resource": medication})
    del pre["intake"]["entry"][0]["resource"]["subject"]
    body = f.patient_view(pre)
    body["context"]["patientId"] = patient_id
    response = insecure.post(VIEW, json=body)
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    assert "Spinal malignancy: suspected" in card["detail"]  # the data were read


def test_another_patients_data_fetched_from_the_server_is_refused(
    insecure: Any, fhir_server: str
) -> None:
    body = f.order_sign(f.order("72148", patient="p6"), pre=f.prefetch(age=61))
    body["context"]["patientId"] = "p6"
    body["prefetch"]["patient"]["id"] = "p6"
    del body["prefetch"]["conditions"]
    body["fhirServer"], body["fhirAuthorization"] = fhir_server, auth()
    response = insecure.post(SIGN, json=body)
    assert response.status_code == 400, response.text
    diagnostics = _diagnostics(response)
    assert "prefetch 'conditions' (fetched from fhirServer)" in diagnostics, diagnostics
    assert "Condition/ca" in diagnostics and "Patient/p2" in diagnostics, diagnostics

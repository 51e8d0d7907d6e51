"""Never a 5xx for client input: hypothesis on the CDS Hooks and /assess bodies, schemathesis on
the OpenAPI description."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.service import fixtures as f

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
KEYS = ("hook", "hookInstance", "context", "prefetch", "fhirServer", "fhirAuthorization")


def _mutate(body: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    node: Any = body
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return body


PATHS = [
    ["hook"],
    ["context"],
    ["context", "patientId"],
    ["context", "draftOrders"],
    ["prefetch"],
    ["prefetch", "patient"],
    ["prefetch", "conditions"],
    ["prefetch", "observations"],
    ["prefetch", "intake"],
    ["prefetch", "medications"],
]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from(PATHS), value=JSON)
def test_mutated_order_sign_never_5xx(insecure: Any, path: list[str], value: Any) -> None:
    body = _mutate(f.argonaut_lbp(), path, value)
    response = insecure.post("/cds-services/backtriage-lumbar-imaging-sign", json=body)
    assert response.status_code in (200, 400, 412), response.text


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=JSON)
def test_any_json_never_5xx(insecure: Any, body: Any) -> None:
    for url in (
        "/cds-services/backtriage-patient-view",
        "/assess",
        "/cds-services/backtriage-patient-view/feedback",
    ):
        response = insecure.post(
            url, content=json.dumps(body), headers={"content-type": "application/json"}
        )
        assert response.status_code < 500, (url, response.text)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    resource=st.fixed_dictionaries(
        {
            "resourceType": st.sampled_from(
                [
                    "Condition",
                    "Observation",
                    "MedicationRequest",
                    "QuestionnaireResponse",
                    "DocumentReference",
                    "Patient",
                ]
            )
        },
        optional={
            "id": st.text(max_size=5),
            "code": JSON,
            "status": JSON,
            "birthDate": JSON,
            "valueQuantity": JSON,
            "item": JSON,
            "content": JSON,
            "onsetDateTime": JSON,
        },
    )
)
def test_odd_fhir_resources_never_5xx(insecure: Any, resource: dict[str, Any]) -> None:
    body = f.argonaut_lbp()
    body["prefetch"]["conditions"] = f.bundle(resource)
    response = insecure.post("/cds-services/backtriage-lumbar-imaging-sign", json=body)
    assert response.status_code in (200, 400), response.text

"""FHIR OperationOutcome bodies for every non-2xx answer (CDS Hooks 3.0 asks for them)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

FHIR_JSON = "application/fhir+json"


def operation_outcome(status: int, code: str, diagnostics: str | None) -> JSONResponse:
    issue: dict[str, Any] = {"severity": "error", "code": code}
    if diagnostics:
        issue["diagnostics"] = diagnostics
    return JSONResponse(
        {"resourceType": "OperationOutcome", "issue": [issue]},
        status_code=status,
        media_type=FHIR_JSON,
    )

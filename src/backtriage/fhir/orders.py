"""Lumbar spine imaging orders in a CDS Hooks ``draftOrders`` Bundle: which ServiceRequests they
are and which ACR procedure each orders (codes in ``fhir/data/imaging_orders.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backtriage.fhir.codes import FhirCodes, OrderCode


@dataclass(frozen=True)
class ImagingOrder:
    """A lumbar spine imaging ServiceRequest: the resource as sent (to update it unchanged but
    for the rating), the code that made it one, and the ACR procedure (None: not determinable)."""

    resource: dict[str, Any]
    model: Any
    code: OrderCode
    procedure: str | None

    @property
    def reference(self) -> str | None:
        """``ServiceRequest/id``; None for an order sent without an id (nothing to point at)."""
        return f"ServiceRequest/{self.model.id}" if self.model.id else None


def lumbar_imaging(order_model: Any, raw: dict[str, Any], codes: FhirCodes) -> ImagingOrder | None:
    """The order as lumbar imaging, or None when none of its codings is a lumbar imaging code."""
    if order_model.get_resource_type() != "ServiceRequest" or order_model.code is None:
        return None
    found: OrderCode | None = None
    for coding in order_model.code.coding or []:
        hit = codes.orders.get((coding.system or "", coding.code or ""))
        if hit is not None and (found is None or found.procedure is None):
            found = hit  # a coding that names the procedure beats one that does not
    if found is None:
        return None
    return ImagingOrder(raw, order_model, found, found.procedure)


def other_order(raw: dict[str, Any], codes: FhirCodes) -> bool:
    """Whether a ServiceRequest, as sent, is plainly not lumbar imaging: no code, or codings
    none of which is a lumbar imaging code.  Such an order need not be validated; one whose
    code cannot be read this way is left to validation (and its error)."""
    code = raw.get("code")
    if code is None:
        return True
    codings = code.get("coding", []) if isinstance(code, dict) else None
    if not isinstance(codings, list) or not all(isinstance(c, dict) for c in codings):
        return False
    return not any((c.get("system"), c.get("code")) in codes.orders for c in codings)

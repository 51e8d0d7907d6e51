"""The CDS Hooks services: discovery entries, and each call from request to response —
parse the context and prefetch into a case, call the engine once, rate the orders, render."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from backtriage.api import assess_case
from backtriage.assessment import Assessment
from backtriage.fhir import (
    FhirCodes,
    FhirError,
    ImagingOrder,
    Reading,
    entries,
    lumbar_imaging,
    other_order,
    parse_resource,
    read_record,
)
from backtriage.fhir.resources import READ_TYPES
from backtriage.knowledge import Knowledge
from backtriage.service import cards, pama, prefetch
from backtriage.service.patient import patient_id, this_patients
from backtriage.service.settings import Settings
from backtriage.service.store import Record, Store

HookName = Literal["patient-view", "order-select", "order-sign"]


class FhirAuthorization(BaseModel):
    model_config = ConfigDict(extra="allow")
    access_token: str
    token_type: str
    expires_in: int
    scope: str
    subject: str


class HookRequest(BaseModel):
    """A CDS Hooks 2.0 service call body."""

    model_config = ConfigDict(extra="allow")
    hook: str
    hookInstance: str = Field(min_length=1, max_length=200)
    context: dict[str, Any]
    fhirServer: str | None = None
    fhirAuthorization: FhirAuthorization | None = None
    prefetch: dict[str, Any] | None = None


@dataclass(frozen=True)
class Service:
    id: str
    hook: HookName
    title: str
    description: str
    templates: dict[str, str]

    def discovery(self) -> dict[str, Any]:
        return {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "prefetch": self.templates,
        }


SERVICES = {
    s.id: s
    for s in (
        Service(
            "backtriage-patient-view",
            "patient-view",
            "Low back pain triage",
            "Red-flag screening, urgency, imaging and tests for a patient with low back pain; "
            "a card only when there is something to act on.",
            prefetch.PATIENT_VIEW_TEMPLATES,
        ),
        Service(
            "backtriage-lumbar-imaging-select",
            "order-select",
            "Lumbar spine imaging appropriateness (on selection)",
            "Rates selected lumbar spine X-ray, CT and MRI orders against the ACR "
            "Appropriateness Criteria for low back pain (2021), Argonaut PAMA style.",
            prefetch.BASE_TEMPLATES,
        ),
        Service(
            "backtriage-lumbar-imaging-sign",
            "order-sign",
            "Lumbar spine imaging appropriateness",
            "Rates lumbar spine X-ray, CT and MRI orders against the ACR Appropriateness "
            "Criteria for low back pain (2021) and returns Argonaut PAMA rating extensions.",
            prefetch.BASE_TEMPLATES,
        ),
    )
}


class Caller:
    """Answers service calls; holds only immutable knowledge, settings and the shared store."""

    def __init__(
        self, knowledge: Knowledge, codes: FhirCodes, settings: Settings, store: Store
    ) -> None:
        self.knowledge = knowledge
        self.codes = codes
        self.settings = settings
        self.store = store
        acr = knowledge.references.get("acr2021")
        self.auc_url = acr.link if acr is not None else "urn:backtriage:acr-lbp-2021"

    @staticmethod
    def prefetch_complete(service: Service, request: HookRequest) -> bool:
        """Whether every prefetch key was sent whole (so the call needs no FHIR server)."""
        return prefetch.complete(service.templates, request.prefetch)

    def call(
        self, service: Service, request: HookRequest, base_url: str, today: date
    ) -> dict[str, Any]:
        """One service call: the case from the record, one engine call, cards and ratings; the
        report behind the cards' links is stored before this returns."""
        response, record = self.answer(service, request, base_url, today)
        if record is not None:
            self.store.record_response(*record)
        return response

    def answer(
        self, service: Service, request: HookRequest, base_url: str, today: date
    ) -> tuple[dict[str, Any], Record | None]:
        """:meth:`call` without the store write: the response, and what the store must hold
        before the response is sent (None: nothing was issued)."""
        if request.hook != service.hook:
            raise FhirError(
                f"service {service.id!r} answers the {service.hook!r} hook, not {request.hook!r}"
            )
        patient = patient_id(request.context)
        orders = self._orders(service, request, patient) if service.hook != "patient-view" else []
        if service.hook != "patient-view" and not orders:
            return {"cards": []}, None  # no lumbar imaging ordered: nothing to read or say
        reasons = [r for order in orders for r in order.model.reasonCode or []]
        reading = read_record(
            self._resources(service, request), self.knowledge, self.codes, today, reasons
        )
        assessment = assess_case(reading.case, self.knowledge, today)
        report_id = uuid.uuid4().hex
        report_url = f"{base_url}/reports/{report_id}"
        if service.hook == "patient-view":
            response, issued = self._patient_view(assessment, reading, report_url)
        else:
            response, issued = self._order_ratings(orders, assessment, reading, report_url, patient)
        if not issued:
            return response, None
        # the report behind the cards' links (the case as the assessment records it), and what
        # was shown (for feedback)
        return response, (service.id, report_id, assessment.case, issued)

    def _resources(self, service: Service, request: HookRequest) -> list[Any]:
        """The prefetched (or fetched) resources, validated as FHIR R4."""
        token = request.fhirAuthorization.access_token if request.fhirAuthorization else None
        values = prefetch.resolve(
            service.templates,
            request.prefetch,
            request.context,
            request.fhirServer,
            token,
            self.settings.fhir_timeout_s,
        )
        resources = []
        for key, value in values.items():
            if value is None:
                continue  # the query found nothing
            for where, raw in entries(value, f"prefetch {key!r}"):
                if raw.get("resourceType") in READ_TYPES:
                    resources.append(parse_resource(raw, where))
        return resources

    def _patient_view(
        self, assessment: Assessment, reading: Reading, report_url: str
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        card = cards.patient_view_card(assessment, self.knowledge, report_url, reading.recorded)
        if card is None:
            return {"cards": []}, []
        return {"cards": [card]}, [(card["uuid"], f"triage-{assessment.urgency}")]

    def _order_ratings(
        self,
        orders: list[ImagingOrder],
        assessment: Assessment,
        reading: Reading,
        report_url: str,
        patient_id: str,
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        ratings = [
            pama.rate(order, assessment, self.knowledge, self.codes, reading.lbp_coded)
            for order in orders
        ]
        alternatives = {
            procedure: resource
            for r in ratings
            for procedure in r.alternatives
            if (resource := pama.alternative_order(procedure, self.codes, patient_id))
        }
        shown = cards.order_cards(ratings, assessment, self.knowledge, report_url, alternatives)
        response: dict[str, Any] = {"cards": [card for card, _ in shown]}
        actions = [
            {
                "type": "update",
                "description": f"Add the ACR 2021 appropriateness rating ({r.rating})",
                "resource": pama.rated_resource(r, self.settings.qcdsm, self.auc_url),
            }
            for r in ratings
            if r.rating is not None
        ]
        if actions:
            response["systemActions"] = actions
            # the Argonaut PAMA guide predates top-level systemActions: mirror for its clients
            response["extension"] = {"systemActions": actions}
        return response, [(card["uuid"], kind) for card, kind in shown]

    def _orders(self, service: Service, request: HookRequest, patient: str) -> list[ImagingOrder]:
        """The lumbar imaging orders to rate: in ``context.draftOrders``, and for order-select
        among ``context.selections``.  Every order in the Bundle, read or not, must be the
        patient's in context (CDS Hooks 2.0: draftOrders are that patient's orders), else
        :class:`FhirError`: one naming another patient means the session is mixed up, and a
        rating made from this patient's record must not be written onto another's order.
        Only its subject (or patient) reference is looked at: an order not read is still not
        validated."""
        bundle = request.context.get("draftOrders")
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            raise FhirError("context.draftOrders must be a FHIR Bundle of the draft orders")
        this_patients(bundle, patient, "context.draftOrders")
        wanted: set[str] | None = None
        if service.hook == "order-select":
            selections = request.context.get("selections")
            if not isinstance(selections, list) or not all(isinstance(s, str) for s in selections):
                raise FhirError("context.selections must be a list of 'Type/id' references")
            wanted = set(selections)
        found = []
        for where, raw in entries(bundle, "context.draftOrders"):
            # only the orders read are validated: the session's other orders (and, for
            # order-select, those not just selected) are not this service's to judge
            if raw.get("resourceType") != "ServiceRequest" or other_order(raw, self.codes):
                continue
            if wanted is not None and f"ServiceRequest/{raw.get('id')}" not in wanted:
                continue
            model = parse_resource(raw, where)
            order = lumbar_imaging(model, raw, self.codes)
            if order is not None:
                found.append(order)
        return found

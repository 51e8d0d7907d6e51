"""FHIR R4 -> case format 1 (an adapter at the edge), the intake Questionnaire, and lumbar
imaging order recognition.  Code lists are data in ``fhir/data/`` plus the knowledge base's
``codes.yaml``."""

from backtriage.fhir.codes import FhirCodes, fhir_codes, load_fhir_codes
from backtriage.fhir.errors import FhirError
from backtriage.fhir.mapping import Reading, read_record
from backtriage.fhir.orders import ImagingOrder, lumbar_imaging, other_order
from backtriage.fhir.questionnaire import intake_questionnaire
from backtriage.fhir.resources import entries, parse_resource

__all__ = [
    "FhirCodes",
    "FhirError",
    "ImagingOrder",
    "Reading",
    "entries",
    "fhir_codes",
    "intake_questionnaire",
    "load_fhir_codes",
    "lumbar_imaging",
    "other_order",
    "parse_resource",
    "read_record",
]

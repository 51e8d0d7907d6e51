"""The tabular claims layout that every audit input becomes (documented in ``LAYOUT.md``).

A folder holds one file per table, ``<table>.csv`` or ``<table>.parquet``.  Required columns
must be present (values may still be bad: such rows are rejected and counted, never guessed);
optional columns may be left out.  A FHIR Bulk export is converted to exactly these tables
(:mod:`backtriage.audit.fhir`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableLayout:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    required_file: bool = True
    note: str = ""

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


TABLES: tuple[TableLayout, ...] = (
    TableLayout("patients", ("patient_id", "birth_date"), ("sex",)),
    TableLayout(
        "encounters",
        ("encounter_id", "patient_id", "date", "setting"),
        ("clinician_id", "site_id"),
    ),
    TableLayout(
        "diagnoses",
        ("patient_id", "date", "code_system", "code"),
        ("encounter_id", "principal", "record_id"),
    ),
    TableLayout(
        "procedures",
        ("patient_id", "date", "code_system", "code"),
        ("encounter_id", "record_id"),
    ),
    TableLayout(
        "medications",
        ("patient_id", "start_date", "days_supply", "code_system", "code"),
        ("record_id",),
        required_file=False,
        note="without it the prolonged-corticosteroid exclusion cannot be applied",
    ),
)

TABLE_BY_NAME: dict[str, TableLayout] = {t.name: t for t in TABLES}

#: Values of ``encounters.setting``; any other is rejected as ``unknown_setting``.  Which of
#: them can be an index visit is the measure spec's (``eligible_settings`` in specs.yaml).
SETTINGS: tuple[str, ...] = (
    "outpatient",
    "telehealth",
    "ed",
    "observation",
    "physiotherapy",
    "chiropractic",
    "osteopathic",
    "inpatient",
    "hospice",
    "other",
)

#: Code systems each table may carry; any other is rejected as ``unknown_code_system``.
SYSTEMS_BY_TABLE: dict[str, tuple[str, ...]] = {
    "diagnoses": ("icd10cm", "snomed"),
    "procedures": ("cpt", "hcpcs", "icd10pcs", "snomed", "loinc"),
    "medications": ("atc", "rxnorm"),
}

#: FHIR ``Coding.system`` URIs of the code systems a FHIR export may use, and the name each has
#: in ``code_system`` (``codes.CODE_SYSTEMS``; HL7 terminology "external" page names).
FHIR_SYSTEM_URIS: dict[str, str] = {
    "http://hl7.org/fhir/sid/icd-10-cm": "icd10cm",
    "http://www.cms.gov/Medicare/Coding/ICD10": "icd10pcs",
    "http://www.ama-assn.org/go/cpt": "cpt",
    "urn:oid:2.16.840.1.113883.6.285": "hcpcs",
    "http://snomed.info/sct": "snomed",
    "http://www.whocc.no/atc": "atc",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "rxnorm",
    "http://loinc.org": "loinc",
}

#: Values of ``principal`` read as true and as false (CSV has no booleans), in any case; an
#: empty one is false, and any other is rejected (``bad_principal``).
TRUE_WORDS: tuple[str, ...] = ("true", "t", "1", "yes", "y")
FALSE_WORDS: tuple[str, ...] = ("false", "f", "0", "no", "n")

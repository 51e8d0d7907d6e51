"""The FHIR mapping's code lists (data files in ``fhir/data/``), validated at load against the
knowledge base: every ACR procedure name, finding id, condition id and measurement id must exist.
Clinical codes for findings and conditions are not copied here: they come from the knowledge
base's ``codes.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from backtriage.case import MEASUREMENT_IDS
from backtriage.errors import KnowledgeError
from backtriage.knowledge import Knowledge
from backtriage.knowledge.schema import Code

CPT = "http://www.ama-assn.org/go/cpt"
LOINC = "http://loinc.org"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrderCode(_Strict):
    system: Literal["http://www.ama-assn.org/go/cpt", "http://loinc.org"]
    code: str
    display: str
    procedure: str | None
    verified: bool
    source: str


class OrdersFile(_Strict):
    schema_version: Literal[1]
    sources: dict[str, str]
    codes: list[OrderCode]


class ObservationCode(_Strict):
    code: str
    display: str
    verified: bool


class Unit(_Strict):
    unit: str
    factor: float
    fahrenheit: bool = False


class ObservationKind(_Strict):
    measurement: str
    codes: Annotated[list[ObservationCode], Field(min_length=1)]
    units: Annotated[list[Unit], Field(min_length=1)]


class ObservationsFile(_Strict):
    schema_version: Literal[1]
    source: str
    observations: list[ObservationKind]


class MedicationGroup(_Strict):
    finding: str
    min_days: Annotated[int, Field(ge=0)]
    names: Annotated[list[str], Field(min_length=1)]


class MedicationsFile(_Strict):
    schema_version: Literal[1]
    source: str
    non_systemic_routes: list[str]
    groups: list[MedicationGroup]


class ConditionFinding(_Strict):
    condition: str
    finding: str
    why: str


class ConditionFindingsFile(_Strict):
    schema_version: Literal[1]
    map: list[ConditionFinding]
    not_mapped: dict[str, str]


@dataclass(frozen=True, eq=False)
class FhirCodes:
    """Everything the FHIR mapping looks codes up in, indexed for the hot path."""

    orders: dict[tuple[str, str], OrderCode]
    observations: dict[str, tuple[str, dict[str, Unit]]]  # LOINC code -> (measurement, units)
    medications: MedicationsFile
    findings: dict[tuple[str, str], str]  # exact (system, code) -> finding id
    finding_prefixes: tuple[tuple[str, str, str], ...]  # (system, prefix, finding id)
    conditions: dict[tuple[str, str], str]  # exact (system, code) -> condition id
    condition_prefixes: tuple[tuple[str, str, str], ...]
    condition_findings: dict[str, str]

    def finding_for(self, system: str, code: str) -> str | None:
        return _lookup(self.findings, self.finding_prefixes, system, code)

    def condition_for(self, system: str, code: str) -> str | None:
        return _lookup(self.conditions, self.condition_prefixes, system, code)


def _lookup(
    exact: dict[tuple[str, str], str],
    prefixes: tuple[tuple[str, str, str], ...],
    system: str,
    code: str,
) -> str | None:
    hit = exact.get((system, code))
    if hit is not None:
        return hit
    for prefix_system, prefix, target in prefixes:
        if system == prefix_system and code.startswith(prefix):
            return target
    return None


M = TypeVar("M", bound=_Strict)


def _read(base: Traversable, name: str, model: type[M], problems: list[str]) -> M | None:
    entry = base / name
    if not entry.is_file():
        problems.append(f"fhir/data/{name}: file is missing")
        return None
    text = entry.read_text(encoding="utf-8")
    try:
        return model.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as exc:
        problems.append(f"fhir/data/{name}: {exc}")
        return None


def _index(
    table: dict[str, list[Code]],
) -> tuple[dict[tuple[str, str], str], tuple[tuple[str, str, str], ...]]:
    exact: dict[tuple[str, str], str] = {}
    prefixes: list[tuple[str, str, str]] = []
    for target, codes in table.items():
        for code in codes:
            if code.match == "prefix":
                prefixes.append((code.system, code.code, target))
            else:
                exact[(code.system, code.code)] = target
    # longest prefix first, so a more specific category wins
    prefixes.sort(key=lambda item: -len(item[1]))
    return exact, tuple(prefixes)


def load_fhir_codes(knowledge: Knowledge, directory: Path | Traversable | None = None) -> FhirCodes:
    """Load and cross-check the FHIR code lists (the packaged ones unless ``directory`` is
    given); raise :class:`KnowledgeError` with all problems."""
    base = directory if directory is not None else resources.files("backtriage.fhir") / "data"
    problems: list[str] = []
    orders = _read(base, "imaging_orders.yaml", OrdersFile, problems)
    observations = _read(base, "observations.yaml", ObservationsFile, problems)
    medications = _read(base, "medications.yaml", MedicationsFile, problems)
    mapping = _read(base, "condition_findings.yaml", ConditionFindingsFile, problems)
    if problems or orders is None or observations is None or medications is None or not mapping:
        raise KnowledgeError(problems)
    procedures = {p.name for p in knowledge.acr.procedures}
    for index, order in enumerate(orders.codes):
        if order.procedure is not None and order.procedure not in procedures:
            problems.append(
                f"fhir/data/imaging_orders.yaml: codes[{index}] ({order.code}): unknown ACR "
                f"procedure {order.procedure!r}"
            )
        if order.source not in orders.sources:
            problems.append(
                f"fhir/data/imaging_orders.yaml: codes[{index}]: source {order.source!r} is not "
                "described under sources"
            )
    for kind in observations.observations:
        if kind.measurement not in MEASUREMENT_IDS:
            problems.append(
                f"fhir/data/observations.yaml: unknown measurement {kind.measurement!r}"
            )
    for group in medications.groups:
        if group.finding not in knowledge.findings:
            problems.append(f"fhir/data/medications.yaml: unknown finding {group.finding!r}")
    for entry in mapping.map:
        if entry.condition not in knowledge.conditions:
            problems.append(
                f"fhir/data/condition_findings.yaml: unknown condition {entry.condition!r}"
            )
        if entry.finding not in knowledge.findings:
            problems.append(f"fhir/data/condition_findings.yaml: unknown finding {entry.finding!r}")
    if problems:
        raise KnowledgeError(problems)
    finding_exact, finding_prefixes = _index(knowledge.codes.findings)
    condition_exact, condition_prefixes = _index(knowledge.codes.conditions)
    return FhirCodes(
        orders={(o.system, o.code): o for o in orders.codes},
        observations={
            code.code: (kind.measurement, {u.unit: u for u in kind.units})
            for kind in observations.observations
            for code in kind.codes
        },
        medications=medications,
        findings=finding_exact,
        finding_prefixes=finding_prefixes,
        conditions=condition_exact,
        condition_prefixes=condition_prefixes,
        condition_findings={entry.condition: entry.finding for entry in mapping.map},
    )


@lru_cache(maxsize=4)
def fhir_codes(knowledge: Knowledge) -> FhirCodes:
    """The code lists for ``knowledge``, loaded once per knowledge object (both are immutable)."""
    return load_fhir_codes(knowledge)

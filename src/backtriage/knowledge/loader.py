"""Read the knowledge base, validate every file against its schema, check every cross-reference,
and report *all* problems at once (file and location for each) as one :class:`KnowledgeError`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from backtriage.errors import KnowledgeError
from backtriage.knowledge.schema import (
    AcrFile,
    AcrVariant,
    CodesFile,
    Condition,
    ConditionsFile,
    EvidenceFile,
    Figure,
    Finding,
    FindingsFile,
    ImagingRule,
    Measurement,
    MeasurementsFile,
    ProbabilityModel,
    Recommendation,
    RecommendationsFile,
    Reference,
    ReferencesFile,
)
from backtriage.yaml_data import load_yaml

FILES = {
    "findings": "findings.yaml",
    "conditions": "conditions.yaml",
    "references": "references.yaml",
    "recommendations": "recommendations.yaml",
    "evidence": "evidence.yaml",
    "acr": "acr_lbp_2021.yaml",
    "codes": "codes.yaml",
    "measurements": "measurements.yaml",
}

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, eq=False)  # identity: it is read once and shared
class Knowledge:
    """The validated knowledge base.  Read once, passed to the engine; never mutated."""

    findings: dict[str, Finding]
    conditions: dict[str, Condition]
    references: dict[str, Reference]
    recommendations: tuple[Recommendation, ...]
    imaging_rules: tuple[ImagingRule, ...]
    figures: dict[str, Figure]
    models: dict[str, ProbabilityModel]
    acr: AcrFile
    codes: CodesFile
    measurements: dict[str, Measurement]  # in the order of the file (the form's order)
    version: str

    @cached_property
    def acr_variants(self) -> Mapping[int, AcrVariant]:
        """The ACR variants by number (read-only; built once)."""
        return MappingProxyType({variant.number: variant for variant in self.acr.variants})


def packaged_data() -> Traversable:
    return resources.files("backtriage.knowledge") / "data"


def load_knowledge(directory: Path | Traversable | None = None) -> Knowledge:
    """Load and check the knowledge base (the packaged one unless ``directory`` is given).

    Raises :class:`KnowledgeError` listing every problem found.
    """
    base = packaged_data() if directory is None else directory
    problems: list[str] = []
    digest = hashlib.sha256()
    raw: dict[str, Any] = {}
    for key, name in FILES.items():
        entry = base / name
        if not entry.is_file():
            problems.append(f"{name}: file is missing")
            continue
        text = entry.read_text(encoding="utf-8")
        digest.update(name.encode() + b"\0" + text.encode())
        try:
            raw[key] = load_yaml(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problems.append(f"{name}:{where} not valid YAML: {getattr(exc, 'problem', exc)}")
    findings_file = _validate(raw, "findings", FindingsFile, problems)
    conditions_file = _validate(raw, "conditions", ConditionsFile, problems)
    references_file = _validate(raw, "references", ReferencesFile, problems)
    recommendations_file = _validate(raw, "recommendations", RecommendationsFile, problems)
    evidence_file = _validate(raw, "evidence", EvidenceFile, problems)
    acr_file = _validate(raw, "acr", AcrFile, problems)
    codes_file = _validate(raw, "codes", CodesFile, problems)
    measurements_file = _validate(raw, "measurements", MeasurementsFile, problems)
    if (
        problems
        or findings_file is None
        or conditions_file is None
        or references_file is None
        or recommendations_file is None
        or evidence_file is None
        or acr_file is None
        or codes_file is None
        or measurements_file is None
    ):
        raise KnowledgeError(problems)
    knowledge = Knowledge(
        findings=_by_id(findings_file.findings, "findings.yaml", "findings", problems),
        conditions=_by_id(conditions_file.conditions, "conditions.yaml", "conditions", problems),
        references=_by_id(references_file.references, "references.yaml", "references", problems),
        recommendations=tuple(recommendations_file.recommendations),
        imaging_rules=tuple(recommendations_file.imaging_rules),
        figures=_by_id(evidence_file.figures, "evidence.yaml", "figures", problems),
        models=_models(evidence_file.models, problems),
        acr=acr_file,
        codes=codes_file,
        measurements=_by_id(
            measurements_file.measurements, "measurements.yaml", "measurements", problems
        ),
        version=digest.hexdigest()[:12],
    )
    _by_id(knowledge.recommendations, "recommendations.yaml", "recommendations", problems)
    _by_id(knowledge.imaging_rules, "recommendations.yaml", "imaging_rules", problems)
    from backtriage.knowledge.checks import cross_check  # late: checks imports this module

    problems.extend(cross_check(knowledge))
    if problems:
        raise KnowledgeError(problems)
    return knowledge


def validated(data: Any, model: type[M], name: str) -> M:
    """Decoded data file ``name`` as ``model``, or a :class:`KnowledgeError` with every problem,
    each with its place, as the knowledge base's own files report them: for the data files that
    sit beside the code that reads them (the web page's intake form and handout)."""
    problems: list[str] = []
    checked = _checked(data, model, name, problems)
    if checked is None:
        raise KnowledgeError(problems)
    return checked


def _validate(raw: dict[str, Any], key: str, model: type[M], problems: list[str]) -> M | None:
    if key not in raw:
        return None
    return _checked(raw[key], model, FILES[key], problems)


def _checked(data: Any, model: type[M], name: str, problems: list[str]) -> M | None:
    if not isinstance(data, dict):
        problems.append(f"{name}: expected a mapping at the top, with schema_version and entries")
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            problems.append(f"{name}: {_location(data, error['loc'])}: {_message(error)}")
        return None


def _location(data: Any, loc: Iterable[int | str]) -> str:
    """Turn a pydantic error location into ``findings[3] (id: fever).ask`` form."""
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int):
            label = f"[{step}]"
            if isinstance(node, list) and step < len(node):
                node = node[step]
                if isinstance(node, dict) and isinstance(node.get("id"), str):
                    label += f" (id: {node['id']})"
            parts.append(label)
        else:
            if isinstance(node, dict):
                node = node.get(step)
            elif isinstance(node, list):
                continue  # pydantic names union branches here; they add nothing for a reader
            parts.append(f".{step}" if parts else str(step))
    return "".join(parts) or "(top)"


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key (not in the schema; check the spelling)"
    if error["type"] == "missing":
        return "required key is missing"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


T = TypeVar("T", Reference, Finding, Condition, Figure, Recommendation, ImagingRule, Measurement)


def _by_id(items: Iterable[T], name: str, what: str, problems: list[str]) -> dict[str, T]:
    out: dict[str, T] = {}
    for index, item in enumerate(items):
        if item.id in out:
            problems.append(f"{name}: {what}[{index}]: duplicate id {item.id!r}")
        out[item.id] = item
    return out


def _models(models: Iterable[ProbabilityModel], problems: list[str]) -> dict[str, ProbabilityModel]:
    out: dict[str, ProbabilityModel] = {}
    for index, model in enumerate(models):
        if model.condition in out:
            problems.append(
                f"evidence.yaml: models[{index}]: a second model for {model.condition!r}"
            )
        out[model.condition] = model
    return out

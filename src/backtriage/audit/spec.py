"""The measure's parameters (``specs.yaml``): ages, intake period, windows, exclusions.

Two forms are shipped: ``hedis`` (current HEDIS LBP, ages 18-75) and ``cms166v7`` (the public
eCQM, ages 18-49).  The dates of a run follow from the measurement year and the spec.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from backtriage.audit.layout import SETTINGS
from backtriage.errors import AuditInputError, KnowledgeError
from backtriage.yaml_data import load_yaml


class AgeRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min: int = Field(ge=0)
    min_anchor: Literal["year_start", "year_end"]
    max: int = Field(ge=0)
    max_anchor: Literal["year_start", "year_end"]
    source: str = Field(min_length=1)


class Intake(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: str = Field(pattern=r"^\d\d-\d\d$")
    end: str | None = Field(default=None, pattern=r"^\d\d-\d\d$")
    end_offset_days: int | None = None
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_end(self) -> Intake:
        if (self.end is None) == (self.end_offset_days is None):
            raise ValueError("give exactly one of `end` or `end_offset_days`")
        return self


class Exclusion(BaseModel):
    """One exclusion: a code list and a window of days around the index date."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str
    list: str | None
    from_days: int | None
    to_days: int | None
    scope: Literal["index_window", "measurement_year"] = "index_window"
    min_days_supply: int | None = Field(default=None, ge=1)
    source: str = Field(min_length=1)


class MeasureSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    source: str = Field(min_length=1)
    age: AgeRule
    intake: Intake
    eligible_settings: tuple[str, ...]
    settings_source: str
    index_list: str
    numerator_list: str
    negative_history_days: int = Field(ge=1)
    negative_history_source: str
    numerator_days: int = Field(ge=0)
    numerator_source: str
    exclusions: tuple[Exclusion, ...]


class SpecFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    specs: dict[str, MeasureSpec]


def load_specs(known_lists: set[str] | None = None) -> dict[str, MeasureSpec]:
    """Load ``specs.yaml``; every list named must exist when ``known_lists`` is given."""
    text = resources.files("backtriage.audit").joinpath("specs.yaml").read_text("utf-8")
    try:
        spec_file = SpecFile.model_validate(load_yaml(text))
    except (ValidationError, yaml.YAMLError) as exc:
        raise KnowledgeError([f"audit/specs.yaml: {exc}"]) from exc
    problems: list[str] = []
    for name, spec in spec_file.specs.items():
        bad = sorted(set(spec.eligible_settings) - set(SETTINGS))
        if bad:
            problems.append(f"audit/specs.yaml: {name}: unknown settings {bad}")
        if known_lists is not None:
            named = [spec.index_list, spec.numerator_list] + [
                e.list for e in spec.exclusions if e.list is not None
            ]
            problems += [
                f"audit/specs.yaml: {name}: unknown code list {n!r}"
                for n in named
                if n not in known_lists
            ]
    if problems:
        raise KnowledgeError(problems)
    return dict(spec_file.specs)


@dataclass(frozen=True)
class Period:
    """The dates of one run: measurement year, intake period."""

    year: int
    year_start: dt.date
    year_end: dt.date
    intake_start: dt.date
    intake_end: dt.date


def period_for(spec: MeasureSpec, year: int) -> Period:
    """Dates of the measurement ``year`` under ``spec``."""
    if not 1900 <= year <= 2200:
        raise AuditInputError(f"--year {year} is out of range; give a year such as 2024")
    year_start = dt.date(year, 1, 1)
    month, day = (int(x) for x in spec.intake.start.split("-"))
    intake_start = dt.date(year, month, day)
    if spec.intake.end is not None:
        month, day = (int(x) for x in spec.intake.end.split("-"))
        intake_end = dt.date(year, month, day)
    else:
        intake_end = year_start + dt.timedelta(days=spec.intake.end_offset_days or 0)
    return Period(year, year_start, dt.date(year, 12, 31), intake_start, intake_end)

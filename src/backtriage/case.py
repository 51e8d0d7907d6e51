"""Case format 1: what is known about one patient.  A contract: extend it, never break it.

Every key is optional; an empty case is valid and yields the full screening checklist.
Findings are tri-state (``present``, ``absent``, ``unknown``): unknown is not absent.

``Case`` checks shapes, types and ranges.  Whether each finding id exists is a question for the
knowledge base, answered by :func:`backtriage.engine.intake.check_case` (so the list of valid
ids lives in one place, the data).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

FindingState = Literal["present", "absent", "unknown"]
Sex = Literal["male", "female", "other", "unknown"]
TextSource = Literal["complaint", "note"]

MEASUREMENT_IDS = ("temperature_c", "esr_mm_h", "crp_mg_l", "wbc_10e9_l")


class Measurements(BaseModel):
    """Measured values, in the units their names carry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature_c: Annotated[float, Field(ge=25, le=45)] | None = None
    esr_mm_h: Annotated[float, Field(ge=0, le=200)] | None = None
    crp_mg_l: Annotated[float, Field(ge=0, le=1000)] | None = None
    wbc_10e9_l: Annotated[float, Field(ge=0, le=500)] | None = None


StartBackItem = Annotated[int, Field(ge=0, le=1)]
StartBackItem9 = Annotated[int, Field(ge=0, le=4)]


class Case(BaseModel):
    """One patient, as known now.  See DESIGN.md, "Case format 1"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    age: Annotated[int, Field(ge=0, le=120)] | None = None
    sex: Sex | None = None
    complaint: Annotated[str, Field(max_length=1_000_000)] | None = None
    note: Annotated[str, Field(max_length=1_000_000)] | None = None
    duration_days: Annotated[int, Field(ge=0, le=36_500)] | None = None
    findings: dict[str, FindingState] = Field(default_factory=dict)
    measurements: Measurements = Field(default_factory=Measurements)
    conservative_therapy_weeks: Annotated[float, Field(ge=0, le=5200)] | None = None
    surgical_candidate: bool | None = None
    start_back: (
        tuple[
            StartBackItem,
            StartBackItem,
            StartBackItem,
            StartBackItem,
            StartBackItem,
            StartBackItem,
            StartBackItem,
            StartBackItem,
            StartBackItem9,
        ]
        | None
    ) = None

    @field_validator("age", "duration_days", mode="before")
    @classmethod
    def _whole_number(cls, value: object) -> object:
        # JSON has no integer type of its own: 58.0 is fine, 58.5 years is a mistake to report.
        if isinstance(value, bool):
            raise ValueError("must be a whole number, not true/false")
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError("must be a whole number")
            return int(value)
        return value

    def state(self, finding_id: str) -> FindingState:
        """The state given for ``finding_id`` in this case, ``unknown`` when not given."""
        return self.findings.get(finding_id, "unknown")


class Evidence(BaseModel):
    """Where a finding's state (or a value) came from.

    ``source`` is ``findings`` (the case's structured findings), ``measurements``, ``age``,
    ``complaint`` or ``note``; for the two text sources, ``text``/``start``/``end`` give the
    span, with ``text == source_text[start:end]``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    text: str | None = None
    start: int | None = None
    end: int | None = None
    detail: str | None = None

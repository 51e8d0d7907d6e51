"""What the text reader returns: ``Reading``, and the ``Uncertain`` and ``Conflict`` notes in it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from backtriage.case import Evidence

State = Literal["present", "absent"]
Why = Literal[
    "family",
    "hypothetical",
    "uncertain",
    "historical",
    "non_specific",
    "qualified",
    "unclear_list",
    "unanswered",
    "unclear_form",
]


class Uncertain(BaseModel):
    """A mention read as not setting its finding, and why (shown in the report)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    finding: str
    why: Why
    evidence: Evidence
    detail: str


class Conflict(BaseModel):
    """The text says both present and absent about one finding; which reading was kept, why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    finding: str
    chosen: State
    present: list[Evidence]
    absent: list[Evidence]
    why: str


class Reading(BaseModel):
    """Findings and values read from a complaint and/or a note.

    ``findings`` lists only what the text sets (unknown findings are absent from the map); an
    ``absent`` always rests on an explicit denial or a stated normal examination.  Every key of
    ``findings`` has its spans in ``evidence``; so do the values read (keys ``age``, ``sex``,
    ``duration_days``, ``conservative_therapy_weeks``, ``location``, and
    ``measurements.<id>``).  Offsets index the original string of the evidence's source.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    findings: dict[str, State] = Field(default_factory=dict)
    evidence: dict[str, list[Evidence]] = Field(default_factory=dict)
    age: int | None = None
    sex: Literal["male", "female"] | None = None
    duration_days: int | None = None
    conservative_therapy_weeks: float | None = None
    measurements: dict[str, float] = Field(default_factory=dict)
    location: str | None = None
    side: Literal["left", "right", "bilateral", "central"] | None = None
    uncertain: list[Uncertain] = Field(default_factory=list)
    conflicts: list[Conflict] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

"""The Assessment: everything the engine concluded about one case.  A contract (DESIGN.md,
``contracts/assessment-1.schema.json``): extend it, never break it.

Every clinical statement carries the ids of the references it rests on (``citations``), and
``references`` resolves each id used anywhere in the assessment.  Renderers (Markdown, HTML,
JSON, CDS Hooks cards) only present this object; they decide nothing.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticUndefined

from backtriage.case import Evidence, FindingState

Urgency = Literal["emergency", "urgent", "routine"]
Status = Literal["suspected", "not_excluded", "screened_negative"]
URGENCY_ORDER: dict[str, int] = {"routine": 0, "urgent": 1, "emergency": 2}

M = TypeVar("M", bound=BaseModel)
_DEFAULTS: dict[type[BaseModel], tuple[dict[str, Any], tuple[tuple[str, Any], ...]]] = {}


def trusted(cls: type[M], **values: Any) -> M:
    """Build an output model from values the engine derived from validated data, without
    validating again (the tests check every assessment against the JSON contract).  About twice
    as fast as ``model_construct``, which matters at thousands of assessments a second."""
    known = _DEFAULTS.get(cls)
    if known is None:
        fields = cls.model_fields
        known = _DEFAULTS[cls] = (
            {n: (None if f.default is PydanticUndefined else f.default) for n, f in fields.items()},
            tuple((n, f.default_factory) for n, f in fields.items() if f.default_factory),
        )
    defaults, factories = known
    data = dict(defaults)  # field order, so the JSON keys come out in declaration order
    data.update(values)
    for name, factory in factories:
        if name not in values:
            data[name] = factory()
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", data)
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Disagreement(Out):
    summary: str
    positions: list[dict[str, Any]]


class Statement(Out):
    """One recommendation in the output — the same shape for every section (applies, summary,
    detail, urgency, references, suggested actions), so each maps onto a report line or a card."""

    id: str
    section: str
    summary: str
    detail: str | None = None
    strength: str | None = None
    source: str | None = None
    citations: list[str]
    disagreement: Disagreement | None = None
    why: str | None = None


class FigureUse(Out):
    """A published figure used or shown for a condition, with its provenance."""

    id: str
    finding: str | None = None
    state: FindingState | None = None
    kind: str
    value: float | None = None
    lr: float | None = None
    certainty: str
    setting: str
    source_text: str
    citations: list[str]


class Probability(Out):
    pretest: float
    posttest: float | None = None
    method: str
    figures: list[FigureUse]
    assumption: str
    if_present: dict[str, float] = Field(
        default_factory=dict,
        description="for each finding still unknown: the post-test probability if it were present",
    )
    unverified: bool = Field(description="true when any figure used is not verified")
    citations: list[str]


class ConditionResult(Out):
    id: str
    label: str
    kind: str
    status: Status
    urgency: Urgency | None = Field(
        None, description="the urgency this condition sets when suspected"
    )
    triggers: list[str]
    missing: list[str]
    absent: list[str]
    rule: str
    probability: Probability | None = None
    screen: Statement | None = None
    action: Statement | None = None
    action_lead: str = "If present"
    caveat: Statement | None = None
    disagreement: Disagreement | None = None
    levels: list[str] = Field(default_factory=list)


class ImagingOrder(Out):
    study: str
    timing: Literal["immediate", "prompt", "routine"]
    why: str
    citations: list[str]
    for_conditions: list[str]
    acr: dict[str, Any] | None = None


class AcrVariantMatch(Out):
    variant: int
    text: str
    why: str
    appropriate: list[str]
    may_be_appropriate: list[str]
    citations: list[str]


class Question(Out):
    finding: str
    label: str
    ask: str
    kind: str
    for_conditions: list[str]


class StartBack(Out):
    total: int
    distress: int
    risk: Literal["low", "medium", "high"]
    answers: list[int]


class Psychosocial(Out):
    start_back: StartBack | None
    yellow_flags: list[str]
    statements: list[Statement]


class FollowUp(Out):
    reassess_in_days: int | None
    statements: list[Statement]
    safety_net: list[Statement]


class Conflict(Out):
    finding: str
    kept: FindingState
    other: FindingState
    why: str
    evidence: list[Evidence]


TriWord = Literal["true", "false", "unknown"]


class UncertainMention(Out):
    """A finding the text mentions without setting it (family history, hypothetical, uncertain,
    qualified): shown so a clinician sees what the reader chose not to count, and why."""

    finding: str
    why: str
    detail: str
    evidence: Evidence


class TraceStep(Out):
    rule: str
    result: TriWord
    why: str


class ReferenceOut(Out):
    id: str
    authors: str
    year: int
    title: str
    journal: str
    citation: str | None
    pmid: str | None
    doi: str | None
    url: str | None
    link: str
    verified: bool


class Assessment(Out):
    contract: Literal["assessment-1"] = "assessment-1"
    knowledge_version: str
    assessed_on: str
    urgency: Urgency
    urgency_reasons: list[str]
    most_likely: str
    most_likely_label: str
    reasoning: list[str] = Field(
        description="why this working diagnosis: which rule fired on which findings, and why it "
        "comes first"
    )
    summary: list[Statement]
    diagnosis: list[Statement]
    conditions: list[ConditionResult]
    imaging: list[ImagingOrder]
    imaging_statements: list[Statement]
    acr_variants: list[AcrVariantMatch]
    labs: list[str]
    unassessed: list[str]
    questions: list[Question]
    findings: dict[str, FindingState]
    evidence: dict[str, list[Evidence]]
    conflicts: list[Conflict]
    uncertain: list[UncertainMention] = Field(default_factory=list)
    evaluation: list[Statement]
    psychosocial: Psychosocial
    management: list[Statement]
    follow_up: FollowUp
    pitfalls: list[Statement]
    references: dict[str, ReferenceOut]
    case: dict[str, Any]
    presentation: dict[str, Any]
    warnings: list[str]
    trace: list[TraceStep]

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON form of the contract.  An optional value that is not known is left out, not
        written as null (the contract types them when present); ``start_back`` stays, as null
        when the nine answers were not given."""
        # pydantic-core's own walk to JSON-ready Python values: one pass, no text in between.
        data: dict[str, Any] = self.model_dump(mode="json", exclude_none=True)
        data["psychosocial"].setdefault("start_back", None)
        return data

"""Schemas of the knowledge-base files.  Every model forbids unknown keys, so a typo in a data
file is an error at load, never a silently ignored field."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from backtriage.knowledge.rules import ALWAYS, Rule, parse_rule

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
RuleField = Annotated[Rule, BeforeValidator(parse_rule)]
Urgency = Literal["emergency", "urgent", "routine"]
Timing = Literal["immediate", "prompt", "routine"]
Certainty = Literal["verified", "secondary", "unverified"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


# --- references ---------------------------------------------------------------------------------
class Reference(Strict):
    id: Id
    authors: str
    year: Annotated[int, Field(ge=1900, le=2100)]
    title: str
    journal: str
    citation: str | None = None
    pmid: Annotated[str, Field(pattern=r"^[0-9]{1,9}$")] | None = None
    doi: Annotated[str, Field(pattern=r"^10\.[0-9]{4,9}/\S+$")] | None = None
    url: Annotated[str, Field(pattern=r"^https://\S+$")] | None = None
    kind: Literal[
        "guideline",
        "systematic_review",
        "review",
        "cohort",
        "case_control",
        "diagnostic_study",
        "trial",
        "appropriateness_criteria",
        "other",
    ]
    verified: bool
    verified_from: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _locatable(self) -> Reference:
        if not (self.pmid or self.doi or self.url):
            raise ValueError("a reference needs at least one of pmid, doi or url")
        return self

    @property
    def link(self) -> str:
        """Where a reader can find it: PubMed, else the DOI, else the URL."""
        if self.pmid:
            return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return self.url or ""


class ReferencesFile(Strict):
    schema_version: Literal[1]
    references: list[Reference]


# --- findings -----------------------------------------------------------------------------------
class Code(Strict):
    system: Literal["http://hl7.org/fhir/sid/icd-10-cm", "http://snomed.info/sct"]
    code: str
    display: str
    match: Literal["exact", "prefix"] = "exact"
    verified: bool
    verified_from: str | None = None
    note: str | None = None


FindingCategory = Literal[
    "course",
    "cauda_equina",
    "malignancy",
    "infection",
    "fracture",
    "radiculopathy_exam",
    "psychosocial",
    "non_spinal",
    "axial_spondyloarthritis",
    "spinal_stenosis",
]


class Finding(Strict):
    id: Id
    label: str
    category: FindingCategory
    kind: Literal["symptom", "history", "exam", "psychosocial", "derived"]
    ask: str
    derived: RuleField | None = None
    present_when: RuleField | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _derived_consistent(self) -> Finding:
        if (self.kind == "derived") != (self.derived is not None):
            raise ValueError("kind 'derived' and a 'derived' rule go together")
        return self


class CodesFile(Strict):
    """Codes by finding id and by condition id; an empty list says no specific code exists."""

    schema_version: Literal[1]
    tool_versions: dict[str, str]
    findings: dict[Id, list[Code]]
    conditions: dict[Id, list[Code]]
    notes: str


class FindingsFile(Strict):
    schema_version: Literal[1]
    findings: list[Finding]


def phrase(label: str) -> str:
    """A label inside a sentence: "Fever" → "fever", but "ESR 20 mm/h" stays.  Labels are written
    as at the start of a line, so one label serves a form, a heading and a sentence."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


# --- measurements -------------------------------------------------------------------------------
class Measurement(Strict):
    """A measured value a case may carry, in the unit its id names: the form labels its field
    "Temperature (°C)", a report writes "temperature 38.4 °C"."""

    id: Id
    label: Annotated[str, Field(min_length=1)]
    unit: Annotated[str, Field(min_length=1)]


class MeasurementsFile(Strict):
    schema_version: Literal[1]
    measurements: list[Measurement]


# --- conditions ---------------------------------------------------------------------------------
class Statement(Strict):
    """A cited sentence in the knowledge base."""

    summary: str
    detail: str | None = None
    citations: Annotated[list[Id], Field(min_length=1)]


class Position(Strict):
    position: str
    citations: Annotated[list[Id], Field(min_length=1)]


class Disagreement(Strict):
    """Where guidelines disagree: the engine says so and shows every side with its reference."""

    summary: str
    positions: Annotated[list[Position], Field(min_length=2)]


StudyId = Literal[
    "xray_lumbar_spine",
    "mri_lumbar_spine_without_contrast",
    "mri_lumbar_spine_with_and_without_contrast",
    "ct_lumbar_spine_without_contrast",
]
LabId = Literal["cbc", "esr", "crp", "urinalysis"]


class ImagingOrder(Strict):
    study: StudyId
    timing: Timing
    why: str
    citations: Annotated[list[Id], Field(min_length=1)]


class Condition(Strict):
    id: Id
    label: str
    kind: Literal["red_flag", "mimic", "diagnosis"]
    priority: Annotated[int, Field(ge=1)]
    urgency: Urgency
    summary: str
    screening: list[Id]
    suspect_when: RuleField
    screen_statement: Statement | None = None
    if_suspected: Statement | None = None
    action_lead: str = "If present"
    caveat: Statement | None = None
    disagreement: Disagreement | None = None
    imaging: list[ImagingOrder] = Field(default_factory=list)
    labs: list[LabId] = Field(default_factory=list)
    acr_variant: Annotated[int, Field(ge=1, le=7)] | None = None
    levels: dict[str, list[Id]] | None = None


class ConditionsFile(Strict):
    schema_version: Literal[1]
    conditions: list[Condition]


# --- recommendations ----------------------------------------------------------------------------
Section = Literal[
    "summary",
    "diagnosis",
    "evaluation",
    "imaging",
    "management",
    "psychosocial",
    "follow_up",
    "safety_net",
    "pitfalls",
]


class Recommendation(Strict):
    """One guideline statement: when it applies, what it says, how strong, and on what it rests."""

    id: Id
    section: Section
    applies: RuleField = ALWAYS
    summary: str
    detail: str | None = None
    strength: str | None = None
    source: str
    citations: Annotated[list[Id], Field(min_length=1)]
    disagreement: Disagreement | None = None
    labs: list[LabId] = Field(default_factory=list)  # tests it asks for when it applies


class ImagingRule(Strict):
    """An order that becomes indicated by the course of care (not by a suspected condition)."""

    id: Id
    when: RuleField
    order: ImagingOrder
    acr_variant: Annotated[int, Field(ge=1, le=7)] | None = None


class RecommendationsFile(Strict):
    schema_version: Literal[1]
    recommendations: list[Recommendation]
    imaging_rules: list[ImagingRule] = Field(default_factory=list)


# --- evidence figures ---------------------------------------------------------------------------
class Figure(Strict):
    """A published number: a pretest probability, a likelihood ratio, or a sensitivity/specificity
    pair (from which the likelihood ratios are derived, not looked up)."""

    id: Id
    condition: Id
    kind: Literal["pretest", "likelihood_ratio", "sensitivity_specificity", "posttest"]
    finding: Id | None = None
    about: str | None = None
    value: Annotated[float, Field(gt=0)] | None = None
    lr_positive: Annotated[float, Field(gt=0)] | None = None
    lr_negative: Annotated[float, Field(gt=0)] | None = None
    sensitivity: Annotated[float, Field(gt=0, lt=1)] | None = None
    specificity: Annotated[float, Field(gt=0, lt=1)] | None = None
    ci: tuple[float, float] | None = None
    setting: str
    certainty: Certainty
    references: Annotated[list[Id], Field(min_length=1)]
    source_text: str

    @model_validator(mode="after")
    def _shape(self) -> Figure:
        need = {
            "pretest": ("value",),
            "posttest": ("value",),
            "likelihood_ratio": ("lr_positive",),
            "sensitivity_specificity": ("sensitivity", "specificity"),
        }[self.kind]
        missing = [name for name in need if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.kind} figure needs {', '.join(missing)}")
        if self.kind in ("pretest", "posttest") and not (self.value or 0) < 1:
            raise ValueError("a probability must be below 1")
        if self.kind != "pretest" and self.finding is None and self.about is None:
            raise ValueError(f"a {self.kind} figure needs the finding (or 'about') it concerns")
        return self

    @property
    def likelihood_ratios(self) -> tuple[float | None, float | None]:
        """(LR+, LR−): given, or derived as sens/(1−spec) and (1−sens)/spec."""
        if self.kind == "sensitivity_specificity":
            assert self.sensitivity is not None and self.specificity is not None
            return (
                self.sensitivity / (1 - self.specificity),
                (1 - self.sensitivity) / self.specificity,
            )
        return self.lr_positive, self.lr_negative


class ProbabilityModel(Strict):
    """Which figures the engine combines for one condition (Bayes, odds form)."""

    condition: Id
    method: Literal["bayes", "published_posttest", "pretest_only"]
    pretest: Id
    findings: dict[Id, Id]
    assumption: str


class EvidenceFile(Strict):
    schema_version: Literal[1]
    figures: list[Figure]
    models: list[ProbabilityModel]


# --- ACR Appropriateness Criteria table ---------------------------------------------------------
AcrCategory = Literal[
    "Usually Appropriate",
    "May Be Appropriate",
    "May Be Appropriate (Disagreement)",
    "Usually Not Appropriate",
]


class AcrProcedure(Strict):
    name: str
    rrl: Literal["O", "☢", "☢☢", "☢☢☢", "☢☢☢☢", "☢☢☢☢☢"]
    study: StudyId | None = None


class AcrRating(Strict):
    procedure: str
    category: AcrCategory


class AcrVariant(Strict):
    number: Annotated[int, Field(ge=1)]
    text: str
    ratings: list[AcrRating]


class AcrMatch(Strict):
    """backtriage's rule for when a variant applies to a case."""

    variant: Annotated[int, Field(ge=1)]
    when: RuleField
    why: str
    fallback: bool = False


class AcrFile(Strict):
    schema_version: Literal[1]
    title: str
    revised: int
    source: str
    citations: Annotated[list[Id], Field(min_length=1)]
    note: str
    procedures: list[AcrProcedure]
    variants: list[AcrVariant]
    matching: list[AcrMatch]

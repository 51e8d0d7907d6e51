"""The intake form: its layout, built from the knowledge base's findings and measurements and
``data/intake.yaml``, and the reading of a submitted form into a case-format-1 dict.

Reading decides nothing clinical: an empty control is left out (unknown is not absent), values go
to :func:`backtriage.api.parse_case` as typed, and its message says what to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from backtriage.case import MEASUREMENT_IDS
from backtriage.errors import KnowledgeError
from backtriage.knowledge import Knowledge
from backtriage.knowledge.loader import validated

STATES = ("present", "absent", "unknown")
FINDING_PREFIX = "f."
MEASUREMENT_PREFIX = "m."
START_BACK_NAMES = tuple(f"sb{n}" for n in range(1, 10))
DAYS_PER = {"days": 1, "weeks": 7}
# The plain fields' labels on the page, by HTML id: an error names a field as the user sees it.
FIELD_LABELS = {
    "age": "Age (years)",
    "sex": "Sex",
    "duration": "Duration of this episode",
    "complaint": "Complaint",
    "note": "Clinical note",
    "conservative_therapy_weeks": "Weeks of conservative therapy",
    "start-back": "STarT Back",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Category(_Strict):
    id: str
    title: str


class _Bothersome(_Strict):
    question: str
    answers: list[str] = Field(min_length=5, max_length=5)


class _StartBack(_Strict):
    intro: str
    items: list[str] = Field(min_length=8, max_length=8)
    bothersome: _Bothersome


class _IntakeFile(_Strict):
    schema_version: int
    categories: list[_Category]
    start_back: _StartBack
    measurement_steps: dict[str, str]  # measurement id -> its field's step


@dataclass(frozen=True)
class Control:
    """One finding's three-state radio group."""

    id: str
    label: str
    ask: str


@dataclass(frozen=True)
class MeasurementField:
    """One measurement's number field; its label is ``Layout.labels[field_id(id)]``."""

    id: str
    step: str


@dataclass(frozen=True)
class Group:
    id: str
    title: str
    controls: tuple[Control, ...]


@dataclass(frozen=True)
class Layout:
    groups: tuple[Group, ...]
    start_back: _StartBack
    measurements: tuple[MeasurementField, ...]
    anchors: dict[str, str]  # finding id -> id of the control an "ask next" link jumps to
    labels: dict[str, str]  # HTML id of a plain field or measurement -> its label on the page


def check(data: Any, knowledge: Knowledge) -> _IntakeFile:
    """The intake file's data, validated: its schema, and a step for each of the knowledge base's
    measurements and for nothing else (raises :class:`KnowledgeError` with every problem)."""
    intake = validated(data, _IntakeFile, "web/data/intake.yaml")
    where = "web/data/intake.yaml: measurement_steps"
    problems = [
        f"{where}: no step for measurement {mid!r}"
        for mid in knowledge.measurements
        if mid not in intake.measurement_steps
    ]
    problems += [
        f"{where}: unknown measurement id {mid!r} (the knowledge base's measurements: "
        f"{', '.join(knowledge.measurements)})"
        for mid in intake.measurement_steps
        if mid not in knowledge.measurements
    ]
    if problems:
        raise KnowledgeError(problems)
    return intake


@lru_cache(maxsize=4)
def layout(knowledge: Knowledge) -> Layout:
    """The form for ``knowledge``: every finding that can be given directly, grouped by category
    (derived findings such as "age over 50" come from age and measurements instead)."""
    text = (resources.files("backtriage.web") / "data" / "intake.yaml").read_text("utf-8")
    data = check(yaml.safe_load(text), knowledge)
    titles = {c.id: c.title for c in data.categories}
    by_category: dict[str, list[Control]] = {}
    anchors: dict[str, str] = {}
    for finding in knowledge.findings.values():
        if finding.derived is not None:
            fact = getattr(finding.derived, "fact", None)
            if isinstance(fact, str):
                anchors[finding.id] = field_id(fact)
            continue
        by_category.setdefault(finding.category, []).append(
            Control(finding.id, finding.label, finding.ask)
        )
        anchors[finding.id] = control_id(finding.id, "present")
    order = [c.id for c in data.categories if c.id in by_category]
    order += [c for c in by_category if c not in titles]
    groups = tuple(
        Group(c, titles.get(c, c.replace("_", " ").capitalize()), tuple(by_category[c]))
        for c in order
    )
    measured = knowledge.measurements.values()
    fields = tuple(MeasurementField(m.id, data.measurement_steps[m.id]) for m in measured)
    labels = FIELD_LABELS | {field_id(m.id): f"{m.label} ({m.unit})" for m in measured}
    return Layout(groups, data.start_back, fields, anchors, labels)


def value_labels(layout: Layout) -> dict[str, str]:
    """The key of each value the text reader can read ("age", "duration_days",
    "measurements.temperature_c") -> the label of its field on the form."""
    keys = ["age", "sex", "duration_days", "conservative_therapy_weeks"]
    keys += [f"measurements.{m.id}" for m in layout.measurements]
    found = {key: field_id(key.removeprefix("measurements.")) for key in keys}
    return {key: layout.labels[html] for key, html in found.items() if html in layout.labels}


def control_id(finding: str, state: str) -> str:
    return f"f-{finding}-{state}"


def field_id(name: str) -> str:
    """The HTML id of a plain field (age, a measurement...)."""
    if name in MEASUREMENT_IDS:
        return f"m-{name}"
    return {"age": "age", "duration_days": "duration"}.get(name, name)


def read(form: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """A submitted form -> (case dict, problems the case model cannot name itself)."""
    case: dict[str, Any] = {}
    problems: list[str] = []

    def text(name: str) -> str:
        return form.get(name, "").strip()

    for name in ("age", "conservative_therapy_weeks"):
        if text(name):
            case[name] = text(name)
    if text("sex"):
        case["sex"] = text("sex")
    for name in ("complaint", "note"):
        if text(name):
            case[name] = form[name]  # untrimmed: evidence spans index into the text as given
    if text("duration"):
        unit = text("duration_unit") or "days"
        try:
            days = round(float(text("duration")) * DAYS_PER[unit])
        except (ValueError, KeyError, OverflowError):
            days = -1
        if days >= 0:
            case["duration_days"] = days
        else:  # said here, in the unit typed: the case model would name days the user never saw
            problems.append(
                f"duration: give a number of days or weeks, 0 or more (got {text('duration')!r} "
                f"{unit})"
            )
    findings = {
        key.removeprefix(FINDING_PREFIX): value
        for key, value in form.items()
        if key.startswith(FINDING_PREFIX) and value != "unknown"
    }
    if findings:
        case["findings"] = findings
    measurements = {
        key.removeprefix(MEASUREMENT_PREFIX): value.strip()
        for key, value in form.items()
        if key.startswith(MEASUREMENT_PREFIX) and value.strip()
    }
    if measurements:
        case["measurements"] = measurements
    surgical = text("surgical_candidate")
    if surgical in ("yes", "no"):
        case["surgical_candidate"] = surgical == "yes"
    answers, unanswered = start_back(form)
    if answers:
        case["start_back"] = [int(a) if a.isdigit() else a for a in answers]
    if unanswered:
        missing = ", ".join(map(str, unanswered))
        problems.append(f"STarT Back: answer all nine questions or none (not answered: {missing})")
    return case, problems


def start_back(form: Mapping[str, str]) -> tuple[list[str], list[int]]:
    """Which STarT Back answers a form gives, for reading it and for the live pane alike:
    (the nine answers, trimmed, when all are given, else []; the numbers of the questions left
    unanswered when some, not all, are, else [])."""
    answers = [form.get(name, "").strip() for name in START_BACK_NAMES]
    if all(answers):
        return answers, []
    return [], [n for n, a in enumerate(answers, start=1) if not a] if any(answers) else []


def invalid_fields(message: str) -> list[str]:
    """The HTML ids of the fields an input error names ("age: ...; measurements.crp_mg_l: ...",
    "the note contains NUL bytes..."), so the page can mark them invalid and link to them."""
    ids: list[str] = []
    for part in message.split("; "):
        found = _field_named(part.split(":", 1)[0].strip())
        if found is not None and found not in ids:
            ids.append(found)
    return ids


def in_form_terms(message: str, labels: Mapping[str, str]) -> str:
    """``message`` with each field it names called by its label on the page ("ESR (mm/h): ..."
    for "measurements.esr_mm_h: ..."); what it says about the value is the core's, unchanged."""
    parts = []
    for part in message.split("; "):
        where, colon, rest = part.partition(":")
        found = _field_named(where.strip())
        if colon and found is not None and found in labels and not where.startswith("the "):
            part = f"{labels[found]}:{rest}"
        parts.append(part)
    return "; ".join(parts)


def _field_named(where: str) -> str | None:
    """The HTML id of the field an error's place names, if it is one on the form."""
    name = where.removeprefix("measurements.")
    text = where.split(" ", 2)  # the text reader's "the note contains NUL bytes..."
    if where.startswith("STarT Back") or where.startswith("start_back"):
        return "start-back"
    if text[0] == "the" and len(text) > 1 and text[1] in ("complaint", "note"):
        return text[1]
    if name in MEASUREMENT_IDS or name in ("age", "duration_days", "duration"):
        return field_id(name)
    if name == "conservative_therapy_weeks":
        return name
    return None

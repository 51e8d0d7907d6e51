"""The intake form: its layout, built from the knowledge base's findings and ``data/intake.yaml``,
and the reading of a submitted form into a case-format-1 dict.

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
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from backtriage.case import MEASUREMENT_IDS
from backtriage.errors import KnowledgeError
from backtriage.knowledge import Knowledge

STATES = ("present", "absent", "unknown")
FINDING_PREFIX = "f."
MEASUREMENT_PREFIX = "m."
START_BACK_NAMES = tuple(f"sb{n}" for n in range(1, 10))
DAYS_PER = {"days": 1, "weeks": 7}


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


class _Measurement(_Strict):
    id: str
    label: str
    unit: str
    step: str


class _IntakeFile(_Strict):
    schema_version: int
    categories: list[_Category]
    start_back: _StartBack
    measurements: list[_Measurement]


@dataclass(frozen=True)
class Control:
    """One finding's three-state radio group."""

    id: str
    label: str
    ask: str


@dataclass(frozen=True)
class Group:
    id: str
    title: str
    controls: tuple[Control, ...]


@dataclass(frozen=True)
class Layout:
    groups: tuple[Group, ...]
    start_back: _StartBack
    measurements: tuple[_Measurement, ...]
    anchors: dict[str, str]  # finding id -> id of the control an "ask next" link jumps to


def _intake_file() -> _IntakeFile:
    text = (resources.files("backtriage.web") / "data" / "intake.yaml").read_text("utf-8")
    try:
        data = _IntakeFile.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        raise KnowledgeError(
            [f"web/data/intake.yaml: {e['loc']}: {e['msg']}" for e in exc.errors()]
        ) from exc
    listed = [m.id for m in data.measurements]
    if sorted(listed) != sorted(MEASUREMENT_IDS):
        raise KnowledgeError(
            [f"web/data/intake.yaml: measurements must list exactly {', '.join(MEASUREMENT_IDS)}"]
        )
    return data


@lru_cache(maxsize=4)
def layout(knowledge: Knowledge) -> Layout:
    """The form for ``knowledge``: every finding that can be given directly, grouped by category
    (derived findings such as "age over 50" come from age and measurements instead)."""
    data = _intake_file()
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
    return Layout(groups, data.start_back, tuple(data.measurements), anchors)


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
            case["duration_days"] = round(float(text("duration")) * DAYS_PER[unit])
        except (ValueError, KeyError, OverflowError):
            problems.append(
                f"duration: give a number of days or weeks (got {text('duration')!r} {unit})"
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
    answered = [text(name) for name in START_BACK_NAMES]
    if all(answered):
        case["start_back"] = [int(a) if a.isdigit() else a for a in answered]
    elif any(answered):
        missing = ", ".join(map(str, start_back_unanswered(form)))
        problems.append(f"STarT Back: answer all nine questions or none (not answered: {missing})")
    return case, problems


def start_back_unanswered(form: Mapping[str, str]) -> list[int]:
    """The numbers of the STarT Back questions left unanswered when some, not all, are answered
    (empty when all nine or none are)."""
    answered = [form.get(name, "").strip() != "" for name in START_BACK_NAMES]
    if all(answered) or not any(answered):
        return []
    return [n for n, done in enumerate(answered, start=1) if not done]


def invalid_fields(message: str) -> list[str]:
    """The HTML ids of the fields an input error names ("age: ...; measurements.crp_mg_l: ...",
    "the note contains NUL bytes..."), so the page can mark them invalid and link to them."""
    ids: list[str] = []
    for part in message.split("; "):
        where = part.split(":", 1)[0].strip()
        name = where.removeprefix("measurements.")
        text = where.split(" ", 2)  # the text reader's "the note contains NUL bytes..."
        if where.startswith("STarT Back") or where.startswith("start_back"):
            found = "start-back"
        elif text[0] == "the" and len(text) > 1 and text[1] in ("complaint", "note"):
            found = text[1]
        elif name in MEASUREMENT_IDS or name in ("age", "duration_days", "duration"):
            found = field_id(name)
        elif name == "conservative_therapy_weeks":
            found = name
        else:
            continue
        if found not in ids:
            ids.append(found)
    return ids

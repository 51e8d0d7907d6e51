"""The Python entry points: parse a case (with messages that say what to fix), assess it with the
packaged knowledge base, and the pure core underneath."""

from __future__ import annotations

import difflib
import threading
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from backtriage.assessment import Assessment
from backtriage.case import Case, Measurements
from backtriage.engine import assess as core_assess
from backtriage.engine.intake import check_case
from backtriage.errors import CaseError
from backtriage.knowledge import Knowledge, load_knowledge

if TYPE_CHECKING:
    from backtriage.text import Reading, TextReader


@lru_cache(maxsize=1)
def default_knowledge() -> Knowledge:
    """The packaged knowledge base, loaded and checked once per process (it is immutable)."""
    return load_knowledge()


def parse_case(data: Any, knowledge: Knowledge | None = None) -> Case:
    """Validate case format 1 from decoded JSON; raise :class:`CaseError` naming what to fix."""
    if isinstance(data, Case):
        case = data
    else:
        if not isinstance(data, dict):
            raise CaseError(
                f"a case must be a JSON object (got {type(data).__name__}); see case format 1"
            )
        try:
            case = Case.model_validate(data)
        except ValidationError as exc:
            raise CaseError(_describe(exc)) from exc
    check_case(case, knowledge or default_knowledge())
    return case


def assess(case: Case | dict[str, Any], today: date | None = None) -> Assessment:
    """Assess one case with the packaged knowledge base (and today's date unless given)."""
    knowledge = default_knowledge()
    parsed = parse_case(case, knowledge)
    (result,) = assess_cases([parsed], knowledge, today or date.today())
    return result


def assess_cases(cases: Iterable[Case], knowledge: Knowledge, today: date) -> list[Assessment]:
    return [assess_case(case, knowledge, today) for case in cases]


def assess_case(case: Case, knowledge: Knowledge, today: date) -> Assessment:
    """Read the case's complaint and note (if any), then run the pure core on case and reading."""
    return core_assess(case, knowledge, today, read_text(case, today))


_READER_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def default_reader() -> TextReader:
    """The free-text reader, built once (its rules load in about half a second; spaCy is
    imported only when some text needs reading)."""
    from backtriage.text import TextReader

    return TextReader()


def read_text(case: Case, today: date) -> Reading | None:
    """What the complaint and note say, or None when the case has no text."""
    if not (case.complaint or case.note):
        return None
    reader = default_reader()
    with _READER_LOCK:  # spaCy's vocabulary grows as it reads: one reader, one text at a time
        return reader.read(complaint=case.complaint, note=case.note, today=today)


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        loc = [str(step) for step in error["loc"]]
        where = ".".join(loc) or "case"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            model = Measurements if loc[:1] == ["measurements"] else Case
            keys = sorted(model.model_fields)
            near = difflib.get_close_matches(loc[-1], keys, n=1)
            hint = f" — did you mean {near[0]!r}?" if near else f"; valid keys: {', '.join(keys)}"
            parts.append(f"unknown key {where!r}{hint}")
        elif error["type"] in ("literal_error", "enum"):
            parts.append(f"{where}: {message.lower()}, not {error['input']!r}")
        elif loc[:1] == ["start_back"] and error["type"] == "missing":
            continue  # the length check below says it once
        else:
            parts.append(f"{where}: {message} (got {error['input']!r})")
    if any(e["type"] == "missing" and e["loc"][:1] == ("start_back",) for e in exc.errors()):
        parts.append("start_back: needs exactly 9 answers (items 1-8 as 0 or 1, item 9 as 0-4)")
    return "; ".join(parts)

"""The complaint and the note, cut into segments so the page can mark the spans that the
assessment's evidence points at.  Only presentation: which spans exist is the assessment's word."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise

from backtriage.assessment import Assessment


@dataclass(frozen=True)
class Segment:
    text: str
    marks: tuple[str, ...]  # "Saddle anesthesia: absent", one per finding read in this span
    state: str  # "present", "absent", "value", "mixed", or "" when not marked


@dataclass(frozen=True)
class Passage:
    source: str  # "complaint" or "note"
    segments: tuple[Segment, ...]
    marked: bool


def passages(
    assessment: Assessment, labels: Mapping[str, str], values: Mapping[str, str] | None = None
) -> list[Passage]:
    """``labels``: finding id -> label; ``values``: the key of a value read from the text
    ("duration_days", "measurements.temperature_c") -> its name on the form."""
    values = values or {}
    out = []
    for source in ("complaint", "note"):
        text = assessment.case.get(source)
        if not isinstance(text, str) or not text:
            continue
        spans: list[tuple[int, int, str, str]] = []
        for key, items in assessment.evidence.items():
            for e in items:
                if e.source != source or e.start is None or e.end is None:
                    continue
                start, end = max(0, e.start), min(len(text), e.end)
                if start >= end:
                    continue
                if key in assessment.findings:
                    state = assessment.findings[key]
                    spans.append((start, end, f"{labels.get(key, key)}: {state}", state))
                else:  # a value read from the text (duration, site): say what was read
                    what = values.get(key, key.replace("_", " ").capitalize())
                    name = key.rsplit(".", 1)[-1]  # the detail may start "age 58", "crp_mg_l = 9"
                    read = (e.detail or e.text or "").removeprefix(f"{name} = ")
                    read = read.removeprefix(f"{name} ")
                    spans.append((start, end, f"{what}: {read}", "value"))
        segments = cut(text, spans)
        out.append(Passage(source, segments, any(s.marks for s in segments)))
    return out


def cut(text: str, spans: list[tuple[int, int, str, str]]) -> tuple[Segment, ...]:
    """Split ``text`` at every span edge; overlapping spans give a segment several marks."""
    edges = sorted({0, len(text), *(s for s, _, _, _ in spans), *(e for _, e, _, _ in spans)})
    segments: list[Segment] = []
    for a, b in pairwise(edges):
        covering = [(label, state) for s, e, label, state in spans if s <= a and b <= e]
        marks = tuple(dict.fromkeys(label for label, _ in covering))
        states = {state for _, state in covering}
        state = "" if not covering else states.pop() if len(states) == 1 else "mixed"
        if segments and segments[-1].marks == marks and segments[-1].state == state:
            last = segments.pop()
            segments.append(Segment(last.text + text[a:b], marks, state))
        else:
            segments.append(Segment(text[a:b], marks, state))
    return tuple(segments)

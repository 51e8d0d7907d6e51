"""Section headers of a note ("PMH:", "Family History:", "Safety-netting:") and their reach.

A header is recognised at the start of a line or after a sentence end (". FH: ..."), and must
be followed by a colon (or stand alone on its line).  A section runs to the next header or a
blank line; a header with text on its own line ("PMH: osteoporosis ...") covers only that
sentence and its hard-wrapped continuation.  A ``negated_list`` section ("Denies:" then
bullets) covers only the bulleted lines that follow its header line: on the header line itself
the word "denies" is a ConText trigger like any other.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from backtriage.text.rules import Section

_BULLET = re.compile(r"[ \t]*(?:[-*•·‣▪–]|\d{1,2}[.)])[ \t]*")


@dataclass(frozen=True)
class SectionSpan:
    section: Section
    start: int  # first character the section's policy covers
    end: int


class SectionFinder:
    """Finds section spans in a text, from the header lists of ``sections.yaml``."""

    def __init__(self, sections: list[Section]) -> None:
        self._by_header: dict[str, Section] = {}
        for section in sections:
            for header in section.headers:
                self._by_header.setdefault(header.lower(), section)
        names = sorted(self._by_header, key=len, reverse=True)
        alternatives = "|".join(re.escape(n) for n in names)
        # Tried only where a header may start (line start, after ". "), not at every character.
        self._starts = re.compile(r"\n|[.;]\s")
        self._pattern = re.compile(
            rf"[ \t>#*_-]*(?P<name>{alternatives})[ \t*_]*(?:(?P<colon>:)|(?=[ \t]*(?:\r?\n|$)))",
            re.IGNORECASE,
        )
        self._blank = re.compile(r"\n[ \t]*\r?\n")
        self._item_end = re.compile(r"[.!?][ \t]+(?=[A-Z])|\n(?=[ \t]*(?:[A-Z]|[-*•·]))")

    def find(self, text: str) -> list[SectionSpan]:
        positions = [0, *(m.end() for m in self._starts.finditer(text))]
        headers = []
        for pos in positions:
            m = self._pattern.match(text, pos)
            if m is not None:
                headers.append((m.start("name"), m.end(), self._by_header[m.group("name").lower()]))
        spans: list[SectionSpan] = []
        for i, (_, body_start, section) in enumerate(headers):
            end = headers[i + 1][0] if i + 1 < len(headers) else len(text)
            blank = self._blank.search(text, body_start, end)
            if blank is not None:
                end = blank.start()
            if text[body_start:end].split("\n", 1)[0].strip():
                # An inline header ("PMH: osteoporosis on ...") covers its own sentence and any
                # hard-wrapped continuation, up to a new sentence or a new line item.
                stop = self._item_end.search(text, body_start, end)
                if stop is not None:
                    end = stop.start() + 1
            if section.policy == "none":
                continue
            if section.policy == "negated_list":
                spans.extend(_bullet_lines(text, body_start, end, section))
            else:
                spans.append(SectionSpan(section, body_start, end))
        return spans


def _bullet_lines(text: str, body_start: int, end: int, section: Section) -> list[SectionSpan]:
    out: list[SectionSpan] = []
    line_start = text.find("\n", body_start, end)
    while line_start != -1 and line_start < end:
        line_start += 1
        line_end = text.find("\n", line_start, end)
        if line_end == -1:
            line_end = end
        if not _BULLET.match(text, line_start) or line_end == line_start:
            break
        out.append(SectionSpan(section, line_start, line_end))
        line_start = line_end if line_end < end else -1
    return out


class SectionIndex:
    """Which section (if any) covers a character offset."""

    def __init__(self, spans: list[SectionSpan]) -> None:
        self._spans = sorted(spans, key=lambda s: s.start)
        self._starts = [s.start for s in self._spans]

    def at(self, offset: int) -> SectionSpan | None:
        i = bisect_right(self._starts, offset) - 1
        while i >= 0:
            span = self._spans[i]
            if span.start <= offset < span.end:
                return span
            if span.end <= offset and i < len(self._spans) and span.start < offset:
                # spans do not nest; an earlier span that ended cannot cover offset
                return None
            i -= 1
        return None

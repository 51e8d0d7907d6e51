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
        self._names = sorted(self._by_header, key=len, reverse=True)
        # Tried only where a header may start (line start, after ". "), not at every character.
        self._starts = re.compile(r"\n|[.;]\s")
        self._pattern = self._compile(self._names)
        # Trying all ~120 names at each line start cost ~3 us; the names that can start with
        # the next two characters, when those are ASCII, give the same match (see ``_match``).
        self._lead = re.compile(r"[ \t>#*_-]*")
        self._by_start: dict[str, re.Pattern[str] | None] = {}
        self._by_names: dict[tuple[str, ...], re.Pattern[str]] = {}
        self._dispatch = all(n[:1] and n[:1] not in " \t>#*_-" for n in self._names)
        self._blank = re.compile(r"\n[ \t]*\r?\n")
        self._item_end = re.compile(r"[.!?][ \t]+(?=[A-Z])|\n(?=[ \t]*(?:[A-Z]|[-*•·]))")

    @staticmethod
    def _compile(names: list[str]) -> re.Pattern[str]:
        alternatives = "|".join(re.escape(n) for n in names)
        return re.compile(
            rf"[ \t>#*_-]*(?P<name>{alternatives})[ \t*_]*(?:(?P<colon>:)|(?=[ \t]*(?:\r?\n|$)))",
            re.IGNORECASE,
        )

    def _match(self, text: str, pos: int) -> re.Match[str] | None:
        """``self._pattern.match(text, pos)``, trying only the names that can match there.

        No name starts with one of the leading ``[ \t>#*_-]`` (else ``_dispatch`` is off), so
        a name starts where they end.  An ASCII character matches a name's ASCII character,
        ignoring case, exactly when their lower cases are equal (not so for others: "K", the
        Kelvin sign, matches "k"; so non-ASCII text takes the full pattern, and names not ASCII
        are always kept).  Leaving out the names that cannot match keeps the others' order:
        the same name wins.
        """
        at = self._lead.match(text, pos).end()  # type: ignore[union-attr]
        lead = text[at : at + 2]
        if not self._dispatch or not lead.isascii():
            return self._pattern.match(text, pos)
        lead = lead.lower()
        if lead not in self._by_start:
            names = tuple(n for n in self._names if not n[:2].isascii() or n[:2] == lead[: len(n)])
            if names and names not in self._by_names:
                self._by_names[names] = self._compile(list(names))
            self._by_start[lead] = self._by_names[names] if names else None
        pattern = self._by_start[lead]
        return None if pattern is None else pattern.match(text, pos)

    def find(self, text: str) -> list[SectionSpan]:
        positions = [0, *(m.end() for m in self._starts.finditer(text))]
        headers = []
        for pos in positions:
            m = self._match(text, pos)
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

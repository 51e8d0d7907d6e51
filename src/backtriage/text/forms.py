"""Forms pasted as text: checkboxes, yes/no options and "Y/N" left to fill in, and the words each
one answers (the marks and answer words are in ``forms.yaml``).

A form is read line by line; a box or an answer belongs to words on its own line:

- options, a box by each answer word of a question: "Fever: Y [ ] N [x]", "Fever ☐ Yes ☒ No",
  or "( ) Yes (x) No" alone under its question.  The question is the words before the options
  (from the previous question's options on), or the line above when there are none.  Radio
  buttons pasted from a web page ("◉ Yes ○ No") are options only two or more in a row, each
  circle beside its answer word; anywhere else a circle is a bullet ("● weight loss");
- a checklist, boxes before their items ("[ ] Fever", "Red flags: [ ] fever [x] wt loss") or
  after them ("Fever [ ]"), told apart by which end of the line has words;
- "Fever Y/N", "Saddle numbness (Y/N): N": the answer after the "Y/N", if there is one; a
  blank left to fill in ("Fever: ____") is not answered.

A line whose boxes cannot be told apart ("fever [x] weight loss": which is ticked?) is one item
answered "unclear".  What an answer does to a finding is decided in :mod:`.reader`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from backtriage.text.pipeline import QUERY_MARKS, Mention
from backtriage.text.rules import FormsFile

# "yes": ticked, or its yes ticked; "no": its no ticked; "none": not ticked, not answered, or
# answered "unsure"; "unclear": a mark or an item that cannot be told.
Answer = Literal["yes", "no", "none", "unclear"]

_LETTER = re.compile(r"[^\W\d_]")
# A clause ends a checklist item or a question: the break is kept with the words before it
# ("Have you had a fever?").
_BREAK = re.compile(r"[.;:!?](?=\s|$)")


@dataclass(frozen=True)
class FormItem:
    """The words a form's answer is about (``start``-``end``), and the answer."""

    start: int
    end: int
    answer: Answer
    answer_start: int  # the box, the options or the "Y/N" that answer it
    answer_end: int


@dataclass(frozen=True)
class _Mark:
    start: int  # a box, or an option (its word and its box)
    end: int
    answer: Answer
    radio: bool = False  # a radio button's circle: a box only as an answer option


def _alternatives(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _squeeze(mark: str) -> str:
    return "".join(mark.split()).lower()


def _box_pattern(mark: str) -> str:
    """A listed box as a pattern: spaces inside brackets do not matter ("[ x ]", "[]")."""
    inner = mark[1:-1].strip()
    if len(mark) >= 2 and mark[0] in "[(" and mark[-1] in "])":
        return re.escape(mark[0]) + r"[ \t]*" + re.escape(inner) + r"[ \t]*" + re.escape(mark[-1])
    return re.escape(mark)


def _has_words(text: str) -> bool:
    return _LETTER.search(text) is not None


def _last_letter(text: str) -> int:
    """The offset of the last letter in ``text`` (-1 if none)."""
    for i in range(len(text) - 1, -1, -1):
        if _LETTER.match(text[i]):
            return i
    return -1


class FormFinder:
    """Finds the answered items of the forms in a text, from the marks of ``forms.yaml``."""

    def __init__(self, forms: FormsFile | None) -> None:
        self._box_answer: dict[str, Answer] = {}
        self._word_answer: dict[str, Answer] = {}
        self._radio: frozenset[str] = frozenset()
        if forms is None:
            self._box = self._template = re.compile(r"(?!)")
            return
        boxes: list[tuple[list[str], Answer]] = [
            (forms.boxes.ticked, "yes"),
            (forms.boxes.unticked, "none"),
            (forms.boxes.unclear, "unclear"),
        ]
        radios: list[tuple[list[str], Answer]] = [
            (forms.radios.ticked, "yes"),
            (forms.radios.unticked, "none"),
        ]
        for marks, answer in boxes + radios:
            self._box_answer.update((_squeeze(m), answer) for m in marks)
        self._radio = frozenset(_squeeze(m) for marks, _ in radios for m in marks)
        words: list[tuple[list[str], Answer]] = [
            (forms.answers.yes_words, "yes"),
            (forms.answers.no_words, "no"),
            (forms.answers.unsure_words, "none"),
        ]
        for listed, answer in words:
            self._word_answer.update((w.lower(), answer) for w in listed)
        self._box = re.compile(
            "|".join(_box_pattern(m) for m in sorted(self._box_answer, key=len, reverse=True)),
            re.IGNORECASE,
        )
        word = rf"(?<![\w/'])(?P<word>{_alternatives(list(self._word_answer))})(?![\w/'])"
        # An answer word right before a box ("Y [x]") or right after one ("[x] Yes").
        self._word_before = re.compile(word + r"[ \t]*[:=]?[ \t]*\Z", re.IGNORECASE)
        self._word_after = re.compile(r"[ \t]*" + word, re.IGNORECASE)
        yes_no = (
            rf"(?:{_alternatives(forms.answers.yes_words)})[ \t]*/[ \t]*"
            rf"(?:{_alternatives(forms.answers.no_words)})"
        )
        # "Y/N" (maybe answered: "Y/N: N"), or a blank: "Fever: ____".
        blank = rf"(?<![^\W_]){re.escape(forms.blank)}_*(?![^\W_])"
        self._template = re.compile(
            rf"(?<![\w/])\(?{yes_no}\)?(?![\w/])(?:[ \t]*[?:=\-–]+[ \t]*{word})?|{blank}",
            re.IGNORECASE,
        )

    def find(self, text: str) -> FormIndex:
        items: list[FormItem] = []
        if self._box.search(text) is None and self._template.search(text) is None:
            return FormIndex(items)  # no form (most notes): no need to read line by line
        previous: tuple[int, int] | None = None  # the last line with words, not a form's
        for start, end in _lines(text):
            line = text[start:end]
            found = self._read_line(line, start, previous)
            items.extend(found)
            if found:
                previous = None
            elif _has_words(line):
                previous = (start, end)
        return FormIndex(items)

    def _read_line(
        self, line: str, offset: int, previous: tuple[int, int] | None
    ) -> list[FormItem]:
        if self._box.search(line) is None:
            return self._templates(line, offset, previous)
        marks = []
        for m in self._box.finditer(line):
            mark = _squeeze(m.group())
            marks.append(_Mark(m.start(), m.end(), self._box_answer[mark], mark in self._radio))
        # A circle beside no answer word is a bullet ("● weight loss"), not a radio button.
        marks = [mark for mark in marks if not mark.radio or self._by_word(line, mark)]
        options = self._options(line, marks) if marks else None
        if options is None and any(mark.radio for mark in marks):
            # Not options after all ("● Yes, weight loss"): the circles are bullets.
            marks = [mark for mark in marks if not mark.radio]
            options = self._options(line, marks) if marks else None
        if options is not None:
            return _questions(line, offset, options, previous)
        if not marks:
            return self._templates(line, offset, previous)
        return _checklist(line, offset, marks)

    def _by_word(self, line: str, mark: _Mark) -> bool:
        """An answer word right before or right after ``mark`` ("◉ Yes", "Yes ◉")."""
        return (
            self._word_before.search(line, max(0, mark.start - 20), mark.start) is not None
            or self._word_after.match(line, mark.end) is not None
        )

    def _options(self, line: str, boxes: list[_Mark]) -> list[list[_Mark]] | None:
        """The line's boxes as answer options, grouped by question; None if they are not."""
        # (An answer word and its box are a few characters apart: a long line is not searched
        # from its start for each box.)
        before = [
            self._word_before.search(line, max(0, box.start - 20), box.start) for box in boxes
        ]
        after = [self._word_after.match(line, box.end) for box in boxes]
        if all(before):
            options = [
                _Mark(
                    m.start("word"), box.end, self._option(m.group("word"), box.answer), box.radio
                )
                for m, box in zip(before, boxes, strict=True)
                if m is not None
            ]
            if all(after) and any(box.radio for box in boxes):
                # "Yes ● No ○ Unsure": each circle has a word on both sides; where the two
                # readings differ, which word a circle marks cannot be told.
                options = [
                    option
                    if option.answer == self._option(m.group("word"), box.answer)
                    else _Mark(option.start, option.end, "unclear", option.radio)
                    for option, m, box in zip(options, after, boxes, strict=True)
                    if m is not None
                ]
        elif all(after):
            options = [
                _Mark(
                    box.start, m.end("word"), self._option(m.group("word"), box.answer), box.radio
                )
                for m, box in zip(after, boxes, strict=True)
                if m is not None
            ]
        else:
            return None
        groups: list[list[_Mark]] = [[options[0]]]
        for option in options[1:]:
            if _has_words(line[groups[-1][-1].end : option.start]):
                groups.append([option])
            else:
                groups[-1].append(option)
        if not all(before):
            # "[x] No fever" is a checklist item: a box then a word is an option only in a
            # group of two or more ("[ ] Yes [x] No"), or last on its line ("Fever? [x] Yes").
            last_word = _last_letter(line)
            if any(len(group) < 2 and group[-1].end <= last_word for group in groups):
                return None
        # A radio button is read in a group of two or more ("◉ Yes ○ No"): a lone "● Yes" may
        # be a bullet before an answer.
        if any(len(group) < 2 and any(o.radio for o in group) for group in groups):
            return None
        return groups

    def _option(self, word: str, box: Answer) -> Answer:
        """One option: its word's answer if its box is ticked, "none" if not."""
        if box == "yes":
            return self._word_answer[word.lower()]
        return box

    def _templates(
        self, line: str, offset: int, previous: tuple[int, int] | None
    ) -> list[FormItem]:
        items: list[FormItem] = []
        label_from = 0
        for m in self._template.finditer(line):
            word = m.group("word")
            answer: Answer = "none" if word is None else self._word_answer[word.lower()]
            items.extend(
                _item(line, offset, (label_from, m.start()), (m.start(), m.end()), answer, previous)
            )
            label_from = m.end()
        return items


def _questions(
    line: str, offset: int, groups: list[list[_Mark]], previous: tuple[int, int] | None
) -> list[FormItem]:
    items: list[FormItem] = []
    label_from = 0
    for group in groups:
        answers = {option.answer for option in group} - {"none"}
        if "unclear" in answers or len(answers) > 1:
            answer: Answer = "unclear"
        else:
            answer = answers.pop() if answers else "none"
        start, end = group[0].start, group[-1].end
        label = (label_from, start)
        if len(groups) == 1 and not _has_words(line[:start]) and _has_words(line[end:]):
            label = (end, len(line))  # "( ) Yes (x) No  Any fever?"
        items.extend(_item(line, offset, label, (start, end), answer, previous))
        label_from = end
    return items


def _checklist(line: str, offset: int, boxes: list[_Mark]) -> list[FormItem]:
    """Boxes before their items, or after them; a line that could be either is unclear."""
    first, last = boxes[0], boxes[-1]
    pre, post = line[: first.start], line[last.end :]
    items: list[FormItem] = []
    if _has_words(pre) and not _has_words(post):  # "Fever [ ]", "fever [x] chills [ ]"
        label_from = 0
        for box in boxes:
            start = _last_clause(line, label_from, box.start)
            items.append(FormItem(offset + start, offset + box.start, box.answer,
                                  offset + box.start, offset + box.end))  # fmt: skip
            label_from = box.end
    elif _has_words(post) and (not _has_words(pre) or pre.rstrip()[-1:] in (":", "?")):
        for box, after in zip(boxes, [*boxes[1:], None], strict=True):
            end = _first_clause(line, box.end, after.start if after else len(line))
            items.append(FormItem(offset + box.end, offset + end, box.answer,
                                  offset + box.start, offset + box.end))  # fmt: skip
    elif _has_words(line):
        items.append(FormItem(offset, offset + len(line), "unclear",
                              offset + first.start, offset + last.end))  # fmt: skip
    return items


def _item(
    line: str,
    offset: int,
    label: tuple[int, int],
    answer_span: tuple[int, int],
    answer: Answer,
    previous: tuple[int, int] | None,
) -> list[FormItem]:
    """The item an answer answers: the last clause before it, or the line above."""
    start, end = label
    start = _last_clause(line, start, end)
    if _has_words(line[start:end]):
        start, end = start + offset, end + offset
    elif previous is not None:
        start, end = previous
    else:
        return []
    return [FormItem(start, end, answer, offset + answer_span[0], offset + answer_span[1])]


def _last_clause(line: str, start: int, end: int) -> int:
    """Where the last clause with words in ``line[start:end]`` starts ("Plan: MRI [ ]": "MRI";
    "Have you had a fever? [x]": the question, with its "?")."""
    cuts = [start, *(m.end() for m in _BREAK.finditer(line, start, end))]
    for cut in reversed(cuts):
        if _has_words(line[cut:end]):
            return cut
    return start


def _first_clause(line: str, start: int, end: int) -> int:
    """Where the first clause of ``line[start:end]`` ends ("[ ] MRI. Saddle numbness": "MRI.")."""
    for m in _BREAK.finditer(line, start, end):
        if _has_words(line[start : m.start()]):
            return m.end()
    return end


def _lines(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    for line in text.splitlines(keepends=True):
        yield start, start + len(line.rstrip("\r\n"))
        start += len(line)


class FormIndex:
    """The form items of a text: which one an offset is in, and a mention's own modifiers."""

    def __init__(self, items: list[FormItem]) -> None:
        self._items = sorted(items, key=lambda i: i.start)
        self._starts = [i.start for i in self._items]
        # Every span a form's words or marks take (labels and answers), merged.
        spans = sorted(
            [(i.start, i.end) for i in items] + [(i.answer_start, i.answer_end) for i in items]
        )
        self._regions: list[tuple[int, int]] = []
        for start, end in spans:
            if self._regions and start <= self._regions[-1][1]:
                self._regions[-1] = (self._regions[-1][0], max(end, self._regions[-1][1]))
            else:
                self._regions.append((start, end))
        self._region_starts = [start for start, _ in self._regions]

    def __bool__(self) -> bool:
        return bool(self._items)

    def at(self, offset: int) -> FormItem | None:
        # Items do not overlap: a line's items share it out, and an item taken from the line
        # above is taken from a line without a form.
        i = bisect_right(self._starts, offset) - 1
        if i >= 0 and offset < self._items[i].end:
            return self._items[i]
        return None

    def own(self, mention: Mention, item: FormItem, text: str) -> Mention:
        """``mention`` with only its item's modifiers: not the marks and answer words ("x" of
        "(x)" is no denial, "Y" of "Y [ ] N [x]" no affirmation), not another item's, and not
        the "?" that asks the item's question; modifiers outside the form (a heading) stay."""
        kept = tuple(
            m
            for m in mention.modifiers
            if (
                item.start <= m.start
                and m.end <= item.end
                and not (m.start >= mention.end and text[m.start : m.end] in QUERY_MARKS)
            )
            or not self._in_form(m.start, m.end)
        )
        # The evidence: the phrase, the modifiers kept and the answer ("Fever: Y [ ] N [x]").
        return mention._replace(
            modifiers=kept,
            categories=frozenset(m.category for m in kept),
            evidence_start=min(mention.start, item.answer_start, *(m.start for m in kept)),
            evidence_end=max(mention.end, item.answer_end, *(m.end for m in kept)),
        )

    def _in_form(self, start: int, end: int) -> bool:
        i = bisect_right(self._region_starts, end - 1) - 1
        return i >= 0 and self._regions[i][1] > start

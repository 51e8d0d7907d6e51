"""Loading and scoring the labelled texts: the development set in tests/text/devset/ and the
held-out notes in tests/text/heldout/ (shared by tests and bench)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict

from backtriage.text import TextReader

DEVSET = Path(__file__).parent / "devset"
HELDOUT = Path(__file__).parent / "heldout"
Label = Literal["present", "absent"]


class DevNote(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    complaint: str | None = None
    note: str | None = None
    gold: dict[str, Label]


def load_file(path: Path) -> list[DevNote]:
    """The notes of one labelled yaml file, in file order."""
    return [DevNote.model_validate(raw) for raw in yaml.safe_load(path.read_text(encoding="utf-8"))]


def labelled_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yaml"))


def load_devset() -> list[DevNote]:
    return [note for path in labelled_files(DEVSET) for note in load_file(path)]


def load_heldout() -> list[DevNote]:
    return [note for path in labelled_files(HELDOUT) for note in load_file(path)]


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def f1(self) -> float:
        denominator = 2 * self.tp + self.fp + self.fn
        return 1.0 if denominator == 0 else 2 * self.tp / denominator


def score(reader: TextReader, notes: list[DevNote]) -> tuple[Score, dict[str, Score], list[str]]:
    """Micro-F1 over present/absent labels, overall and per finding group.

    A label is a (note, finding, state) triple with state present or absent; unknown is no
    label.  A predicted label equal to the gold one is a true positive; a predicted label that
    gold does not have is a false positive; a gold label not predicted is a false negative
    (a wrong state counts as both).  Also returns every absent-where-gold-says-present.
    """
    overall = Score()
    groups = {g: Score() for g in reader.rules.groups}
    dangerous: list[str] = []
    for dev in notes:
        reading = reader.read(complaint=dev.complaint, note=dev.note)
        predicted = reading.findings
        for finding in sorted(set(predicted) | set(dev.gold)):
            group = groups[reader.rules.group_of(finding)]
            gold, got = dev.gold.get(finding), predicted.get(finding)
            for s in (overall, group):
                if gold is not None and gold == got:
                    s.tp += 1
                    continue
                if got is not None:
                    s.fp += 1
                if gold is not None:
                    s.fn += 1
                s.errors.append(
                    f"{dev.id}: {finding} gold={gold or 'unknown'} read={got or 'unknown'}"
                )
            if gold == "present" and got == "absent":
                dangerous.append(f"{dev.id}: {finding} is present but was read as absent")
    return overall, groups, dangerous

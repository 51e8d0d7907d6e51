"""The development set: micro-F1 over present/absent labels, per finding group, and the one
error that must never happen (a present finding read as absent)."""

from __future__ import annotations

import pytest

from backtriage.text import TextReader
from tests.text.devset import load_devset, score

MIN_F1 = 0.9


def test_devset_is_large_and_well_formed(reader: TextReader) -> None:
    notes = load_devset()
    assert len(notes) >= 60
    ids = [n.id for n in notes]
    assert len(ids) == len(set(ids)), "note ids must be unique"
    known = set(reader.finding_ids)
    for note in notes:
        assert note.complaint or note.note, note.id
        unknown = set(note.gold) - known
        assert not unknown, f"{note.id}: gold names unknown finding ids {sorted(unknown)}"


def test_devset_f1(reader: TextReader, capsys: pytest.CaptureFixture[str]) -> None:
    overall, groups, _ = score(reader, load_devset())
    with capsys.disabled():
        print(
            f"\ndev-set micro-F1 {overall.f1:.3f} "
            f"(tp {overall.tp}, fp {overall.fp}, fn {overall.fn})"
        )
        for name, s in groups.items():
            print(f"  {name:<20} F1 {s.f1:.3f} (tp {s.tp}, fp {s.fp}, fn {s.fn})")
    assert overall.f1 >= MIN_F1, "\n".join(overall.errors)


def test_no_present_finding_read_as_absent(reader: TextReader) -> None:
    _, _, dangerous = score(reader, load_devset())
    assert not dangerous, "\n".join(dangerous)

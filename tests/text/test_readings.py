"""Every labelled text (tests/text/devset/, tests/text/heldout/) still reads as stored.

The F1 tests score these texts against their gold labels with a floor, so a change to the rules
can turn a correct reading unknown, or add a false positive, and still pass them.  Here each
note's reading (findings, values, uncertain mentions, conflicts, warnings: see
:mod:`tests.text.reading_record`) is stored in
tests/text/readings/<folder>/<yaml file's name>.json, keyed by note id, and must not change
unnoticed.  A rule change that means to change readings rewrites them with
``pytest --update-goldens`` (``-k <note id>`` for some notes only; the others' entries are
kept); review the diff before committing it.  A normal run never writes.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from backtriage.text import TextReader
from tests.conftest import ROOT
from tests.text.devset import DEVSET, HELDOUT, DevNote, labelled_files, load_file
from tests.text.reading_record import Record, changes, record

READINGS = Path(__file__).parent / "readings"
NOTES = [
    (source, note)
    for source in (*labelled_files(DEVSET), *labelled_files(HELDOUT))
    for note in load_file(source)
]


def stored_file(source: Path) -> Path:
    """Where the readings of one labelled yaml file are stored."""
    return READINGS / source.parent.name / f"{source.stem}.json"


def _load(path: Path) -> dict[str, Record]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _save(path: Path, readings: dict[str, Record]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(readings, indent=2, sort_keys=True, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


def _updating(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize(("source", "note"), NOTES, ids=[note.id for _, note in NOTES])
def test_reading_is_the_stored_one(
    source: Path, note: DevNote, reader: TextReader, request: pytest.FixtureRequest
) -> None:
    now = record(reader.read(complaint=note.complaint, note=note.note))
    path = stored_file(source)
    stored = _load(path)
    if _updating(request) and stored.get(note.id) != now:
        _save(path, {**stored, note.id: now})
        stored = _load(path)
    update = f"pytest --update-goldens -k {note.id}"
    if note.id not in stored:
        pytest.fail(
            f"{note.id} has no stored reading in {_shown(path)}: run {update} and review the diff",
            pytrace=False,
        )
    changed = changes(stored[note.id], now)
    if changed:
        pytest.fail(
            f"{note.id} reads differently from {_shown(path)} (stored -> now):\n  "
            + "\n  ".join(changed)
            + f"\nIf the change is meant, run {update} and review the diff.",
            pytrace=False,
        )


def test_every_stored_reading_has_its_note(request: pytest.FixtureRequest) -> None:
    """A reading stored for a note no longer in the yaml files (removed, renamed, moved to
    another file) is stale: ``--update-goldens`` removes it."""

    def stale() -> list[tuple[Path, str]]:
        wanted = {(stored_file(source), note.id) for source, note in NOTES}
        return [
            (path, note_id)
            for path in sorted(READINGS.rglob("*.json"))
            for note_id in sorted(_load(path))
            if (path, note_id) not in wanted
        ]

    if _updating(request):
        for path, note_id in stale():
            kept = {key: value for key, value in _load(path).items() if key != note_id}
            if kept:
                _save(path, kept)
            else:
                path.unlink()
    left = [f"{_shown(path)}: {note_id}" for path, note_id in stale()]
    if left:
        pytest.fail(
            "stored readings whose note is gone (run pytest --update-goldens "
            "-k test_every_stored_reading_has_its_note):\n  " + "\n  ".join(left),
            pytrace=False,
        )


def test_note_ids_are_unique_across_the_labelled_files() -> None:
    """A note's id names its test and its stored reading; two notes must not share one."""
    repeated = [i for i, n in Counter(note.id for _, note in NOTES).items() if n > 1]
    assert not repeated, f"note ids used twice: {sorted(repeated)}"

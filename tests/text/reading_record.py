"""What of a ``Reading`` the stored readings keep, and how two kept readings differ.

The F1 floors of test_devset.py and test_heldout.py let a change move many readings while the
score stays above them; the stored readings (tests/text/readings/) pin every one.  A record
keeps what the reader concludes from a text:

- ``findings``: every finding it sets, present or absent (a finding not listed is unknown);
- ``values``: every value it reads (age, sex, duration, location, side, weeks of conservative
  care, ``measurements.<id>``), taken from whatever value fields ``Reading`` has, so a new one
  is kept without a change here;
- ``uncertain``: per finding, why mentions of it set nothing (family, hypothetical, ...): the
  questions the report asks;
- ``conflicts``: per finding said both present and absent, the state kept;
- ``warnings``: what the reader warns about the text.

Evidence spans are left out on purpose: they explain a reading rather than make it, and their
offsets and quoted words move with any rewording of a rule; kept here, they would bury a
changed finding in a diff of spans.  (The golden cases in tests/cases/ keep the evidence of
their assessments.)  An empty section is left out of the record, so a record is as short as
the text's reading.
"""

from __future__ import annotations

from typing import Any

from backtriage.text.reading import Reading

Record = dict[str, Any]

# The parts of a Reading that are not values: each is kept in its own way, or (evidence) not.
_NOT_VALUES = {"findings", "evidence", "uncertain", "conflicts", "warnings"}
_UNKNOWN = "unknown"
_NONE = "(none)"


def record(reading: Reading) -> Record:
    """The stored form of ``reading``: plain JSON data, its keys sorted when dumped."""
    values: dict[str, Any] = {}
    for name, value in reading.model_dump(mode="json", exclude=_NOT_VALUES).items():
        if isinstance(value, dict):
            values.update({f"{name}.{key}": item for key, item in value.items()})
        elif value is not None:
            values[name] = value
    uncertain: dict[str, set[str]] = {}
    for item in reading.uncertain:
        uncertain.setdefault(item.finding, set()).add(item.why)
    sections: Record = {
        "findings": dict(reading.findings),
        "values": values,
        "uncertain": {finding: sorted(whys) for finding, whys in uncertain.items()},
        "conflicts": {c.finding: c.chosen for c in reading.conflicts},
        "warnings": list(reading.warnings),
    }
    return {name: part for name, part in sections.items() if part}


def changes(stored: Record, now: Record) -> list[str]:
    """One line per difference, ``what: stored -> now``, sorted; empty when the records agree.

    A finding is named by its id alone (one not set is ``unknown``); anything else by its
    section and key, ``values.age`` (one not read is ``(none)``)."""
    before, after = _flat(stored), _flat(now)
    findings = set(stored.get("findings", {})) | set(now.get("findings", {}))
    lines = []
    for key in sorted(set(before) | set(after)):
        missing = _UNKNOWN if key in findings else _NONE
        old, new = before.get(key, missing), after.get(key, missing)
        if old != new:
            lines.append(f"{key}: {_show(old)} -> {_show(new)}")
    return lines


def _flat(rec: Record) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for section, part in rec.items():
        if section == "findings":
            flat.update(part)
        elif isinstance(part, dict):
            flat.update({f"{section}.{key}": value for key, value in part.items()})
        else:
            flat[section] = part
    return flat


def _show(value: Any) -> str:
    return "; ".join(map(str, value)) if isinstance(value, list) else str(value)

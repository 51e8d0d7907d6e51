"""What the chart shows against the red flags, for imaged patients without an exclusion.

This is the one place that knows where red-flag findings and their codes come from: today the
audit's own ``code_lists/red_flags.yaml``; later the knowledge base (swap :func:`flag_entries`).
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from backtriage.audit.codes import CodeEntry, CodeLists, matches
from backtriage.audit.inputs import CheckedTables


def flag_entries(lists: CodeLists) -> dict[str, tuple[CodeEntry, ...]]:
    """Red-flag finding id -> the codes that record it."""
    return {flag.id: flag.codes for flag in lists.red_flags.flags}


def _chart(tables: CheckedTables) -> ir.Table:
    parts = []
    for name in ("diagnoses", "procedures", "medications"):
        if name in tables.used:
            t = tables.valid(name)
            parts.append(t.select("patient_id", "date", "code_system", "code"))
    return ibis.union(*parts, distinct=False)


def red_flag_hits(tables: CheckedTables, result: ir.Table, lists: CodeLists) -> ir.Table:
    """Flags recorded from ``look_back_days`` before day 0 up to the day of the first imaging."""
    imaged = result.filter((result.status == "denominator") & result.imaged).select(
        rf_patient="patient_id", rf_index="index_date", rf_day="days_to_imaging"
    )
    chart = _chart(tables)
    chart = chart.inner_join(imaged, chart.patient_id == imaged.rf_patient)
    offset = chart.date.delta(chart.rf_index, unit="day")
    chart = chart.filter(
        (offset >= -lists.red_flags.look_back_days) & (offset <= chart.rf_day)
    ).mutate(offset=offset)
    # One CASE: a row counts for the first flag listing its code (the loader checks that no
    # code is listed under two flags, so "first" is "only").
    flag = ibis.cases(
        *(
            (matches(entries, chart.code_system, chart.code), flag_id)
            for flag_id, entries in flag_entries(lists).items()
        ),
        else_=None,
    ).cast("string")
    hits = chart.mutate(flag=flag)
    hits = hits.filter(hits.flag.notnull())
    return hits.select(patient_id=hits.rf_patient, flag=hits.flag, code=hits.code, day=hits.offset)


def chart_review(imaged: pa.Table, hits: pa.Table, lists: CodeLists) -> list[dict[str, Any]]:
    """One line per imaged denominator patient (the rows of ``imaged``): the day imaged and the
    flags on record."""
    ordered = sorted(
        zip(
            *(
                imaged.column(c).to_pylist()
                for c in ("days_to_imaging", "patient_id", "clinician_id")
            ),
            strict=True,
        )
    )
    by_patient: dict[str, list[str]] = {}
    for pid, flag, code, day in zip(
        *(hits.column(c).to_pylist() for c in ("patient_id", "flag", "code", "day")), strict=True
    ):
        by_patient.setdefault(str(pid), []).append(f"{flag} ({code}, day {int(day)})")
    rows = []
    for days, pid, clinician in ordered:
        flags = sorted(set(by_patient.get(str(pid), [])))
        day = int(days)
        text = (
            f"imaged at day {day}, red flag(s) recorded: {'; '.join(flags)}"
            if flags
            else f"imaged at day {day}, no red flag recorded"
        )
        rows.append(
            {
                "patient_id": str(pid),
                "clinician_id": None if clinician is None else str(clinician),
                "day": day,
                "flags": flags,
                "text": text,
            }
        )
    return rows


def not_codable(lists: CodeLists) -> tuple[str, ...]:
    """Red flags that coded data cannot show (the report says so)."""
    return lists.red_flags.not_codable

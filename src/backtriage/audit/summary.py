"""The run summary: the measure, its breakdowns and the row accounting, as one plain dict.

JSON and HTML both render this dict, so they cannot disagree.  The rate is inverted, as the
measure reports it: the share of the denominator NOT imaged within 28 days (higher is better).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from backtriage.audit.spec import MeasureSpec, Period
from backtriage.audit.stats import wilson


def _rate_row(n: int, imaged: int) -> dict[str, Any]:
    interval = wilson(n - imaged, n)
    return {
        "denominator": n,
        "numerator": imaged,
        "rate": round((n - imaged) / n, 6) if n else None,
        "rate_ci95": [round(interval[0], 6), round(interval[1], 6)] if interval else None,
    }


def equal_to(column: pa.ChunkedArray, text: str) -> pa.ChunkedArray:
    """``column == text`` for a text column, null where it is null.

    By Arrow's own kernels with the text as an option: a Python value given to a pyarrow
    function makes pyarrow load pandas (a few tenths of a second) to check what it is.
    """
    return pc.match_substring_regex(column, pattern=f"^{re.escape(text)}$")


def value_counts(column: pa.ChunkedArray) -> dict[Any, int]:
    """How many rows hold each value of ``column`` (null included), as a dict.

    ``pyarrow.compute.value_counts``, not ``Table.group_by``: the latter loads pyarrow's
    query engine, and pandas with it.
    """
    counts = pc.value_counts(column)
    return dict(
        zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True)
    )


def _counts(denominator: pa.Table, key: str) -> list[tuple[Any, int, int]]:
    """(key, patients, imaged) of the denominator by ``key`` (one row per distinct key)."""
    everyone = value_counts(denominator.column(key))
    imaged = value_counts(denominator.filter(denominator.column("imaged")).column(key))
    return [(k, n, imaged.get(k, 0)) for k, n in everyone.items()]


def _grouped(denominator: pa.Table, column: str) -> list[dict[str, Any]]:
    totals: dict[str, list[int]] = {}
    for key, size, hits in _counts(denominator, column):
        c = totals.setdefault("(unknown)" if key is None else str(key), [0, 0])
        c[0] += size
        c[1] += hits
    rows = [{column: key, **_rate_row(size, hits)} for key, (size, hits) in totals.items()]
    rows.sort(key=lambda r: (r["rate"] if r["rate"] is not None else 2.0, r[column]))
    return rows


def _trend(denominator: pa.Table) -> list[dict[str, Any]]:
    # Grouped by year * 100 + month, which sorts as its "YYYY-MM" text does (index dates lie
    # in the intake period: four-digit years).
    totals: dict[int, list[int]] = {}
    for day, size, hits in _counts(denominator, "index_date"):
        c = totals.setdefault(day.year * 100 + day.month, [0, 0])
        c[0] += size
        c[1] += hits
    return [
        {"month": f"{key // 100:04d}-{key % 100:02d}", **_rate_row(size, hits)}
        for key, (size, hits) in sorted(totals.items())
    ]


@dataclass(frozen=True)
class Breakdowns:
    """What the summary counts over the denominator (computed before the row accounting is in:
    see :func:`breakdowns`)."""

    denominator: int
    imaged: int
    age_strata: dict[str, dict[str, Any]]
    by_clinician: list[dict[str, Any]]
    by_site: list[dict[str, Any]]
    monthly_trend: list[dict[str, Any]]


def breakdowns(lbp_patients: pa.Table, spec: MeasureSpec) -> Breakdowns:
    """The denominator's counts, overall and by age stratum, clinician, site and month.

    ``lbp_patients`` holds the result rows with status ``denominator`` or ``excluded``.
    """
    # Counted by Arrow, grouped by each breakdown's key (at most a few thousand groups).
    denominator = lbp_patients.filter(equal_to(lbp_patients.column("status"), "denominator"))
    denominator = denominator.select(["imaged", "age", "clinician_id", "site_id", "index_date"])
    by_age = _counts(denominator, "age")
    strata = {
        "18-64": [(size, hits) for age, size, hits in by_age if age <= 64],
        "65-75": [(size, hits) for age, size, hits in by_age if age >= 65],
    }
    return Breakdowns(
        denominator=denominator.num_rows,
        imaged=sum(hits for _, _, hits in by_age),
        age_strata={
            k: _rate_row(sum(size for size, _ in v), sum(hits for _, hits in v))
            for k, v in strata.items()
        }
        if spec.age.max > 64
        else {},
        by_clinician=_grouped(denominator, "clinician_id"),
        by_site=_grouped(denominator, "site_id"),
        monthly_trend=_trend(denominator),
    )


def build_summary(
    *,
    counted: Breakdowns,
    status_counts: Mapping[tuple[str, str | None], int],
    rows: dict[str, dict[str, int]],
    missing_optional: dict[str, str],
    spec_name: str,
    spec: MeasureSpec,
    period: Period,
    engine: str,
) -> dict[str, Any]:
    """Everything the JSON output and the HTML report show.

    ``counted`` holds the denominator's breakdowns (:func:`breakdowns`); ``status_counts`` the
    number of patients by (status, reason), for every patient.
    """
    n, imaged = counted.denominator, counted.imaged
    counts = {(str(s), "" if r is None else str(r)): int(c) for (s, r), c in status_counts.items()}
    exclusions = {r: c for (s, r), c in sorted(counts.items()) if s == "excluded"}
    not_eligible = {r: c for (s, r), c in sorted(counts.items()) if s == "not_eligible"}
    return {
        "measure": spec.title,
        "spec": spec_name,
        "engine": engine,
        "year": period.year,
        "intake_period": [period.intake_start.isoformat(), period.intake_end.isoformat()],
        "age_range": [spec.age.min, spec.age.max],
        "denominator": n,
        "numerator": imaged,
        "numerator_definition": (
            f"lumbar X-ray, CT or MRI on days 0..{spec.numerator_days} after the index date"
        ),
        "rate": round((n - imaged) / n, 6) if n else None,
        "rate_definition": "1 - numerator/denominator (inverted: higher is better)",
        "rate_ci95": _rate_row(n, imaged)["rate_ci95"],
        "age_strata": counted.age_strata,
        "exclusions": exclusions,
        "excluded": sum(exclusions.values()),
        "not_eligible": not_eligible,
        "patients": sum(counts.values()),
        "by_clinician": counted.by_clinician,
        "by_site": counted.by_site,
        "monthly_trend": counted.monthly_trend,
        "rows": rows,
        "inputs_missing": missing_optional,
    }

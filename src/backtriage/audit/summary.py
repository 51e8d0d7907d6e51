"""The run summary: the measure, its breakdowns and the row accounting, as one plain dict.

JSON and HTML both render this dict, so they cannot disagree.  The rate is inverted, as the
measure reports it: the share of the denominator NOT imaged within 28 days (higher is better).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

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


def _grouped(denominator: pd.DataFrame, column: str) -> list[dict[str, Any]]:
    if denominator.empty:
        return []
    keys = denominator[column].fillna("(unknown)")
    grouped = denominator.assign(key=keys).groupby("key", sort=True)["imaged"].agg(["size", "sum"])
    rows = []
    for key, size, imaged in zip(grouped.index, grouped["size"], grouped["sum"], strict=True):
        rows.append({column: str(key), **_rate_row(int(size), int(imaged))})
    rows.sort(key=lambda r: (r["rate"] if r["rate"] is not None else 2.0, r[column]))
    return rows


def _trend(denominator: pd.DataFrame) -> list[dict[str, Any]]:
    if denominator.empty:
        return []
    dates = pd.to_datetime(denominator["index_date"])
    # Grouped by year * 100 + month, which sorts as its "YYYY-MM" text does (index dates lie
    # in the intake period: four-digit years).
    month = dates.dt.year * 100 + dates.dt.month
    grouped = (
        denominator.assign(month=month).groupby("month", sort=True)["imaged"].agg(["size", "sum"])
    )
    rows = []
    for key, size, imaged in zip(grouped.index, grouped["size"], grouped["sum"], strict=True):
        text = f"{int(key) // 100:04d}-{int(key) % 100:02d}"
        rows.append({"month": text, **_rate_row(int(size), int(imaged))})
    return rows


def build_summary(
    *,
    lbp_patients: pd.DataFrame,
    status_counts: pd.DataFrame,
    rows: dict[str, dict[str, int]],
    missing_optional: dict[str, str],
    spec_name: str,
    spec: MeasureSpec,
    period: Period,
    engine: str,
) -> dict[str, Any]:
    """Everything the JSON output and the HTML report show.

    ``lbp_patients`` holds the result rows with status ``denominator`` or ``excluded``;
    ``status_counts`` holds (status, reason, n) for every patient.
    """
    # Only the columns read below (a copy of every column costs more than the counting).
    denominator = lbp_patients.loc[
        lbp_patients["status"] == "denominator", ["imaged", "age", "clinician_id", "site_id"]
    ]
    denominator = denominator.assign(
        imaged=denominator["imaged"].astype(bool),
        index_date=lbp_patients["index_date"],
    )
    n = len(denominator)
    imaged = int(denominator["imaged"].sum())
    counts = {
        (str(s), str(r)): int(c)
        for s, r, c in zip(
            status_counts["status"],
            status_counts["reason"].fillna(""),
            status_counts["n"],
            strict=True,
        )
    }
    exclusions = {r: c for (s, r), c in sorted(counts.items()) if s == "excluded"}
    not_eligible = {r: c for (s, r), c in sorted(counts.items()) if s == "not_eligible"}
    ages = denominator["age"]
    strata = {
        "18-64": denominator["imaged"][ages <= 64],
        "65-75": denominator["imaged"][ages >= 65],
    }
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
        "age_strata": {k: _rate_row(len(v), int(v.sum())) for k, v in strata.items()}
        if spec.age.max > 64
        else {},
        "exclusions": exclusions,
        "excluded": sum(exclusions.values()),
        "not_eligible": not_eligible,
        "patients": sum(counts.values()),
        "by_clinician": _grouped(denominator, "clinician_id"),
        "by_site": _grouped(denominator, "site_id"),
        "monthly_trend": _trend(denominator),
        "rows": rows,
        "inputs_missing": missing_optional,
    }

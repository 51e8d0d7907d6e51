"""DuckDB and Spark give identical results on the same data (one local SparkSession).

One Spark run only (Spark's fixed cost per query dominates at test sizes): the hand-built
boundary timelines and a small synthetic population, written together as one tabular folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from backtriage.audit.run import run_audit
from backtriage.audit.synth import generate
from tests.audit.test_inputs import DATES, DAYS
from tests.audit.timelines import AUDIT_WARNINGS, YEAR, Timelines, build

pytestmark = [pytest.mark.spark, *AUDIT_WARNINGS]

COMPARED = (
    "denominator",
    "numerator",
    "rate",
    "rate_ci95",
    "exclusions",
    "not_eligible",
    "by_clinician",
    "by_site",
    "monthly_trend",
    "rows",
    "age_strata",
    "warnings",
)


def _odd_values() -> dict[str, pa.Table]:
    """Rows whose dates, days supply and principal flags engines read differently unless told
    exactly (``test_inputs.DATES``): each patient's index visit, birth date, prescription or
    principal flag carries one of them."""
    t = Timelines()
    t._n = 900_000  # record ids after build()'s
    for i, (date, days) in enumerate(zip(DATES, [*DAYS] * 3, strict=False)):
        t.patient(f"odd_birth_{i}", birth=date)
        t.visit(f"odd_birth_{i}", "2024-03-01")
        t.patient(f"odd_visit_{i}")
        t.visit(f"odd_visit_{i}", date)
        t.patient(f"odd_days_{i}")
        t.visit(f"odd_days_{i}", "2024-03-01")
        t.rows["medications"].append(
            {
                "patient_id": f"odd_days_{i}",
                "start_date": "2023-12-01",
                "days_supply": days,
                "code_system": "atc",
                "code": "H02AB07",
                "record_id": f"odd{i}",
            }
        )
    for i, flag in enumerate(["P", " Yes ", "TRUE", "n", "", "primary"]):
        t.patient(f"odd_flag_{i}")
        t.visit(f"odd_flag_{i}", "2024-03-01")
        t.rows["diagnoses"][-1]["principal"] = flag
    return t.population().tables


def test_duckdb_equals_spark(tmp_path: Path, spark: Any) -> None:
    hand = build().population().tables
    synthetic = generate(2000, seed=7).tables
    odd = _odd_values()
    for name, table in hand.items():
        tables = [table, synthetic[name], odd[name]]
        pq.write_table(pa.concat_tables(tables), tmp_path / f"{name}.parquet")
    duck = run_audit(tmp_path, YEAR)
    sprk = run_audit(tmp_path, YEAR, engine="spark", con=ibis.pyspark.connect(spark))
    assert duck.summary["denominator"] > 100
    for key in COMPARED:
        assert sprk.summary[key] == duck.summary[key], key
    pd.testing.assert_frame_equal(
        duck.lbp_patients.astype(str), sprk.lbp_patients.astype(str), check_dtype=False
    )
    assert sprk.chart_review == duck.chart_review

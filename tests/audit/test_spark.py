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
from tests.audit.timelines import AUDIT_WARNINGS, YEAR, build

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


def test_duckdb_equals_spark(tmp_path: Path, spark: Any) -> None:
    hand = build().population().tables
    synthetic = generate(2000, seed=7).tables
    for name, table in hand.items():
        pq.write_table(pa.concat_tables([table, synthetic[name]]), tmp_path / f"{name}.parquet")
    duck = run_audit(tmp_path, YEAR)
    sprk = run_audit(tmp_path, YEAR, engine="spark", con=ibis.pyspark.connect(spark))
    assert duck.summary["denominator"] > 100
    for key in COMPARED:
        assert sprk.summary[key] == duck.summary[key], key
    pd.testing.assert_frame_equal(
        duck.lbp_patients.astype(str), sprk.lbp_patients.astype(str), check_dtype=False
    )
    assert sprk.chart_review == duck.chart_review

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from backtriage.audit.run import run_audit
from backtriage.audit.synth import generate, write
from tests.audit.timelines import AUDIT_WARNINGS

pytestmark = AUDIT_WARNINGS


def test_same_seed_same_population() -> None:
    a, b = generate(500, seed=3), generate(500, seed=3)
    for name in a.tables:
        assert a.tables[name].equals(b.tables[name])
    assert not generate(500, seed=4).tables["diagnoses"].equals(a.tables["diagnoses"])


def test_about_ten_rows_per_patient_and_some_invalid() -> None:
    population = generate(5000, seed=1)
    assert 8 <= population.rows / 5000 <= 13
    assert set(population.tables) == {
        "patients",
        "encounters",
        "diagnoses",
        "procedures",
        "medications",
    }


def test_audit_of_synthetic_population_is_plausible(tmp_path: Path) -> None:
    write(generate(5000, seed=1), tmp_path, "parquet")
    s = run_audit(tmp_path, 2024).summary
    assert s["denominator"] > 200
    assert 0.5 < s["rate"] < 0.95
    assert set(s["exclusions"]) >= {"cancer", "trauma", "lbp_diagnosis_prior_180d"}
    rates = [r["rate"] for r in s["by_clinician"] if r["denominator"] >= 10]
    assert max(rates) - min(rates) > 0.3  # some clinicians image far more than others
    assert any(k.startswith("rejected_") for k in s["rows"]["diagnoses"])


@pytest.mark.parametrize("fmt", ["csv", "parquet", "fhir"])
def test_every_format_writes_files(tmp_path: Path, fmt: str) -> None:
    written = write(generate(50, seed=2), tmp_path, fmt)  # type: ignore[arg-type]
    assert all(p.exists() and p.stat().st_size > 0 for p in written)
    if fmt == "parquet":
        assert pq.read_table(tmp_path / "patients.parquet").num_rows == 50


def test_csv_holds_the_same_rows_as_the_population(tmp_path: Path) -> None:
    # pyarrow's CSV writer repeats a row when a table's columns are chunked differently (as
    # generate's are: some columns have an empty chunk): the CSV then held one row too many.
    import pyarrow.csv as pacsv

    population = generate(2000, seed=1)
    write(population, tmp_path, "csv")
    for name, table in population.tables.items():
        assert pacsv.read_csv(tmp_path / f"{name}.csv").num_rows == table.num_rows, name

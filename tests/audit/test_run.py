from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import backtriage
from tests.audit.timelines import AUDIT_WARNINGS

pytestmark = AUDIT_WARNINGS


def test_a_duckdb_run_of_tabular_files_loads_no_pandas(timelines_csv: Path) -> None:
    # pandas costs a few tenths of a second at start-up and the summary does not need it;
    # lbp_patients is still the DataFrame, built when first read.
    code = (
        "import sys; from pathlib import Path; from backtriage.audit.run import run_audit\n"
        f"run = run_audit(Path({str(timelines_csv)!r}), 2024)\n"
        "print('pandas' in sys.modules)\n"
        "print(type(run.lbp_patients).__name__, len(run.lbp_patients) > 0)"
    )
    # The child imports this checkout's package, as the test process does.
    src = str(Path(backtriage.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.splitlines() == ["False", "DataFrame True"]


def test_under_a_memory_limit_the_accounting_waits_its_turn(
    timelines_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two queries at once need about twice DuckDB's working memory: under a limit the row
    # accounting does not run beside the measure (a million patients ran out at 169MB).
    from backtriage.audit import run as run_module

    free = run_module.run_audit(timelines_csv, 2024)
    started: list[object] = []
    real = run_module.Beside

    def counting(backend: Any) -> Any:
        started.append(backend)
        return real(backend)

    monkeypatch.setattr(run_module, "Beside", counting)
    limited = run_module.run_audit(timelines_csv, 2024, memory_limit="256MB")
    assert started == []
    assert limited.summary == free.summary
    assert limited.lbp_patients.equals(free.lbp_patients)
    run_module.run_audit(timelines_csv, 2024)
    assert len(started) == 1  # without a limit it does


def test_a_memory_limit_too_small_to_read_the_files_says_to_raise_it(timelines_csv: Path) -> None:
    from backtriage.audit.run import run_audit
    from backtriage.errors import AuditInputError

    with pytest.raises(AuditInputError, match=r"ran out of memory under --memory-limit 1KB"):
        run_audit(timelines_csv, 2024, memory_limit="1KB")


def test_a_run_without_the_chart_review_gives_the_same_summary(timelines_csv: Path) -> None:
    from backtriage.audit.run import run_audit

    full = run_audit(timelines_csv, 2024)
    short = run_audit(timelines_csv, 2024, review_charts=False)
    assert short.chart_review is None
    assert full.chart_review  # the boundary population has imaged patients
    assert short.summary == full.summary
    assert short.lbp_patients.equals(full.lbp_patients)


def test_a_birth_date_duckdb_reads_as_infinity_is_a_bad_date(tmp_path: Path) -> None:
    # DuckDB cast "infinity" to a date without a year: the patient was valid, its age null, and
    # the summary stopped on a TypeError.
    from backtriage.audit.run import run_audit

    files = {
        "patients": "patient_id,birth_date\np1,infinity\np2,1980-01-01\n",
        "encounters": "encounter_id,patient_id,date,setting\n"
        "e1,p1,2024-03-01,outpatient\ne2,p2,2024-03-01,outpatient\n",
        "diagnoses": "patient_id,date,code_system,code,encounter_id,principal\n"
        "p1,2024-03-01,icd10cm,M54.50,e1,true\np2,2024-03-01,icd10cm,M54.50,e2,true\n",
        "procedures": "patient_id,date,code_system,code\n",
    }
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text)
    summary = run_audit(tmp_path, 2024).summary
    assert summary["denominator"] == 1
    assert summary["rows"]["patients"] == {"rows": 2, "valid": 1, "rejected_bad_date": 1}

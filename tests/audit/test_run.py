from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import backtriage


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

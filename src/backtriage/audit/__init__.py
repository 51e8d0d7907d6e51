"""Population audit of imaging in low back pain (HEDIS LBP; CMS166v7), on DuckDB or Spark.

    >>> from backtriage.audit import generate, write, run_audit    # doctest: +SKIP
    >>> write(generate(20_000, seed=1), Path("demo"), "parquet")    # doctest: +SKIP
    >>> run_audit(Path("demo"), 2024).summary["rate"]                # doctest: +SKIP

The heavy modules (Ibis, DuckDB, pandas) load on first use, so importing this package (as the
CLI does to register its commands) costs nothing.  The input layouts are in ``LAYOUT.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backtriage.lazy import lazy_names

if TYPE_CHECKING:
    from backtriage.audit.codes import load_code_lists
    from backtriage.audit.report import render_html
    from backtriage.audit.run import AuditRun, run_audit
    from backtriage.audit.spec import load_specs
    from backtriage.audit.synth import generate, write

__all__ = [
    "AuditRun",
    "generate",
    "load_code_lists",
    "load_specs",
    "render_html",
    "run_audit",
    "write",
]

_WHERE = {
    "AuditRun": "backtriage.audit.run",
    "run_audit": "backtriage.audit.run",
    "generate": "backtriage.audit.synth",
    "write": "backtriage.audit.synth",
    "load_code_lists": "backtriage.audit.codes",
    "load_specs": "backtriage.audit.spec",
    "render_html": "backtriage.audit.report",
}


__getattr__, __dir__ = lazy_names(globals(), _WHERE)

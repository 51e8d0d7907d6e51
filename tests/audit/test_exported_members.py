from __future__ import annotations

import subprocess
import sys

import backtriage.audit


def test_public_api_is_pinned() -> None:
    assert sorted(backtriage.audit.__all__) == [
        "AuditRun",
        "generate",
        "load_code_lists",
        "load_specs",
        "render_html",
        "run_audit",
        "write",
    ]
    for name in backtriage.audit.__all__:
        assert getattr(backtriage.audit, name) is not None


def test_importing_the_commands_does_not_load_ibis() -> None:
    code = "import sys, backtriage.audit.commands; print('ibis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

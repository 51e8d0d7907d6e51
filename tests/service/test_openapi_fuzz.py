"""Schemathesis on the service's own OpenAPI description: no generated request gets a 5xx."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from backtriage.service import Settings, create_app

_TMP = tempfile.mkdtemp(prefix="bt-schemathesis-")  # the schema is built at import time
atexit.register(shutil.rmtree, _TMP, True)
_DB = str(Path(_TMP) / "bt.sqlite3")
APP = create_app(Settings(db=_DB, insecure_no_auth=True))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any) -> None:
    response = case.call()
    assert response.status_code < 500, (case.method, case.path, response.text[:300])

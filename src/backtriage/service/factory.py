"""The app as uvicorn builds it in each worker process: settings passed from ``serve`` in the
``BACKTRIAGE_SETTINGS`` environment variable (workers are separate processes)."""

from __future__ import annotations

import json
import os

from fastapi import FastAPI

from backtriage.service.app import create_app
from backtriage.service.settings import Settings, Trust


def app_from_env() -> FastAPI:
    raw = json.loads(os.environ.get("BACKTRIAGE_SETTINGS", "{}"))
    settings = Settings(
        db=raw.get("db", "backtriage.sqlite3"),
        trust=tuple(Trust(issuer, jwks) for issuer, jwks in raw.get("trust", [])),
        insecure_no_auth=bool(raw.get("insecure_no_auth", False)),
        public_url=raw.get("public_url"),
        qcdsm=raw.get("qcdsm", Settings.qcdsm),
        cors_origins=tuple(raw.get("cors_origins", ["*"])),
    )
    return create_app(settings)

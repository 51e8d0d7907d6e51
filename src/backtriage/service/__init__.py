"""The HTTP service: ``POST /assess``, CDS Hooks 2.0 (patient-view, order-select, order-sign,
feedback), the intake Questionnaire, and web reports behind card links.

The names below load on first use: the command line imports this package to mount ``serve``,
and FastAPI alone takes about 0.4 s to import, which every other command would pay."""

from __future__ import annotations

from typing import TYPE_CHECKING

from backtriage.lazy import lazy_names

if TYPE_CHECKING:
    from backtriage.service.app import create_app
    from backtriage.service.settings import Settings, Trust
    from backtriage.service.store import Store

__all__ = ["Settings", "Store", "Trust", "create_app"]

_HOMES = {
    "Settings": "backtriage.service.settings",
    "Store": "backtriage.service.store",
    "Trust": "backtriage.service.settings",
    "create_app": "backtriage.service.app",
}


__getattr__, __dir__ = lazy_names(globals(), _HOMES)

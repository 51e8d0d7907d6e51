"""The HTTP service: ``POST /assess``, CDS Hooks 2.0 (patient-view, order-select, order-sign,
feedback), the intake Questionnaire, and web reports behind card links."""

from backtriage.service.app import create_app
from backtriage.service.settings import Settings, Trust
from backtriage.service.store import Store

__all__ = ["Settings", "Store", "Trust", "create_app"]

"""The pure core: ``assess(case, knowledge, today)`` and the steps it composes."""

from backtriage.engine.assess import assess

__all__ = ["assess"]

"""backtriage: clinical decision support for low back pain.

    >>> import backtriage
    >>> result = backtriage.assess({"findings": {"spasms": "present"}})
    >>> result.urgency, result.most_likely, result.imaging
    ('routine', 'nonspecific_low_back_pain', [])

``assess(case)`` uses the packaged knowledge base and today's date; the pure core underneath is
``backtriage.engine.assess(case, knowledge, today)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backtriage.errors import (
    AuditInputError,
    BacktriageError,
    CaseError,
    InputError,
    KnowledgeError,
    TextError,
)
from backtriage.lazy import lazy_names

if TYPE_CHECKING:
    from backtriage.api import assess, parse_case
    from backtriage.assessment import Assessment
    from backtriage.case import Case, Evidence
    from backtriage.knowledge import Knowledge, load_knowledge
    from backtriage.report import to_html, to_json, to_markdown

# Imported on first use (PEP 562): ``import backtriage.audit`` or ``backtriage.errors`` need not
# load pydantic models, the knowledge base's schema and the report templates first.
_LAZY = {
    "assess": "backtriage.api",
    "parse_case": "backtriage.api",
    "Assessment": "backtriage.assessment",
    "Case": "backtriage.case",
    "Evidence": "backtriage.case",
    "Knowledge": "backtriage.knowledge",
    "load_knowledge": "backtriage.knowledge",
    "to_html": "backtriage.report",
    "to_json": "backtriage.report",
    "to_markdown": "backtriage.report",
}


__getattr__, __dir__ = lazy_names(globals(), _LAZY)


__all__ = [
    "Assessment",
    "AuditInputError",
    "BacktriageError",
    "Case",
    "CaseError",
    "Evidence",
    "InputError",
    "Knowledge",
    "KnowledgeError",
    "TextError",
    "assess",
    "load_knowledge",
    "parse_case",
    "to_html",
    "to_json",
    "to_markdown",
]

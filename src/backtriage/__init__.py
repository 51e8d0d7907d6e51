"""backtriage: clinical decision support for low back pain.

    >>> import backtriage
    >>> result = backtriage.assess({"findings": {"spasms": "present"}})
    >>> result.urgency, result.most_likely, result.imaging
    ('routine', 'nonspecific_low_back_pain', [])

``assess(case)`` uses the packaged knowledge base and today's date; the pure core underneath is
``backtriage.engine.assess(case, knowledge, today)``.
"""

from backtriage.api import assess, parse_case
from backtriage.assessment import Assessment
from backtriage.case import Case, Evidence
from backtriage.errors import (
    AuditInputError,
    BacktriageError,
    CaseError,
    InputError,
    KnowledgeError,
    TextError,
)
from backtriage.knowledge import Knowledge, load_knowledge
from backtriage.report import to_html, to_json, to_markdown

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

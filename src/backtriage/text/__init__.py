"""Free text in: a complaint and a clinical note become tri-state findings, with evidence.

    >>> from backtriage.text import TextReader
    >>> reading = TextReader().read(complaint="Mid-Lower Left Back Pain with Spasms")
    >>> reading.findings
    {'spasms': 'present'}

See :mod:`backtriage.text.pipeline` for the NLP choices and ``text/data/`` for the rules.
"""

from backtriage.text.reader import MAX_CHARS, TextReader
from backtriage.text.reading import Conflict, Reading, Uncertain

__all__ = ["MAX_CHARS", "Conflict", "Reading", "TextReader", "Uncertain"]

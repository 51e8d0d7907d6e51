"""The one exception tree of backtriage.

::

    BacktriageError                 root: catch this to catch everything backtriage raises
    ├── KnowledgeError              the knowledge base cannot be loaded or fails its checks
    └── InputError                  what a user gave cannot be used; the message says what to fix
        ├── CaseError               a case (JSON, form) has a wrong key, type or value
        ├── TextError               free text cannot be read (binary, too large)
        └── AuditInputError         population input files are missing, malformed or incomplete

Every message is written for the person who must fix the problem: it names the place (file,
line, key) and the valid choices.  Third-party errors are translated at the boundary with
``raise ... from exc`` so a user never sees a traceback for their own mistake.
"""

from __future__ import annotations


class BacktriageError(Exception):
    """Root of every error backtriage raises on purpose."""


class KnowledgeError(BacktriageError):
    """The packaged (or a given) knowledge base is broken.

    Raised at load time with *all* problems found, one per line in ``problems``, each naming
    the file and location.  Fix the data file(s) named; ``backtriage kb check`` lists them.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"knowledge base has {count} problem{'s' if count != 1 else ''}:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))


class InputError(BacktriageError):
    """Something a user supplied cannot be used as it is.  The message says what to fix."""


class CaseError(InputError):
    """A case has an unknown key, a misspelt finding id, or a value of the wrong type or range."""


class TextError(InputError):
    """Free text cannot be read: not text (binary), or beyond the size limit."""


class AuditInputError(InputError):
    """Population input (FHIR NDJSON folder or tabular claims files) is missing or malformed."""

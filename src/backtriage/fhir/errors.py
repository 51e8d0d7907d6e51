"""The FHIR adapter's input error (an :class:`~backtriage.errors.InputError`, so HTTP 400)."""

from __future__ import annotations

from backtriage.errors import InputError


class FhirError(InputError):
    """FHIR data cannot be read: not a resource, an unknown resource type, or a resource that
    fails the FHIR R4 model.  The message names the resource (where it came from, its type and
    id) and what is wrong with it."""

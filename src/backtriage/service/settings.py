"""How one service instance is configured (from ``backtriage serve`` options or a test)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from jwt import PyJWKError, PyJWKSet

# CMS's code for "no qualified CDSM consulted" would be wrong here; the G-code of the deployment's
# qualified CDSM is set by whoever runs the service (the AUC program is paused since 2024, so the
# extension is informational).  The default says plainly that none is configured.
DEFAULT_QCDSM = "unconfigured"


@dataclass(frozen=True)
class Trust:
    """One trusted CDS client: its ``iss`` and its keys (a JWKS URL, the one ``jku`` allowed,
    or a local JWKS file, with which a token's ``jku`` is not used)."""

    issuer: str
    jwks: str

    @property
    def is_url(self) -> bool:
        return self.jwks.startswith(("https://", "http://"))

    @classmethod
    def parse(cls, text: str) -> Trust:
        issuer, sep, jwks = text.partition("=")
        if not sep or not issuer or not jwks:
            raise ValueError(f"--trust takes ISSUER=JWKS_URL_OR_FILE, not {text!r}")
        if jwks.startswith(("https://", "http://")):
            return cls(issuer, jwks)
        path = Path(jwks)
        if not path.is_file():
            raise ValueError(f"--trust {issuer}: {jwks!r} is neither a URL nor a JWKS file")
        try:
            keys = PyJWKSet.from_dict(json.loads(path.read_text(encoding="utf-8"))).keys
        except (ValueError, OSError, PyJWKError) as exc:
            raise ValueError(f"--trust {issuer}: {jwks} is not a readable JWKS: {exc}") from exc
        if not any(key.key_id for key in keys):
            raise ValueError(f"--trust {issuer}: {jwks} has no key with a 'kid'")
        return cls(issuer, jwks)


@dataclass(frozen=True)
class Settings:
    db: str = "backtriage.sqlite3"
    trust: tuple[Trust, ...] = ()
    insecure_no_auth: bool = False
    public_url: str | None = None  # the base URL clients use (JWT aud, report links)
    qcdsm: str = DEFAULT_QCDSM
    cors_origins: tuple[str, ...] = ("*",)
    fhir_timeout_s: float = 5.0
    jwt_leeway_s: int = 30
    report_ttl_days: int = 7
    # A larger request body is refused (413) before it is read whole, authenticated or not;
    # a generous bound on a CDS Hooks call (a prefetch with every note of a long record).
    max_body_bytes: int = 32 * 1024 * 1024
    extra: dict[str, str] = field(default_factory=dict)

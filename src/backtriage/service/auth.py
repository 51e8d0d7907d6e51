"""CDS client authentication, as the CDS Hooks best practices say: a signed JWT on every call,
ES384 or RS384 only, ``kid`` and ``typ`` in the header, ``iss`` on the allow-list, ``aud`` one of
the URLs the caller gives (the URL called; for feedback also its service's endpoint),
``exp``/``iat`` checked, ``jti`` never seen before (a replay cache in the shared database).
Any failure is a bare 401; tokens are never logged.

The keys are always the ones the operator configured for the issuer (``--trust``), and only
they are ever fetched: a token's ``jku`` never makes the service fetch a URL.  The spec asks
services to keep an allow-list of ``jku`` URLs, and client and service to share the JWK Set out
of band when a token has no ``jku`` (CDS Hooks 2.0 §Trusting CDS Clients).  So for an issuer
trusted by its JWKS URL, a ``jku`` must be that URL (another is refused, not fetched); for one
trusted by a local JWKS file, the file is the out-of-band key set and the trust anchor, and a
``jku`` (which clients SHOULD send, CDS Hooks 3.0 ballot; Epic reportedly does) is not looked
at: the token is verified with the file's keys, so a valid one passes and one signed with any
other key fails."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import jwt
from jwt import PyJWK, PyJWKSet

from backtriage.service.settings import Settings, Trust
from backtriage.service.store import Store

ALGORITHMS = ("ES384", "RS384")
_JWKS_TTL_S = 300.0


class Unauthorized(Exception):
    """The request is not from a trusted CDS client.  Deliberately without detail."""


class JwksCache:
    """Each issuer's keys: a local JWKS file (read once) or a URL (fetched, cached 5 minutes)."""

    def __init__(self, trust: tuple[Trust, ...], timeout_s: float) -> None:
        self._trust = {t.issuer: t for t in trust}
        self._timeout = timeout_s
        self._cache: dict[str, tuple[float, dict[str, PyJWK]]] = {}
        self._lock = threading.Lock()
        for entry in trust:
            if not entry.is_url:
                self._cache[entry.issuer] = (
                    float("inf"),
                    _keys(json.loads(Path(entry.jwks).read_text(encoding="utf-8"))),
                )

    def trusted(self, issuer: str) -> Trust | None:
        return self._trust.get(issuer)

    def key(self, issuer: str, kid: str) -> PyJWK:
        trust = self._trust[issuer]
        with self._lock:
            cached = self._cache.get(issuer)
        if cached is None or (cached[0] < time.monotonic() and trust.is_url):
            cached = self._fetch(trust)
        if kid not in cached[1] and trust.is_url:
            cached = self._fetch(trust)  # key rotation: refetch once for an unknown kid
        try:
            return cached[1][kid]
        except KeyError as exc:
            raise Unauthorized from exc

    def _fetch(self, trust: Trust) -> tuple[float, dict[str, PyJWK]]:
        try:
            response = httpx.get(trust.jwks, timeout=self._timeout, follow_redirects=False)
            response.raise_for_status()
            keys = _keys(response.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWKError) as exc:
            raise Unauthorized from exc
        entry = (time.monotonic() + _JWKS_TTL_S, keys)
        with self._lock:
            self._cache[trust.issuer] = entry
        return entry


def _keys(data: Any) -> dict[str, PyJWK]:
    keyset = PyJWKSet.from_dict(data)
    return {key.key_id: key for key in keyset.keys if key.key_id}


class Verifier:
    def __init__(self, settings: Settings, store: Store) -> None:
        self._settings = settings
        self._store = store
        self._jwks = JwksCache(settings.trust, settings.fhir_timeout_s)

    def verify(self, authorization: str | None, audience: Sequence[str]) -> dict[str, Any]:
        """The verified claims, or :class:`Unauthorized`.  ``aud`` must name one of
        ``audience`` (the forms of the URL called that the endpoint answers to)."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer":  # a case-insensitive name (RFC 7235 §2.1)
            raise Unauthorized
        token = token.strip()
        try:  # header and claims in one parse (to pick the key); verified below
            decoded = jwt.decode_complete(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise Unauthorized from exc
        header: dict[str, Any] = decoded["header"]
        unverified: dict[str, Any] = decoded["payload"]
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALGORITHMS or not isinstance(kid, str) or header.get("typ") != "JWT":
            raise Unauthorized
        issuer = unverified.get("iss")
        trust = self._jwks.trusted(issuer) if isinstance(issuer, str) else None
        if trust is None or not isinstance(issuer, str):
            raise Unauthorized
        jku = header.get("jku")
        if jku is not None and trust.is_url and jku != trust.jwks:
            raise Unauthorized  # keys at a URL the operator did not allow: never fetched
        key = self._jwks.key(issuer, kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=list(audience),
                issuer=issuer,
                leeway=self._settings.jwt_leeway_s,
                options={"require": ["iss", "aud", "exp", "iat", "jti"], "verify_iat": True},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized from exc
        iat, exp = claims["iat"], claims["exp"]
        if not isinstance(iat, int | float) or iat > time.time() + self._settings.jwt_leeway_s:
            raise Unauthorized
        if not isinstance(claims["jti"], str) or not claims["jti"]:
            raise Unauthorized
        if not self._store.claim_jti(issuer, claims["jti"], int(exp)):
            raise Unauthorized  # replayed
        return claims

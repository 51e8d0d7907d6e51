"""Test CDS clients: EC P-384 and RSA keys, their JWKS, and signed tokens."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://ehr.example.test"
EC_KEY = ec.generate_private_key(ec.SECP384R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = ec.generate_private_key(ec.SECP384R1())


def jwks() -> dict[str, Any]:
    ec_jwk = json.loads(ECAlgorithm.to_jwk(EC_KEY.public_key()))
    rsa_jwk = json.loads(RSAAlgorithm.to_jwk(RSA_KEY.public_key()))
    ec_jwk.update(kid="ec1", alg="ES384", use="sig")
    rsa_jwk.update(kid="rsa1", alg="RS384", use="sig")
    return {"keys": [ec_jwk, rsa_jwk]}


def write_jwks(path: Path) -> Path:
    path.write_text(json.dumps(jwks()))
    return path


def token(
    aud: str,
    *,
    alg: str = "ES384",
    kid: str = "ec1",
    key: Any = None,
    headers: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "aud": aud,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    signer = key if key is not None else (EC_KEY if alg.startswith("ES") else RSA_KEY)
    return jwt.encode(
        payload, signer, algorithm=alg, headers={"kid": kid, "typ": "JWT", **(headers or {})}
    )

"""OIDC bearer tokens (JWTs) verified offline against a configured issuer, audience and JWKS file.

The identity provider's signing keys are exported to a file on the appliance; nothing is
fetched at runtime. Expiry, not-before, issuer, audience and signature are all required.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jwt

from enclave_core.errors import EnclaveError, PolicyError
from enclave_core.identity import Principal
from enclave_core.settings import AuthSettings

__all__ = ["OIDCVerifier", "TokenInvalid"]


class TokenInvalid(EnclaveError):
    """The bearer token failed verification; the message says which check."""


def _claim_list(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(v for v in value.replace(",", " ").split() if v)
    if isinstance(value, list):
        # Strings and numbers are group names; booleans and objects are not.
        return frozenset(str(v) for v in value if isinstance(v, str | int) and not isinstance(v, bool) and v != "")
    return frozenset()


class OIDCVerifier:
    def __init__(self, settings: AuthSettings) -> None:
        if not (settings.oidc_issuer and settings.oidc_audience and settings.oidc_jwks_file):
            raise PolicyError("OIDC needs auth.oidc_issuer, auth.oidc_audience and auth.oidc_jwks_file")
        self._settings = settings
        self._keys = self._load_jwks(settings.oidc_jwks_file)

    @staticmethod
    def _load_jwks(path: Path) -> dict[str, jwt.PyJWK]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("expected a JSON object with a 'keys' list")
            keyset = jwt.PyJWKSet.from_dict(data)
        except (OSError, ValueError, TypeError, jwt.exceptions.PyJWKSetError) as exc:
            raise PolicyError(f"cannot read the JWKS file {path}: {exc}") from exc
        return {str(k.key_id or ""): k for k in keyset.keys}

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> OIDCVerifier | None:
        return cls(settings) if settings.oidc_jwks_file else None

    def verify(self, token: str) -> Principal:
        s = self._settings
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise TokenInvalid(f"malformed token: {exc}") from exc
        kid = str(header.get("kid") or "")
        key = self._keys.get(kid) or (next(iter(self._keys.values())) if len(self._keys) == 1 and not kid else None)
        if key is None:
            raise TokenInvalid("token signed with an unknown key")
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=s.oidc_algorithms,
                audience=s.oidc_audience,
                issuer=s.oidc_issuer,
                leeway=s.leeway_s,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenInvalid("token expired") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenInvalid("token from an unexpected issuer") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenInvalid("token for another audience") from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenInvalid("token signature is invalid") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenInvalid(f"token rejected: {exc}") from exc
        user = str(claims.get(s.user_claim) or claims["sub"])
        return Principal(
            user,
            groups=_claim_list(claims.get(s.groups_claim)),
            roles=_claim_list(claims.get(s.roles_claim)),
            auth="oidc",
            subject=f"{claims['iss']}|{claims['sub']}",
        )

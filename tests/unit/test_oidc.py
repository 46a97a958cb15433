"""Tests for enclave_core.oidc: offline JWT verification against a JWKS file.

Every rejected token must be a TokenInvalid whose message says which check failed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from enclave_core.errors import PolicyError
from enclave_core.identity import Principal
from enclave_core.oidc import OIDCVerifier, TokenInvalid
from enclave_core.settings import AuthSettings

ISSUER = "https://idp.example.internal/realms/enclave"
AUDIENCE = "enclave-gateway"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def jwk(public_key: Any, kid: str, alg: str) -> dict[str, Any]:
    algo = RSAAlgorithm if alg.startswith("RS") else ECAlgorithm
    return {**algo.to_jwk(public_key, as_dict=True), "kid": kid, "use": "sig", "alg": alg}


def write_jwks(path: Path, *keys: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"keys": list(keys)}), encoding="utf-8")
    return path


@pytest.fixture
def jwks_file(tmp_path: Path, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey) -> Path:
    return write_jwks(
        tmp_path / "jwks.json",
        jwk(rsa_key.public_key(), "rsa-1", "RS256"),
        jwk(ec_key.public_key(), "ec-1", "ES256"),
    )


def auth(jwks_file: Path | None, **extra: Any) -> AuthSettings:
    return AuthSettings(oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_file=jwks_file, **extra)


@pytest.fixture
def verifier(jwks_file: Path) -> OIDCVerifier:
    return OIDCVerifier(auth(jwks_file))


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "f3a1c2d4-user-id",
        "preferred_username": "alice",
        "groups": ["hr", "staff"],
        "roles": ["pii:reveal"],
        "iat": now,
        "nbf": now - 5,
        "exp": now + 300,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: Any, payload: dict[str, Any], kid: str | None = "rsa-1", alg: str = "RS256") -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(payload, key, algorithm=alg, headers=headers)


# -- accepted tokens -----------------------------------------------------------------------------


def test_valid_rsa_token_gives_a_principal(verifier: OIDCVerifier, rsa_key: rsa.RSAPrivateKey) -> None:
    principal = verifier.verify(sign(rsa_key, claims()))
    assert principal == Principal(
        "alice",
        frozenset({"hr", "staff"}),
        frozenset({"pii:reveal"}),
        auth="oidc",
        subject=f"{ISSUER}|f3a1c2d4-user-id",
    )
    assert not principal.is_admin


def test_an_sso_user_named_like_an_api_key_user_is_another_user(
    verifier: OIDCVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    """Per-user records are keyed on (auth method, stable subject): a token whose
    preferred_username is 'local-admin' is not the API-key user 'local-admin'."""
    sso = verifier.verify(sign(rsa_key, claims(preferred_username="local-admin")))
    api = Principal("local-admin", auth="api-key")
    assert sso.name == api.name
    assert sso.key != api.key
    assert sso.key == f"oidc:{ISSUER}|f3a1c2d4-user-id"


def test_valid_ec_token_gives_a_principal(verifier: OIDCVerifier, ec_key: ec.EllipticCurvePrivateKey) -> None:
    principal = verifier.verify(sign(ec_key, claims(roles=["admin"]), kid="ec-1", alg="ES256"))
    assert principal.name == "alice" and principal.is_admin


@pytest.mark.parametrize(
    ("changes", "user"),
    [
        ({}, "alice"),
        ({"preferred_username": None}, "f3a1c2d4-user-id"),
        ({"preferred_username": ""}, "f3a1c2d4-user-id"),
    ],
)
def test_user_is_preferred_username_else_sub(
    verifier: OIDCVerifier, rsa_key: rsa.RSAPrivateKey, changes: dict[str, Any], user: str
) -> None:
    assert verifier.verify(sign(rsa_key, claims(**changes))).name == user


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["hr", "staff"], {"hr", "staff"}),
        ("hr staff", {"hr", "staff"}),
        ("hr,staff  legal", {"hr", "staff", "legal"}),
        ([], set()),
        ("", set()),
        (None, set()),  # claim absent
        ({"hr": True}, set()),  # not a list or a string: ignored
        (["hr", {"nested": 1}, 7], {"hr", "7"}),
    ],
)
def test_groups_and_roles_claims_accept_lists_and_space_separated_strings(
    verifier: OIDCVerifier, rsa_key: rsa.RSAPrivateKey, value: Any, expected: set[str]
) -> None:
    principal = verifier.verify(sign(rsa_key, claims(groups=value, roles=value)))
    assert principal.groups == frozenset(expected)
    assert principal.roles == frozenset(expected)


def test_claim_names_are_configurable(jwks_file: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    verifier = OIDCVerifier(auth(jwks_file, groups_claim="teams", roles_claim="scope", user_claim="email"))
    token = sign(rsa_key, claims(teams=["eng"], scope="openid admin", email="alice@corp.example"))
    principal = verifier.verify(token)
    assert principal.name == "alice@corp.example"
    assert principal.groups == frozenset({"eng"})  # "groups" is no longer read
    assert principal.roles == frozenset({"openid", "admin"})


def test_token_without_kid_is_accepted_when_the_jwks_has_one_key(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    path = write_jwks(tmp_path / "one.json", jwk(rsa_key.public_key(), "rsa-1", "RS256"))
    assert OIDCVerifier(auth(path)).verify(sign(rsa_key, claims(), kid=None)).name == "alice"


def test_leeway_tolerates_small_clock_skew(verifier: OIDCVerifier, rsa_key: rsa.RSAPrivateKey) -> None:
    now = int(time.time())
    assert verifier.verify(sign(rsa_key, claims(exp=now - 10, nbf=now + 10))).name == "alice"


# -- rejected tokens -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_tokens(
    rsa_key: rsa.RSAPrivateKey, other_rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> dict[str, tuple[str, str]]:
    """name -> (token, what the error message must say)."""
    now = int(time.time())
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = jwt.utils.base64url_encode(json.dumps({"alg": "none", "kid": "rsa-1"}).encode()).decode()
    payload = jwt.utils.base64url_encode(json.dumps(claims()).encode()).decode()
    # HMAC with the public key as secret, by hand (PyJWT refuses PEM-looking HMAC keys).
    hs_header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "kid": "rsa-1"}).encode()).decode()
    hs_input = f"{hs_header}.{payload}".encode()
    hs_sig = jwt.utils.base64url_encode(hmac.new(public_pem, hs_input, hashlib.sha256).digest()).decode()
    rs_token = sign(rsa_key, claims())
    h, _, s = rs_token.split(".")
    tampered = {**claims(), "preferred_username": "mallory"}
    tampered_payload = jwt.utils.base64url_encode(json.dumps(tampered).encode()).decode()
    return {
        "expired": (sign(rsa_key, claims(exp=now - 120, nbf=now - 600, iat=now - 600)), "token expired"),
        "not-yet-valid": (sign(rsa_key, claims(nbf=now + 300)), "token rejected: The token is not yet valid"),
        "wrong-issuer": (sign(rsa_key, claims(iss="https://evil.example/")), "unexpected issuer"),
        "wrong-audience": (sign(rsa_key, claims(aud="another-app")), "another audience"),
        "audience-list-without-ours": (sign(rsa_key, claims(aud=["a", "b"])), "another audience"),
        "other-key-same-kid": (sign(other_rsa_key, claims()), "signature is invalid"),
        "payload-swapped": (f"{h}.{tampered_payload}.{s}", "signature is invalid"),
        "unknown-kid": (sign(rsa_key, claims(), kid="rsa-2"), "unknown key"),
        "no-kid-with-two-keys": (sign(rsa_key, claims(), kid=None), "unknown key"),
        "ec-key-for-rsa-kid": (
            sign(ec_key, claims(), kid="rsa-1", alg="ES256"),
            "token rejected: Token algorithm 'ES256' does not match the key's algorithm 'RS256'",
        ),
        "alg-none": (f"{header}.{payload}.", "token rejected: The specified alg value is not allowed"),
        "hs256-with-public-key": (
            f"{hs_header}.{payload}.{hs_sig}",
            "token rejected: The specified alg value is not allowed",
        ),
        "missing-exp": (sign(rsa_key, claims(exp=None)), '"exp"'),
        "missing-sub": (sign(rsa_key, claims(sub=None)), '"sub"'),
        "missing-iss": (sign(rsa_key, claims(iss=None)), '"iss"'),
        "missing-aud": (sign(rsa_key, claims(aud=None)), '"aud"'),
        "garbage": ("not.a.jwt", "malformed token"),
        "empty": ("", "malformed token"),
    }


BAD = [
    "expired",
    "not-yet-valid",
    "wrong-issuer",
    "wrong-audience",
    "audience-list-without-ours",
    "other-key-same-kid",
    "payload-swapped",
    "unknown-kid",
    "no-kid-with-two-keys",
    "ec-key-for-rsa-kid",
    "alg-none",
    "hs256-with-public-key",
    "missing-exp",
    "missing-sub",
    "missing-iss",
    "missing-aud",
    "garbage",
    "empty",
]


@pytest.mark.parametrize("case", BAD)
def test_bad_tokens_are_rejected_with_a_clear_message(
    verifier: OIDCVerifier, bad_tokens: dict[str, tuple[str, str]], case: str
) -> None:
    token, message = bad_tokens[case]
    with pytest.raises(TokenInvalid) as exc:
        verifier.verify(token)
    assert message in str(exc.value)


def test_the_bad_token_table_is_complete(bad_tokens: dict[str, tuple[str, str]]) -> None:
    assert sorted(bad_tokens) == sorted(BAD)


def test_hs256_is_refused_even_when_configured(jwks_file: Path, bad_tokens: dict[str, tuple[str, str]]) -> None:
    """Listing HS256 must not let the RSA public key act as an HMAC secret: the JWK fixes the alg."""
    verifier = OIDCVerifier(auth(jwks_file, oidc_algorithms=["RS256", "HS256"]))
    token, _ = bad_tokens["hs256-with-public-key"]
    with pytest.raises(TokenInvalid, match="'HS256' does not match the key's algorithm 'RS256'"):
        verifier.verify(token)


def test_an_algorithm_not_configured_is_refused(jwks_file: Path, ec_key: ec.EllipticCurvePrivateKey) -> None:
    verifier = OIDCVerifier(auth(jwks_file, oidc_algorithms=["RS256"]))
    with pytest.raises(TokenInvalid, match="alg value is not allowed"):
        verifier.verify(sign(ec_key, claims(), kid="ec-1", alg="ES256"))


# -- configuration -------------------------------------------------------------------------------


def test_missing_jwks_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read the JWKS file"):
        OIDCVerifier(auth(tmp_path / "missing.json"))


@pytest.mark.parametrize(
    "body",
    ["not json", '{"keys": []}', '{"keys": {}}', '{"keys": [{"kty": "nope"}]}'],
    ids=["not-json", "no-keys", "keys-not-a-list", "unusable-key"],
)
def test_unusable_jwks_file_is_a_policy_error(tmp_path: Path, body: str) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(PolicyError, match=r"jwks\.json"):
        OIDCVerifier(auth(path))


def test_jwks_file_that_is_a_json_list_is_a_policy_error(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps([jwk(rsa_key.public_key(), "rsa-1", "RS256")]), encoding="utf-8")
    with pytest.raises(PolicyError):
        OIDCVerifier(auth(path))


@pytest.mark.parametrize(
    "missing", ["oidc_issuer", "oidc_audience", "oidc_jwks_file"], ids=["issuer", "audience", "jwks"]
)
def test_incomplete_settings_are_a_policy_error(jwks_file: Path, missing: str) -> None:
    values: dict[str, Any] = {"oidc_issuer": ISSUER, "oidc_audience": AUDIENCE, "oidc_jwks_file": jwks_file}
    values[missing] = None
    with pytest.raises(PolicyError, match="OIDC needs"):
        OIDCVerifier(AuthSettings(**values))


def test_from_settings(jwks_file: Path) -> None:
    assert OIDCVerifier.from_settings(AuthSettings()) is None
    assert OIDCVerifier.from_settings(AuthSettings(oidc_issuer=ISSUER, oidc_audience=AUDIENCE)) is None
    assert isinstance(OIDCVerifier.from_settings(auth(jwks_file)), OIDCVerifier)

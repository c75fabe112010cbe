"""The handshake (SPEC §10): the platform's JWT and the verification of the partner's signed reply
against the app's registered public key."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jwcrypto import jwt

from integrations import handshake
from provisioning.services.signing_keys import public_key_set
from tests.factories import environment

NOW = datetime(2026, 12, 4, 12, 0, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def signed(key: rsa.RSAPrivateKey, nonce: str, stamp: str) -> str:
    signature = key.sign(f"{nonce}.{stamp}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{nonce}.{stamp}.{base64.b64encode(signature).decode()}"


@pytest.mark.django_db
def test_the_platform_token_names_the_app_and_tenant_and_lives_six_minutes():
    env = environment("sod")
    issued = handshake.challenge(environment=env, client_id="abc123", context_identifier="Cust10001")
    token = jwt.JWT(jwt=issued.token, key=public_key_set(env), algs=["RS256"])
    claims = json.loads(token.claims)
    assert claims["iss"] == "SuperOffice AS" and claims["aud"] == "spn:abc123"
    assert claims["sub"] == claims["http://schemes.superoffice.net/identity/ctx"] == "Cust10001"
    assert claims["nonce"] == issued.nonce and claims["exp"] - claims["nbf"] == 360
    assert json.loads(token.header)["kid"]


def test_a_valid_reply_passes(key):
    handshake.verify_reply(
        signed(key, "n0nce", "202612041200"), nonce="n0nce", public_key_pem=public_pem(key), now=NOW
    )


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda key: signed(key, "other", "202612041200"), "another nonce"),
        (lambda key: signed(key, "n0nce", "202612041150"), "expired"),
        (lambda key: signed(key, "n0nce", "202612041210"), "from the future"),
        (lambda key: signed(key, "n0nce", "2026-12-04"), "yyyyMMddHHmm"),
        (lambda key: "n0nce.202612041200.not base64!", "not Base64"),
        (lambda key: "just text", "not <nonce>.<timestamp>.<signature>"),
        (
            lambda key: signed(
                rsa.generate_private_key(public_exponent=65537, key_size=2048), "n0nce", "202612041200"
            ),
            "does not verify",
        ),
    ],
)
def test_bad_replies_fail_with_the_reason(key, make, reason):
    with pytest.raises(handshake.HandshakeFailed, match=reason):
        handshake.verify_reply(make(key), nonce="n0nce", public_key_pem=public_pem(key), now=NOW)


def test_a_reply_without_a_registered_key_fails(key):
    with pytest.raises(handshake.HandshakeFailed, match="no registered public key"):
        handshake.verify_reply(
            signed(key, "n0nce", "202612041200"), nonce="n0nce", public_key_pem=None, now=NOW
        )


def test_a_reply_that_is_not_text_fails(key):
    with pytest.raises(handshake.HandshakeFailed):
        handshake.verify_reply({"Token": "x"}, nonce="n0nce", public_key_pem=public_pem(key), now=NOW)


def test_reply_stamps_within_five_minutes_pass(key):
    for minutes in (-5, 5):
        stamp = (NOW + timedelta(minutes=minutes)).strftime("%Y%m%d%H%M")
        handshake.verify_reply(
            signed(key, "n0nce", stamp), nonce="n0nce", public_key_pem=public_pem(key), now=NOW
        )

"""Signing keys: encrypted at rest, one active per environment, rotation with a grace period."""

import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from jwcrypto import jwk, jwt

from audit.models import AuditEntry
from provisioning.models import SigningKey, SigningKeyState
from provisioning.services.signing_keys import active_key, published_keys, rotate
from tenants.models import Environment

from .test_tokens import tokens_for

pytestmark = pytest.mark.django_db


def jwks(client):
    return client.get("/sod/login/.well-known/jwks").json()["keys"]


def test_private_key_is_encrypted_at_rest():
    key = active_key(Environment.objects.get(code="sod"))
    assert "PRIVATE KEY" not in key.private_key_encrypted
    assert "d" not in key.public_jwk


def test_wrong_encryption_key_is_reported_clearly(settings):
    sod = Environment.objects.get(code="sod")
    active_key(sod)
    settings.SIGNING_KEY_ENCRYPTION_KEY = "another"
    from provisioning.services.signing_keys import active_jwk

    with pytest.raises(RuntimeError, match="SIGNING_KEY_ENCRYPTION_KEY"):
        active_jwk(sod)


def test_tokens_signed_before_rotation_verify_during_grace(client, login_app, tenant_a):
    before = tokens_for(client, login_app, tenant_a.admin.user)["id_token"]
    old_kid = jwks(client)[0]["kid"]
    call_command("rotate_signing_keys", "sod", "--grace-hours", "24")
    keys = jwks(client)
    assert len(keys) == 2 and keys[1]["kid"] == old_kid
    key_set = jwk.JWKSet.from_json(json.dumps({"keys": keys}))
    assert json.loads(jwt.JWT(jwt=before, key=key_set, algs=["RS256"], check_claims=False).claims)["aud"]
    after = tokens_for(client, login_app, tenant_a.admin.user)["id_token"]
    header = json.loads(jwt.JWT(jwt=after, key=key_set, algs=["RS256"], check_claims=False).header)
    assert header["kid"] == keys[0]["kid"] != old_kid
    assert AuditEntry.objects.filter(event_type="signing_key.rotated").exists()


def test_retiring_key_leaves_jwks_after_grace():
    sod = Environment.objects.get(code="sod")
    first = active_key(sod)
    rotate(environment=sod, grace=timedelta(0))
    assert first.kid not in [key["kid"] for key in published_keys(sod)]
    rotate(environment=sod)
    assert SigningKey.objects.get(pk=first.pk).state == SigningKeyState.RETIRED


def test_rotation_is_per_environment(client):
    online_before = client.get("/online/login/.well-known/jwks").json()["keys"]
    call_command("rotate_signing_keys", "sod")
    assert client.get("/online/login/.well-known/jwks").json()["keys"] == online_before


def test_rotate_command_refuses_unknown_environment():
    with pytest.raises(CommandError, match="choose one of"):
        call_command("rotate_signing_keys", "prod")

"""Replays revoke what they could have stolen; expired credentials are swept by the hourly task."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from config.celery import app as celery_app
from provisioning.models import AccessToken, Authorization, Grant, RefreshToken, SystemUserTicket
from provisioning.tasks import clear_expired_credentials

from .test_tokens import TOKEN_URL, basic, exchange, get_code, introspect, tokens_for

pytestmark = pytest.mark.django_db


def refresh(client, login, refresh_token):
    return client.post(
        TOKEN_URL,
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        HTTP_AUTHORIZATION=basic(login.client_id, login.secret),
    )


def test_replayed_code_revokes_the_tokens_issued_from_it(client, login_app, tenant_a):
    code = get_code(client, login_app, tenant_a.admin.user)
    tokens = exchange(client, login_app, code).json()
    assert introspect(client, login_app, tokens["access_token"])["active"] is True
    replay = exchange(client, login_app, code)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert introspect(client, login_app, tokens["access_token"]) == {"active": False}
    assert refresh(client, login_app, tokens["refresh_token"]).status_code == 400
    assert Grant.objects.get(code=code).used_at is not None  # kept until it expires


def test_replay_does_not_touch_another_users_tokens(client, login_app, tenant_a):
    admin_code = get_code(client, login_app, tenant_a.admin.user)
    exchange(client, login_app, admin_code)
    member_tokens = tokens_for(client, login_app, tenant_a.member.user)
    exchange(client, login_app, admin_code)
    assert introspect(client, login_app, member_tokens["access_token"])["active"] is True


def test_replayed_refresh_token_revokes_its_family(client, login_app, tenant_a):
    tokens = tokens_for(client, login_app, tenant_a.admin.user)
    fresh = refresh(client, login_app, tokens["refresh_token"]).json()
    replay = refresh(client, login_app, tokens["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert refresh(client, login_app, fresh["refresh_token"]).status_code == 400  # the thief's copy dies too


def test_sweep_deletes_only_what_can_no_longer_be_used(client, login_app, tenant_a):
    tokens = tokens_for(client, login_app, tenant_a.admin.user)
    fresh = refresh(client, login_app, tokens["refresh_token"]).json()
    authorization = Authorization.objects.get()
    long_ago = timezone.now() - timedelta(days=31)
    RefreshToken.objects.filter(revoked__isnull=False).update(revoked=long_ago)
    stale_code = get_code(client, login_app, tenant_a.admin.user)
    Grant.objects.filter(code=stale_code).update(expires=timezone.now() - timedelta(minutes=1))
    idle = SystemUserTicket.objects.create(authorization=authorization, checksum="a" * 64,
                                           last_used_at=timezone.now() - timedelta(hours=7))
    live = SystemUserTicket.objects.create(authorization=authorization, checksum="b" * 64,
                                           last_used_at=timezone.now())

    counts = clear_expired_credentials.delay().get()

    assert counts == {"revoked_refresh_tokens": 1, "idle_tickets": 1}
    assert not Grant.objects.filter(code=stale_code).exists()
    assert not SystemUserTicket.objects.filter(pk=idle.pk).exists()
    assert SystemUserTicket.objects.filter(pk=live.pk).exists()
    assert RefreshToken.objects.filter(revoked__isnull=True).count() == 1
    assert AccessToken.objects.count() == 1
    assert refresh(client, login_app, fresh["refresh_token"]).status_code == 200


def test_the_sweep_is_scheduled_hourly():
    entry = settings.CELERY_BEAT_SCHEDULE["clear-expired-login-credentials"]
    assert entry["schedule"] == 3600.0
    assert entry["task"] in celery_app.tasks

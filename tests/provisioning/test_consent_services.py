"""Consent services: rights checked in the service, audit entries, re-approval after a widening publish."""

import pytest

from appstore.models import ConfigurationVersion
from appstore.services.configuration import (
    create_configuration_version,
    publish_configuration,
    update_configuration_version,
)
from audit.models import AuditEntry
from provisioning.models import Authorization, AuthorizationStatus
from provisioning.services.authorizations import ConsentRefused, approve, uninstall

from .conftest import register_app, tenant_with_people

pytestmark = pytest.mark.django_db


def test_only_tenant_admins_approve(login_app, tenant_a, tenant_b):
    with pytest.raises(ConsentRefused):
        approve(app=login_app.app, tenant=tenant_a.tenant, user=tenant_a.member.user, consent_text="")
    with pytest.raises(ConsentRefused):  # an admin of another tenant
        approve(app=login_app.app, tenant=tenant_a.tenant, user=tenant_b.admin.user, consent_text="")
    assert not Authorization.objects.exists()


def test_approve_and_reapprove_are_audited_and_token_is_constant(login_app, tenant_a):
    first = approve(app=login_app.app, tenant=tenant_a.tenant, user=tenant_a.admin.user, consent_text="v1")
    Authorization.objects.update(needs_reapproval=True)
    again = approve(app=login_app.app, tenant=tenant_a.tenant, user=tenant_a.admin.user, consent_text="v2")
    assert again.pk == first.pk and again.system_user_token == first.system_user_token
    assert again.consent_text == "v2" and not again.needs_reapproval
    events = list(AuditEntry.objects.filter(app_id=login_app.app.pk).values_list("event_type", flat=True))
    assert "app.installed" in events and "app.reapproved" in events


def test_uninstall_by_member_is_refused_and_reinstall_restores(login_app, tenant_a):
    authorization = approve(app=login_app.app, tenant=tenant_a.tenant, user=tenant_a.admin.user,
                            consent_text="")
    with pytest.raises(ConsentRefused):
        uninstall(authorization=authorization, user=tenant_a.member.user)
    uninstall(authorization=authorization, user=tenant_a.admin.user)
    uninstall(authorization=authorization, user=tenant_a.admin.user)  # twice is harmless
    assert AuditEntry.objects.filter(event_type="app.uninstalled").count() == 1
    again = approve(app=login_app.app, tenant=tenant_a.tenant, user=tenant_a.admin.user, consent_text="")
    assert again.status == AuthorizationStatus.ACTIVE and again.revoked_at is None


def test_publishing_a_widening_configuration_marks_reapproval(login_app, tenant_a, tenant_b,
                                                               django_capture_on_commit_callbacks):
    plain = register_app(claims=[])
    for login in (login_app, plain):
        approve(app=login.app, tenant=tenant_a.tenant, user=tenant_a.admin.user, consent_text="")
    plain_member = plain.app.partner.members.first().user
    version = create_configuration_version(actor=plain_member, app=plain.app, environment="sod")
    ConfigurationVersion.objects.filter(pk=version.pk).update(claims=["SystemToken"])
    version.refresh_from_db()
    update_configuration_version(actor=plain_member, version=version, endpoints={
        "mirroring": {"url": "https://mirror.example.com/in", "enabled": True, "send_error_emails": True}})
    with django_capture_on_commit_callbacks(execute=True):
        publish_configuration(actor=plain_member, version=version)
    assert Authorization.objects.get(app=plain.app).needs_reapproval
    assert "mirroring" in Authorization.objects.get(app=plain.app).reapproval_reason
    assert not Authorization.objects.get(app=login_app.app).needs_reapproval
    assert AuditEntry.objects.filter(event_type="app.needs_reapproval", app_id=plain.app.pk).exists()


def test_install_count_follows_production_installs_only(login_app, tenant_a):
    online = tenant_with_people("Cust20001", env="online")
    online_login = register_app(env="online")
    app = online_login.app
    approve(app=app, tenant=online.tenant, user=online.admin.user, consent_text="")
    app.refresh_from_db()
    assert app.install_count == 1
    authorization = approve(app=app, tenant=online.tenant, user=online.admin.user, consent_text="")
    app.refresh_from_db()
    assert app.install_count == 1  # a re-approval is not a new install
    uninstall(authorization=authorization, user=online.admin.user)
    uninstall(authorization=authorization, user=online.admin.user)
    app.refresh_from_db()
    assert app.install_count == 0
    approve(app=login_app.app, tenant=tenant_a.tenant, user=tenant_a.admin.user, consent_text="")
    login_app.app.refresh_from_db()
    assert login_app.app.install_count == 0  # development installs are not counted

"""The platform's integration service identity (SPEC §9): short-lived tokens per app and tenant that
introspection recognises, refused once the app is uninstalled."""

import uuid

import pytest
from django.utils import timezone

from provisioning.models import AccessToken, Authorization, AuthorizationStatus
from provisioning.services.integration_tokens import IntegrationTokenRefused, issue_integration_token

from .test_resource_servers import create
from .test_tokens import basic

pytestmark = pytest.mark.django_db


def installed(login_app, tenant) -> Authorization:
    return Authorization.objects.create(app=login_app.app, tenant=tenant, approved_at=timezone.now(),
                                        system_user_token=f"{login_app.app.name}-{uuid.uuid4().hex[:10]}")


def test_introspection_says_integration_service_and_names_the_app(client, login_app, tenant_a):
    token, expires = issue_integration_token(authorization=installed(login_app, tenant_a.tenant))
    assert token.startswith("8A:Cust10001.") and expires > timezone.now()
    assert not AccessToken.objects.filter(token=token).exists()  # only the checksum is kept
    client_id, secret = create()
    answer = client.post("/sod/login/common/oauth/introspect", {"token": token},
                         HTTP_AUTHORIZATION=basic(client_id, secret)).json()
    assert answer["active"] is True and answer["integration_service"] is True
    assert answer["client_id"] == login_app.client_id and answer["ctx"] == "Cust10001"
    assert answer["sub"] == f"integration:{login_app.client_id}" and answer["system_user"] is False


def test_uninstalling_the_app_makes_the_token_inactive_and_refuses_new_ones(client, login_app, tenant_a):
    authorization = installed(login_app, tenant_a.tenant)
    token, _ = issue_integration_token(authorization=authorization)
    Authorization.objects.filter(pk=authorization.pk).update(status=AuthorizationStatus.REVOKED)
    client_id, secret = create()
    answer = client.post("/sod/login/common/oauth/introspect", {"token": token},
                         HTTP_AUTHORIZATION=basic(client_id, secret)).json()
    assert answer == {"active": False}
    with pytest.raises(IntegrationTokenRefused, match="not authorized in Cust10001"):
        issue_integration_token(authorization=authorization)


def test_a_token_needing_reapproval_is_refused(login_app, tenant_a):
    authorization = installed(login_app, tenant_a.tenant)
    Authorization.objects.filter(pk=authorization.pk).update(needs_reapproval=True)
    with pytest.raises(IntegrationTokenRefused, match="needs re-approval"):
        issue_integration_token(authorization=authorization)

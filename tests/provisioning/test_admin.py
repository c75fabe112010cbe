"""The admin lists the login service's rows without secrets or private keys."""

import pytest
from django.test import Client

from accounts.models import User
from provisioning.models import Authorization
from provisioning.services.signing_keys import active_key
from tenants.models import Environment

from .test_tokens import tokens_for

pytestmark = pytest.mark.django_db


def test_admin_pages_hide_secrets(login_app, tenant_a):
    tokens_for(Client(), login_app, tenant_a.admin.user)
    admin_client = Client()
    admin_client.force_login(User.objects.create_superuser(email="root@example.com", password="x-pass-123"))
    key = active_key(Environment.objects.get(code="sod"))
    authorization = Authorization.objects.get()
    pages = {
        "/admin/provisioning/authorization/": None,
        f"/admin/provisioning/authorization/{authorization.pk}/change/": authorization.system_user_token,
        f"/admin/provisioning/signingkey/{key.pk}/change/": key.private_key_encrypted[:40],
        "/admin/provisioning/loginclient/": None,
        "/admin/provisioning/accesstoken/": None,
        "/admin/provisioning/refreshtoken/": None,
    }
    for url, secret in pages.items():
        response = admin_client.get(url)
        assert response.status_code == 200, url
        if secret:
            assert secret not in response.content.decode(), url
    assert admin_client.get("/admin/provisioning/loginclient/add/").status_code == 403

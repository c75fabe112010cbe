"""Authentication through the platform's real introspection endpoint, over HTTP to a live server:
access tokens, system-user tickets, integration-service tokens, other tenants' and dead tokens."""

import hashlib
import json
import logging
from unittest import mock

import pytest
import requests
from django.contrib.auth.hashers import check_password
from django.core.cache import cache

from crm_sandbox import auth
from provisioning.models import Authorization, ResourceServer
from provisioning.services import integration_tokens
from provisioning.services.resource_servers import ensure_sandbox_resource_servers
from tenants.models import Environment

from ..provisioning.conftest import register_app, tenant_with_people
from ..provisioning.test_system_user import URL as SYSTEM_USER_URL
from ..provisioning.test_system_user import request_body, ticket_of
from ..provisioning.test_tokens import tokens_for

PREFIX = "http://schemes.superoffice.net/identity/"


@pytest.fixture(autouse=True)
def introspection():
    """Here the sandbox asks the real login service (the stand-in of conftest.py is not used)."""
    return None


@pytest.fixture
def platform(reference_data, live_server, settings, sandbox_resource_servers):
    settings.SITE_URL = live_server.url
    settings.CRM_SANDBOX_LOGIN_URL = live_server.url
    return live_server.url


@pytest.fixture
def installed(platform, client):
    login = register_app()
    people = tenant_with_people("Cust10001")
    tenant_with_people("Cust10002")
    tokens = tokens_for(client, login, people.admin.user)
    return login, tokens["access_token"]


def call(base: str, ctx: str, headers: dict, path: str = "/Contact") -> requests.Response:
    return requests.get(f"{base}/sandbox/sod/{ctx}/api/v1{path}", headers=headers, timeout=20)


def test_access_token_of_the_tenant_is_let_in_and_cached_by_digest(platform, installed):
    _, token = installed
    with mock.patch.object(auth.requests, "post", wraps=requests.post) as asked:
        first = call(platform, "Cust10001", {"Authorization": f"Bearer {token}"})
        second = call(platform, "Cust10001", {"Authorization": f"Bearer {token}"}, "/Person")
    assert first.status_code == 200 and first.json() == {"value": []}
    assert second.status_code == 200
    assert asked.call_count == 1  # the second call used the cached answer
    key = auth.cache_key(token, "")
    assert token not in key and hashlib.sha256(f"{token}\n".encode()).hexdigest() in key
    assert cache.get(key)["ctx"] == "Cust10001"


def test_token_of_one_tenant_is_refused_for_another(platform, installed):
    _, token = installed
    response = call(platform, "Cust10002", {"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert "another tenant" in response.json()["Error"]


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer 8A:Cust10001.not-a-real-token"}, {"Authorization": "Basic dXNlcjpwdw=="},
    {"Authorization": "SOTicket 7T:whatever"},
])
def test_missing_or_inactive_tokens_are_401_with_a_challenge(platform, installed, headers):
    response = call(platform, "Cust10001", headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["Error"]


def test_revoked_token_is_401(platform, installed):
    _, token = installed
    Authorization.objects.update(status="revoked")
    assert call(platform, "Cust10001", {"Authorization": f"Bearer {token}"}).status_code == 401


def test_system_user_ticket_with_its_app_token(platform, installed, client):
    login, _ = installed
    answer = client.post(SYSTEM_USER_URL, json.dumps(request_body(login, Authorization.objects.get())),
                         content_type="application/json").json()
    ticket = ticket_of(client, answer)[PREFIX + "ticket"]
    good = call(platform, "Cust10001", {"Authorization": f"SOTicket {ticket}", "SO-AppToken": login.secret})
    assert good.status_code == 200
    wrong = call(platform, "Cust10001",
                 {"Authorization": f"SOTicket {ticket}", "SO-AppToken": "not-the-secret"})
    assert wrong.status_code == 401


def test_integration_service_token_is_recorded_in_the_call_log(platform, installed, caplog):
    login, _ = installed
    token, _ = integration_tokens.issue_integration_token(authorization=Authorization.objects.get())
    with caplog.at_level(logging.INFO, logger="crm_sandbox"):
        response = call(platform, "Cust10001", {"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("crm_sandbox call")]
    assert any(f"client_id={login.client_id} integration_service=True" in line and "status=200" in line
               for line in lines)
    assert all(token not in r.getMessage() for r in caplog.records)


def test_wrong_sandbox_secret_makes_the_api_unavailable_not_open(platform, installed, settings):
    _, token = installed
    settings.CRM_SANDBOX_CLIENT_SECRET = "not-what-the-platform-has"
    response = call(platform, "Cust10001", {"Authorization": f"Bearer {token}"})
    assert response.status_code == 503


@pytest.mark.django_db
def test_sandbox_resource_servers_exist_per_environment_and_follow_the_setting(settings):
    settings.CRM_SANDBOX_CLIENT_SECRET = "first-secret"
    ensure_sandbox_resource_servers()
    ensure_sandbox_resource_servers()
    servers = {s.client_id: s for s in ResourceServer.objects.select_related("environment")}
    codes = set(Environment.objects.values_list("code", flat=True))
    assert set(servers) == {f"crm-sandbox-{code}" for code in codes}
    assert all(servers[f"crm-sandbox-{code}"].environment.code == code for code in codes)
    assert check_password("first-secret", servers["crm-sandbox-sod"].secret_hash)
    assert "first-secret" not in servers["crm-sandbox-sod"].secret_hash
    settings.CRM_SANDBOX_CLIENT_SECRET = "second-secret"
    ensure_sandbox_resource_servers()
    sod = ResourceServer.objects.get(client_id="crm-sandbox-sod")
    assert check_password("second-secret", sod.secret_hash)
    assert ResourceServer.objects.count() == len(codes)

"""The public tenant state API: GET /<env>/api/state/<ctx> (SPEC §6)."""

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import resolve
from django.utils import timezone

from tenants.endpoints import base_url, webapi_url
from tenants.models import Tenant, TenantState
from tenants.services.lifecycle import move_tenant, suspend_tenant
from tenants.state import CHANGING_STATES, cache_key
from tests.factories import TenantFactory, environment

pytestmark = pytest.mark.django_db

RUNNING = {TenantState.RUNNING, TenantState.ONLINE_MAINTENANCE}


def url(env: str, ctx: str) -> str:
    return f"/{env}/api/state/{ctx}"


def valid_until(body: dict) -> datetime:
    return datetime.fromisoformat(body["ValidUntil"].replace("Z", "+00:00"))


def seconds_ahead(body: dict) -> float:
    return (valid_until(body) - timezone.now()).total_seconds()


def make_tenant(**fields) -> Tenant:
    defaults = {"context_identifier": "Cust10001", "environment": environment("sod"),
                "webapi_url": "https://crm.example.com/Cust10001/api/",
                "public_endpoint": "https://crm.example.com/Cust10001", "version_label": "10.3.5"}
    return TenantFactory(**{**defaults, **fields})


@pytest.mark.parametrize("state", [s for s in TenantState if s != TenantState.UNKNOWN])
def test_each_state_answers_its_name_and_whether_it_runs(client, state):
    make_tenant(state=state)
    response = client.get(url("sod", "Cust10001"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"ContextIdentifier", "Endpoint", "State", "IsRunning", "ValidUntil", "Api",
                         "Version"}
    assert body["ContextIdentifier"] == "Cust10001"
    assert body["State"] == state.label
    assert body["IsRunning"] is (state in RUNNING)
    assert body["Endpoint"] == "https://crm.example.com/Cust10001"
    assert body["Api"] == "https://crm.example.com/Cust10001/api/"
    assert body["Version"] == "10.3.5"
    assert body["ValidUntil"].endswith("Z")
    # Ask again soon while the tenant is changing, later when it is settled.
    if state in CHANGING_STATES:
        assert 20 <= seconds_ahead(body) <= 30
    else:
        assert 240 <= seconds_ahead(body) <= 300


def test_state_names_are_the_api_names():
    assert TenantState.ONLINE_MAINTENANCE.label == "OnlineMaintenance"
    assert TenantState.MIGRATION_PENDING.label == "MigrationPending"
    assert TenantState.PROVISIONING_FAILED.label == "ProvisioningFailed"


def test_public_cors_and_cache_headers_match_valid_until(client):
    make_tenant()
    response = client.get(url("sod", "Cust10001"))
    assert response["Access-Control-Allow-Origin"] == "*"
    cache_control = response["Cache-Control"]
    assert cache_control.startswith("public, max-age=")
    max_age = int(cache_control.split("=")[1])
    assert 0 < max_age <= seconds_ahead(response.json()) + 1


def test_tenant_valid_until_ahead_brings_valid_until_forward(client):
    soon = (timezone.now() + timedelta(seconds=90)).replace(microsecond=0)
    make_tenant(valid_until=soon)
    assert valid_until(client.get(url("sod", "Cust10001")).json()) == soon


def test_endpoint_and_api_are_derived_when_not_recorded(client):
    tenant = make_tenant(webapi_url="", public_endpoint="")
    body = client.get(url("sod", "Cust10001")).json()
    assert body["Api"] == f"{settings.SITE_URL}/sandbox/sod/Cust10001/api/"
    assert body["Endpoint"] == f"{settings.SITE_URL}/sandbox/sod/Cust10001"
    assert (body["Api"], body["Endpoint"]) == (webapi_url(tenant), base_url(tenant))


def test_unknown_context_answers_unknown_with_200(client):
    make_tenant()
    response = client.get(url("sod", "Cust99999"))
    assert response.status_code == 200
    body = response.json()
    assert body["ContextIdentifier"] == "Cust99999"
    assert body["State"] == "Unknown" and body["IsRunning"] is False
    assert body["Endpoint"] == "" and body["Api"] == ""


def test_a_tenant_of_another_environment_is_unknown_here(client):
    make_tenant(environment=environment("online"))
    assert client.get(url("sod", "Cust10001")).json()["State"] == "Unknown"
    assert client.get(url("online", "Cust10001")).json()["State"] == "Running"


@pytest.mark.parametrize("env", ["nowhere", "SOD", "a" * 200])
def test_unknown_environment_is_a_json_404(client, env):
    make_tenant()
    response = client.get(url(env, "Cust10001"))
    assert response.status_code == 404
    assert response.json() == {"Error": "No such environment."}


def test_a_moved_tenant_is_answered_at_its_new_address_at_once(client):
    tenant = make_tenant()
    first = client.get(url("sod", "Cust10001")).json()
    assert cache.get(cache_key("sod", "Cust10001")) is not None
    tenant.public_endpoint = "https://eu2.crm.example.com/Cust10001"
    tenant.webapi_url = "https://eu2.crm.example.com/Cust10001/api/"
    tenant.save()
    moved = client.get(url("sod", "Cust10001")).json()
    assert first["Endpoint"] == "https://crm.example.com/Cust10001"
    assert moved["Endpoint"] == "https://eu2.crm.example.com/Cust10001"
    assert moved["Api"] == "https://eu2.crm.example.com/Cust10001/api/"


def test_a_state_change_and_a_deletion_are_seen_at_once(client):
    tenant = make_tenant()
    assert client.get(url("sod", "Cust10001")).json()["IsRunning"] is True
    tenant.state = TenantState.SUSPENDED
    tenant.save(update_fields=["state"])
    assert client.get(url("sod", "Cust10001")).json()["State"] == "Suspended"
    Tenant.objects.get(pk=tenant.pk).delete()
    assert client.get(url("sod", "Cust10001")).json()["State"] == "Unknown"


def test_a_new_tenant_replaces_a_cached_unknown(client):
    assert client.get(url("sod", "Cust10001")).json()["State"] == "Unknown"
    make_tenant(state=TenantState.PROVISIONING)
    assert client.get(url("sod", "Cust10001")).json()["State"] == "Provisioning"


def test_a_renamed_context_forgets_the_old_answer(client):
    tenant = make_tenant()
    assert client.get(url("sod", "Cust10001")).json()["State"] == "Running"
    tenant = Tenant.objects.get(pk=tenant.pk)
    tenant.context_identifier = "Cust10009"
    tenant.save()
    assert client.get(url("sod", "Cust10001")).json()["State"] == "Unknown"
    assert client.get(url("sod", "Cust10009")).json()["State"] == "Running"


def test_a_cached_answer_costs_no_query(client, django_assert_num_queries):
    make_tenant()
    with django_assert_num_queries(2):
        first = client.get(url("sod", "Cust10001"))
    with django_assert_num_queries(0):
        again = client.get(url("sod", "Cust10001"))
    assert again.json() == first.json()


def test_a_cached_unknown_costs_no_query(client, django_assert_num_queries):
    client.get(url("sod", "Cust12345"))
    with django_assert_num_queries(0):
        assert client.get(url("sod", "Cust12345")).json()["State"] == "Unknown"


@pytest.mark.parametrize("ctx", [
    "Cust" + "1" * 5000,
    "x" * 3000,
    "Cust１２３",  # full-width digits are not ASCII digits
    "Cüst10001",
    "Cust10001%00",
    "Cust10001%20",
    "Cust10001'--",
    "..",
    "%2e%2e",
    "Cust10001;drop",
    "<script>",
])
def test_odd_context_identifiers_answer_unknown(client, ctx):
    make_tenant()
    response = client.get(url("sod", ctx))
    assert response.status_code == 200
    body = response.json()
    assert body["State"] == "Unknown" and body["IsRunning"] is False
    assert len(body["ContextIdentifier"]) <= 32


@pytest.mark.parametrize("path", [
    "/sod/api/state/../../admin/",
    "/sod/api/state/%2e%2e%2fCust10001",
    "/sod/api/state/Cust10001/extra",
    "/sod/api/state/",
    "/../sod/api/state/Cust10001",
])
def test_path_tricks_never_break_the_api(client, path):
    make_tenant()
    response = client.get(path)
    assert response.status_code in (200, 301, 302, 404)
    if response.status_code == 200 and response["Content-Type"] == "application/json":
        assert response.json()["State"] in ("Unknown", "Running")


def test_only_reads_are_allowed(client):
    make_tenant()
    assert client.post(url("sod", "Cust10001")).status_code == 405
    # A browser-like client enforces CSRF: a POST is still "method not allowed", in JSON.
    strict = Client(enforce_csrf_checks=True)
    for method in (strict.post, strict.put, strict.delete):
        response = method(url("sod", "Cust10001"))
        assert response.status_code == 405
        assert response["Allow"] == "GET, HEAD"
        assert response["Content-Type"] == "application/json"
        assert "Error" in response.json()
    head = client.head(url("sod", "Cust10001"))
    assert head.status_code == 200


def test_the_lifecycle_services_changes_are_answered_at_once(client, app_manager):
    tenant = make_tenant()
    assert client.get(url("sod", "Cust10001")).json()["State"] == "Running"
    move_tenant(actor=app_manager, tenant=tenant, public_endpoint="https://eu3.crm.example.com/Cust10001",
                webapi_url="https://eu3.crm.example.com/Cust10001/api/")
    moved = client.get(url("sod", "Cust10001")).json()
    assert (moved["Endpoint"], moved["Api"]) == ("https://eu3.crm.example.com/Cust10001",
                                                 "https://eu3.crm.example.com/Cust10001/api/")
    suspend_tenant(actor=app_manager, tenant=tenant, reason="Unpaid invoice")
    suspended = client.get(url("sod", "Cust10001")).json()
    assert suspended["State"] == "Suspended" and suspended["IsRunning"] is False


@pytest.mark.parametrize(("path", "view_name"), [
    ("/sod/api/state/Cust10001", "tenants:state"),
    ("/online/api/state/Cust10001", "tenants:state"),
    ("/sod/.well-known/openid-configuration", "login:discovery"),
    ("/sod/login/.well-known/jwks", "login:jwks"),
    ("/api/v1/apps/", None),
    ("/apps/api/state/", "store:app"),
    ("/my/sod/Cust10001/apps/", "my:apps"),
])
def test_the_state_path_clashes_with_no_other_route(path, view_name):
    match = resolve(path)
    if view_name is None:
        assert not match.view_name.startswith("tenants:")
    else:
        assert match.view_name == view_name

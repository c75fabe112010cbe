"""Moving a tenant: https URLs at public hosts; local ones only in sod when allowed; not where it is."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AuditEntry
from tenants.models import TenantState
from tenants.services import lifecycle
from tenants.signals import tenant_state_changed
from tests.factories import TenantFactory, UserFactory, environment

pytestmark = pytest.mark.django_db

HERE = "https://crm.example.com/Cust1"


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def received():
    calls = []

    def receiver(sender, tenant, change_type, **kwargs):
        calls.append(change_type)

    tenant_state_changed.connect(receiver, dispatch_uid="test-move")
    yield calls
    tenant_state_changed.disconnect(dispatch_uid="test-move")


def make(env="online"):
    return TenantFactory(environment=environment(env), state=TenantState.RUNNING,
                         public_endpoint=HERE, webapi_url=HERE + "/api/")


def move(staff, tenant, endpoint, webapi=None):
    return lifecycle.move_tenant(actor=staff, tenant=tenant, public_endpoint=endpoint,
                                 webapi_url=webapi or endpoint.rstrip("/") + "/api/")


@pytest.mark.parametrize("endpoint", [
    "http://169.254.169.254/latest",
    "https://169.254.169.254/latest",
    "https://127.0.0.1:8000",
    "https://10.0.0.5/crm",
    "https://[::1]/crm",
    "https://localhost/crm",
    "https://crm.internal/x",
    "https://intranet/x",
    "http://crm.example.com/Cust1",
    "https://bücher.example/crm",
    "https://user:pw@crm.example.com/x",
    "ftp://crm.example.com/x",
])
@pytest.mark.parametrize("env", ["stage", "online"])
def test_internal_plain_http_and_idn_addresses_are_refused(staff, received, settings, env, endpoint,
                                                           django_capture_on_commit_callbacks):
    settings.ALLOW_PRIVATE_PARTNER_URLS = True  # only sod may use local addresses, even then
    tenant = make(env)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as refused:
        move(staff, tenant, endpoint)
    assert "public_endpoint" in refused.value.error_dict
    tenant.refresh_from_db()
    assert tenant.public_endpoint == HERE and not AuditEntry.objects.exists() and received == []


def test_the_web_api_url_is_checked_too(staff):
    with pytest.raises(ValidationError) as refused:
        move(staff, make(), "https://eu2.crm.example.com", "http://127.0.0.1:8000/api/")
    assert "webapi_url" in refused.value.error_dict


def test_sod_may_use_local_addresses_only_when_allowed(staff, settings):
    tenant = make("sod")
    settings.ALLOW_PRIVATE_PARTNER_URLS = False
    with pytest.raises(ValidationError):
        move(staff, tenant, "http://127.0.0.1:8000/sandbox")
    settings.ALLOW_PRIVATE_PARTNER_URLS = True
    move(staff, tenant, "http://127.0.0.1:8000/sandbox")
    tenant.refresh_from_db()
    assert tenant.public_endpoint == "http://127.0.0.1:8000/sandbox"


def test_a_public_https_address_is_accepted(staff, received, django_capture_on_commit_callbacks):
    tenant = make()
    with django_capture_on_commit_callbacks(execute=True):
        move(staff, tenant, "https://eu2.crm.example.com/Cust1")
    tenant.refresh_from_db()
    assert tenant.public_endpoint == "https://eu2.crm.example.com/Cust1" and len(received) == 1


def test_a_move_to_where_it_is_already_is_refused_and_sends_nothing(staff, received, client,
                                                                    django_capture_on_commit_callbacks):
    tenant = make()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(lifecycle.TenantError) as refused:
        move(staff, tenant, HERE)
    assert "already there" in refused.value.message
    client.force_login(staff)
    url = reverse("staff-tenants:action", args=[tenant.environment.code, tenant.context_identifier])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "move", "public_endpoint": HERE, "webapi_url": HERE + "/api/"},
                               follow=True)
    assert "already there" in response.text
    assert received == [] and not AuditEntry.objects.exists()

"""Staff tenant pages: access, search and filters, the tenant page, actions, creating."""

import pytest
from django.core import mail
from django.urls import reverse

from audit.models import AuditEntry
from tenants.models import Environment, Tenant, TenantState
from tests.factories import TenantFactory, TenantMemberFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("staff-tenants:list")


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def detail_url(tenant):
    return reverse("staff-tenants:detail", args=[tenant.environment.code, tenant.context_identifier])


def action_url(tenant):
    return reverse("staff-tenants:action", args=[tenant.environment.code, tenant.context_identifier])


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get(LIST).status_code == 302


@pytest.mark.parametrize("name", ["list", "create"])
def test_non_staff_get_403_everywhere(client, name):
    tenant = TenantFactory()
    client.force_login(UserFactory())
    assert client.get(reverse(f"staff-tenants:{name}")).status_code == 403
    assert client.get(detail_url(tenant)).status_code == 403
    response = client.post(action_url(tenant), {"action": "suspend", "confirm": "on"})
    assert response.status_code == 403
    tenant.refresh_from_db()
    assert tenant.state == TenantState.RUNNING


def test_search_and_filters(staff_client):
    online = Environment.objects.get(code="online")
    TenantFactory(company_name="Alpha Tools", context_identifier="Cust30001")
    TenantFactory(company_name="Beta Foods", context_identifier="Cust30002", state=TenantState.SUSPENDED)
    TenantFactory(company_name="Gamma Alpha", context_identifier="Cust30003", environment=online)

    def names(**params):
        page = staff_client.get(LIST, params).context["page"]
        return sorted(t.company_name for t in page)

    assert names(q="alpha") == ["Alpha Tools", "Gamma Alpha"]
    assert names(q="Cust30002") == names(q=" cust30002 ") == ["Beta Foods"]
    assert names(q="3000") == ["Alpha Tools", "Beta Foods", "Gamma Alpha"]
    assert names(q="cust3000") == ["Alpha Tools", "Beta Foods", "Gamma Alpha"]
    assert names(q="Cust4") == []
    assert names(environment="online") == ["Gamma Alpha"]
    assert names(state=TenantState.SUSPENDED) == ["Beta Foods"]
    assert names(q="alpha", environment="sod") == ["Alpha Tools"]
    assert names(state="not-a-state") == ["Alpha Tools", "Beta Foods", "Gamma Alpha"]


def test_a_bad_filter_shows_its_error_and_the_others_still_apply(staff_client):
    TenantFactory(company_name="Alpha Tools", context_identifier="Cust30001")
    TenantFactory(company_name="Gamma Alpha", context_identifier="Cust30003",
                  environment=Environment.objects.get(code="stage"))
    response = staff_client.get(LIST, {"environment": "stage", "state": "99"})
    assert [t.company_name for t in response.context["page"]] == ["Gamma Alpha"]
    assert "Select a valid choice" in response.text
    assert response.context["form"].errors.keys() == {"state"}
    response = staff_client.get(LIST, {"environment": "moon", "q": "alpha tools"})
    assert [t.company_name for t in response.context["page"]] == ["Alpha Tools"]
    assert response.context["form"].errors.keys() == {"environment"}


def test_the_list_is_paginated_with_a_flat_query_count(staff_client, django_assert_num_queries):
    for _ in range(3):
        TenantMemberFactory(tenant=TenantFactory())
    staff_client.get(LIST)  # warm the session and the environments
    # session, user, the header's partner memberships and App-manager check, environment choices, count, page
    with django_assert_num_queries(7):
        first = staff_client.get(LIST)
    for _ in range(60):
        TenantFactory()
    with django_assert_num_queries(7):
        many = staff_client.get(LIST)
    assert first.status_code == many.status_code == 200
    assert len(many.context["page"].object_list) == 50 and many.context["page"].has_next()
    assert staff_client.get(LIST, {"page": 2}).context["page"].object_list.__len__() == 13


def test_the_tenant_page_shows_details_members_history_and_allowed_actions(staff_client,
                                                                           django_assert_num_queries):
    tenant = TenantFactory(state=TenantState.SUSPENDED, version_label="10.3", state_reason="Unpaid invoice")
    for _ in range(3):
        TenantMemberFactory(tenant=tenant)
    AuditEntry.objects.create(event_type="tenant.suspend", tenant_id=tenant.pk, message="Suspended by staff")
    staff_client.get(detail_url(tenant))
    # session, user, the header's partner memberships and App-manager check, tenant, members, audit entries
    with django_assert_num_queries(7):
        response = staff_client.get(detail_url(tenant))
    text = response.text
    assert "Unpaid invoice" in text and "10.3" in text and "Suspended by staff" in text
    actions = [item["action"] for item in response.context["actions"]]
    assert "resume" in actions and "delete" in actions and "suspend" not in actions
    assert len(response.context["members"]) == 3
    assert 'name="csrfmiddlewaretoken"' in text


def test_another_environments_tenant_is_a_404(staff_client):
    tenant = TenantFactory()
    assert staff_client.get(reverse("staff-tenants:detail", args=["online", tenant.context_identifier])
                            ).status_code == 404


def test_an_action_is_applied_and_audited_as_staff(staff_client, staff, django_capture_on_commit_callbacks):
    tenant = TenantFactory(state=TenantState.RUNNING)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(action_url(tenant), {"action": "upgrade", "version_label": "12.0"},
                                     follow=True)
    tenant.refresh_from_db()
    assert tenant.version_label == "12.0"
    assert "is now Running" in response.text
    entry = AuditEntry.objects.get(tenant_id=tenant.pk)
    assert entry.actor == staff and entry.source == AuditEntry.Source.REVIEW


def test_destructive_actions_need_confirmation(staff_client):
    tenant = TenantFactory(state=TenantState.RUNNING)
    response = staff_client.post(action_url(tenant), {"action": "delete"}, follow=True)
    assert "tick “I understand”" in response.text
    tenant.refresh_from_db()
    assert tenant.state == TenantState.RUNNING and not AuditEntry.objects.exists()
    staff_client.post(action_url(tenant), {"action": "delete", "confirm": "on"})
    tenant.refresh_from_db()
    assert tenant.state in (TenantState.DELETING, TenantState.DELETED)


@pytest.mark.parametrize(("data", "message"), [
    ({"action": "resume"}, "cannot be resumed"),
    ({"action": "upgrade", "version_label": ""}, "Enter the version"),
    ({"action": "move", "public_endpoint": "javascript:alert(1)", "webapi_url": "https://x.example/api/"},
     "https:// URL"),
    ({"action": "provisioned"}, "Unknown action"),
    ({"action": "drop-tables"}, "Unknown action"),
])
def test_refused_actions_say_why_and_change_nothing(staff_client, data, message):
    tenant = TenantFactory(state=TenantState.RUNNING, version_label="10.0")
    response = staff_client.post(action_url(tenant), data, follow=True)
    assert message in response.text
    tenant.refresh_from_db()
    assert tenant.state == TenantState.RUNNING and tenant.version_label == "10.0"
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(("data", "message"), [
    ({"action": "upgrade", "version_label": "1" * 65},
     "New version: Ensure this value has at most 64 characters"),
    ({"action": "suspend", "reason": "r" * 501, "confirm": "on"},
     "Reason: Ensure this value has at most 500 characters"),
    ({"action": "move", "public_endpoint": "https://x.example/" + "p" * 200, "webapi_url": "https://x.example/api/"},
     "New public endpoint: Ensure this value has at most 200 characters"),
    ({"action": "restore_backup", "backup": "b" * 201, "confirm": "on"},
     "Backup (date or name): Ensure this value has at most 200 characters"),
])
def test_too_long_fields_say_which_and_change_nothing(staff_client, data, message):
    tenant = TenantFactory(state=TenantState.RUNNING, version_label="10.0")
    response = staff_client.post(action_url(tenant), data, follow=True)
    assert message in response.text and "Unknown action" not in response.text
    tenant.refresh_from_db()
    assert tenant.state == TenantState.RUNNING and tenant.version_label == "10.0"
    assert not AuditEntry.objects.exists()


def test_fields_an_action_does_not_take_are_ignored(staff_client):
    tenant = TenantFactory(state=TenantState.RUNNING, version_label="10.0")
    staff_client.post(action_url(tenant), {"action": "upgrade", "version_label": "12.0", "reason": "r" * 600})
    tenant.refresh_from_db()
    assert tenant.version_label == "12.0"


def test_actions_are_post_only_and_need_csrf(staff):
    from django.test import Client

    tenant = TenantFactory(state=TenantState.RUNNING)
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    assert client.get(action_url(tenant), {"action": "suspend"}).status_code == 405
    assert client.post(action_url(tenant), {"action": "suspend", "confirm": "on"}).status_code == 403
    tenant.refresh_from_db()
    assert tenant.state == TenantState.RUNNING


def test_create_a_tenant(staff_client, django_capture_on_commit_callbacks):
    page = staff_client.get(reverse("staff-tenants:create"))
    assert page.status_code == 200 and 'name="csrfmiddlewaretoken"' in page.text
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("staff-tenants:create"), {
            "environment": "stage", "company_name": "Harbour AS", "admin_email": "boss@harbour.example"})
    tenant = Tenant.objects.get(company_name="Harbour AS")
    assert response.status_code == 302 and response.url == detail_url(tenant)
    assert tenant.environment.code == "stage" and tenant.state == TenantState.RUNNING
    assert mail.outbox[0].to == ["boss@harbour.example"]


def test_create_refuses_bad_input(staff_client):
    response = staff_client.post(reverse("staff-tenants:create"), {
        "environment": "moon", "company_name": "", "admin_email": "nope"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"environment", "company_name", "admin_email"}
    assert not Tenant.objects.exists()


def test_staff_navigation_links_to_tenants(staff_client, app_manager, client):
    assert LIST in staff_client.get(reverse("store:home")).text
    client.force_login(app_manager)
    assert LIST in client.get(reverse("review:queue")).text

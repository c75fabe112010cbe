"""The tenant lifecycle: every allowed and every refused transition, audit, notifications, tasks."""

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import User
from audit.models import AuditEntry
from tenants import tasks
from tenants.models import Tenant, TenantMember, TenantState
from tenants.services import lifecycle
from tenants.services.lifecycle import TRANSITIONS, TransitionNotAllowed, change_state
from tenants.signals import ChangeType, tenant_state_changed
from tests.factories import TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

ALL_CASES = [(action, state) for action in TRANSITIONS for state in TenantState]
ARGS = {"upgrade": {"fields": {"version_label": "11.0"}},
        "move": {"fields": {"public_endpoint": "https://new.example.com", "webapi_url": "https://new.example.com/api/"}}}


@pytest.fixture
def received():
    calls = []

    def receiver(sender, tenant, change_type, actor, **kwargs):
        calls.append((tenant.context_identifier, change_type, actor))

    tenant_state_changed.connect(receiver, dispatch_uid="test-lifecycle")
    yield calls
    tenant_state_changed.disconnect(dispatch_uid="test-lifecycle")


@pytest.mark.parametrize(("action", "state"), ALL_CASES)
def test_every_transition_is_applied_or_refused_as_the_table_says(action, state, received,
                                                                  django_capture_on_commit_callbacks):
    tenant = TenantFactory(state=state, version_label="10.0")
    target = TRANSITIONS[action].get(state)
    with django_capture_on_commit_callbacks(execute=True):
        if target is None:
            with pytest.raises(TransitionNotAllowed) as refused:
                change_state(actor=None, tenant=tenant, action=action, **ARGS.get(action, {}))
            assert tenant.context_identifier in refused.value.message
        else:
            change_state(actor=None, tenant=tenant, action=action, **ARGS.get(action, {}))
    tenant.refresh_from_db()
    entries = AuditEntry.objects.filter(tenant_id=tenant.pk)
    if target is None:
        assert tenant.state == state and tenant.version_label == "10.0"
        assert not entries.exists() and received == []
    else:
        assert tenant.state == target
        assert entries.get().event_type == f"tenant.{action}"
        expected = lifecycle.CHANGE_TYPES.get(action)
        assert received == ([(tenant.context_identifier, expected, None)] if expected is not None else [])


def test_the_table_names_only_known_states_and_every_staff_action():
    assert set(lifecycle.STAFF_ACTIONS) <= set(TRANSITIONS)
    assert set(lifecycle.OPERATIONS) == set(lifecycle.STAFF_ACTIONS)
    for moves in TRANSITIONS.values():
        assert all(TenantState(a) in TenantState and TenantState(b) in TenantState for a, b in moves.items())


def test_the_signal_is_sent_only_once_committed(received, django_capture_on_commit_callbacks):
    tenant = TenantFactory(state=TenantState.RUNNING)
    staff = UserFactory(is_staff=True)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lifecycle.suspend_tenant(actor=staff, tenant=tenant, reason="Unpaid invoice")
    assert received == []
    for callback in callbacks:
        callback()
    assert received == [(tenant.context_identifier, ChangeType.SUSPEND, staff)]
    tenant.refresh_from_db()
    assert tenant.state_reason == "Unpaid invoice"
    entry = AuditEntry.objects.get(tenant_id=tenant.pk)
    assert entry.actor == staff and entry.changes["state"] == ["Running", "Suspended"]


def test_non_staff_cannot_operate_tenants():
    tenant = TenantFactory(state=TenantState.RUNNING)
    with pytest.raises(PermissionDenied):
        lifecycle.suspend_tenant(actor=UserFactory(), tenant=tenant)
    tenant.refresh_from_db()
    assert tenant.state == TenantState.RUNNING and not AuditEntry.objects.exists()


def test_upgrade_and_move_validate_their_arguments():
    tenant = TenantFactory(state=TenantState.RUNNING, version_label="10.0", public_endpoint="https://a.example.com")
    with pytest.raises(ValidationError):
        lifecycle.upgrade_tenant(actor=None, tenant=tenant, version_label="  ")
    with pytest.raises(ValidationError):
        lifecycle.move_tenant(actor=None, tenant=tenant, public_endpoint="ftp://x", webapi_url="https://x/api/")
    with pytest.raises(ValidationError):
        lifecycle.move_tenant(actor=None, tenant=tenant, public_endpoint="https://x.example.com",
                              webapi_url="nope")
    tenant.refresh_from_db()
    assert tenant.version_label == "10.0" and tenant.public_endpoint == "https://a.example.com"
    lifecycle.upgrade_tenant(actor=None, tenant=tenant, version_label="11.2")
    lifecycle.move_tenant(actor=None, tenant=tenant, public_endpoint="https://b.example.com",
                          webapi_url="https://b.example.com/api/")
    tenant.refresh_from_db()
    assert (tenant.version_label, tenant.public_endpoint, tenant.webapi_url) == (
        "11.2", "https://b.example.com", "https://b.example.com/api/")
    move = AuditEntry.objects.get(event_type="tenant.move")
    assert move.changes["public_endpoint"] == ["https://a.example.com", "https://b.example.com"]


def test_create_allocates_the_next_context_identifier_and_provisions_through_the_task(
        django_capture_on_commit_callbacks):
    staff = UserFactory(is_staff=True)
    TenantFactory(serial=12000, context_identifier="Cust12000")
    TenantFactory(serial=500, context_identifier="Cust12001")  # its identifier is taken, whatever its serial
    with django_capture_on_commit_callbacks(execute=True):
        tenant = lifecycle.create_tenant(actor=staff, environment_code="sod",
                                         company_name="  Nordic   Tools ", admin_email="Boss@Nordic.example")
    tenant.refresh_from_db()
    assert (tenant.context_identifier, tenant.serial) == ("Cust12002", 12002)
    assert tenant.company_name == "Nordic Tools"
    assert tenant.state == TenantState.RUNNING
    assert tenant.webapi_url.endswith("/sandbox/sod/Cust12002/api/") and tenant.version_label
    admin = TenantMember.objects.get(tenant=tenant)
    assert admin.is_admin and admin.user.email == "boss@nordic.example"
    assert not admin.user.has_usable_password()
    assert [e.event_type for e in AuditEntry.objects.filter(tenant_id=tenant.pk).order_by("id")] == [
        "tenant.created", "tenant.member_added", "tenant.provisioned"]
    [message] = mail.outbox
    assert message.to == ["boss@nordic.example"] and "/accounts/password/reset/key/" in message.body


def test_the_set_password_link_works_for_the_invited_administrator(client,
                                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.create_tenant(actor=None, environment_code="sod", company_name="Link AS",
                                admin_email="new@link.example")
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password/reset/key/" in line)
    path = link.removeprefix(settings.SITE_URL)
    response = client.get(path, follow=True)
    assert response.status_code == 200 and "password1" in response.text
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else path
    response = client.post(form_url, {"password1": "a-Long-new-pass-123", "password2": "a-Long-new-pass-123"})
    assert response.status_code == 302
    assert User.objects.get(email="new@link.example").check_password("a-Long-new-pass-123")


def test_an_existing_account_is_invited_to_sign_in_not_to_set_a_password(django_capture_on_commit_callbacks):
    user = UserFactory(email="known@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.create_tenant(actor=None, environment_code="online", company_name="Known",
                                admin_email=user.email)
    assert "/accounts/login/" in mail.outbox[0].body and "/password/reset/" not in mail.outbox[0].body
    assert User.objects.filter(email="known@example.com").count() == 1


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"environment_code": "nowhere"}, "environment"),
    ({"company_name": "  "}, "company_name"),
    ({"admin_email": "not-an-address"}, "email"),
])
def test_create_refuses_bad_input_and_creates_nothing(kwargs, field):
    values = {"environment_code": "sod", "company_name": "X", "admin_email": "a@b.example", **kwargs}
    with pytest.raises(ValidationError) as refused:
        lifecycle.create_tenant(actor=None, **values)
    assert field in refused.value.message_dict
    assert not Tenant.objects.exists() and not User.objects.exists() and not AuditEntry.objects.exists()


def test_create_is_staff_only():
    with pytest.raises(PermissionDenied):
        lifecycle.create_tenant(actor=UserFactory(), environment_code="sod", company_name="X",
                                admin_email="a@b.example")
    assert not Tenant.objects.exists()


def test_a_failed_provisioning_keeps_its_reason_and_can_be_retried(monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    def broken(tenant):
        raise RuntimeError("no capacity in sod")

    monkeypatch.setattr(tasks, "build_crm", broken)
    with django_capture_on_commit_callbacks(execute=True):
        tenant = lifecycle.create_tenant(actor=None, environment_code="sod", company_name="X",
                                         admin_email="a@b.example")
    tenant.refresh_from_db()
    assert tenant.state == TenantState.PROVISIONING_FAILED
    assert tenant.state_reason == "RuntimeError: no capacity in sod"
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.retry_provisioning(actor=None, tenant=tenant)
    tenant.refresh_from_db()
    assert tenant.state == TenantState.RUNNING and tenant.state_reason == ""


def test_delete_goes_through_deleting_to_deleted(received, django_capture_on_commit_callbacks):
    tenant = TenantFactory(state=TenantState.SUSPENDED)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lifecycle.delete_tenant(actor=None, tenant=tenant, reason="Contract ended")
    tenant.refresh_from_db()
    assert tenant.state == TenantState.DELETING
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    tenant.refresh_from_db()
    assert tenant.state == TenantState.DELETED
    assert received == [(tenant.context_identifier, ChangeType.DELETE, None)]


def test_a_failed_deletion_is_delete_failed_with_its_reason(monkeypatch, django_capture_on_commit_callbacks):
    def broken(tenant):
        raise RuntimeError("disk busy")

    monkeypatch.setattr(tasks, "remove_crm", broken)
    tenant = TenantFactory(state=TenantState.RUNNING)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.delete_tenant(actor=None, tenant=tenant)
    tenant.refresh_from_db()
    assert tenant.state == TenantState.DELETE_FAILED and "disk busy" in tenant.state_reason


def test_tasks_skip_a_tenant_no_longer_waiting_for_them():
    tenant = TenantFactory(state=TenantState.RUNNING)
    assert tasks.provision_tenant(tenant.pk) == "skipped"
    assert tasks.delete_tenant(tenant.pk) == "skipped"
    assert tasks.provision_tenant(999999) == "skipped"
    tenant.refresh_from_db()
    assert tenant.state == TenantState.RUNNING

"""`manage.py tenant`: the same services as the staff pages, with clear refusals that change nothing."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import base as management_base
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError

from audit.models import AuditEntry
from tenants.models import Tenant, TenantMember, TenantState
from tenants.signals import ChangeType, tenant_state_changed
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("tenant", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def tenant():
    return TenantFactory(context_identifier="Cust4242", state=TenantState.RUNNING, version_label="10.0",
                         public_endpoint="https://old.example.com", webapi_url="https://old.example.com/api/")


@pytest.fixture
def received():
    calls = []

    def receiver(sender, tenant, change_type, **kwargs):
        calls.append(change_type)

    tenant_state_changed.connect(receiver, dispatch_uid="test-command")
    yield calls
    tenant_state_changed.disconnect(dispatch_uid="test-command")


def test_suspend_and_resume(tenant, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert "is now Suspended" in run("Cust4242", "suspend", "--reason", "Unpaid")
    tenant.refresh_from_db()
    assert tenant.state == TenantState.SUSPENDED and tenant.state_reason == "Unpaid"
    with django_capture_on_commit_callbacks(execute=True):
        assert "is now Running" in run("Cust4242", "resume")
    assert received == [ChangeType.SUSPEND, ChangeType.RESUME]
    assert list(AuditEntry.objects.filter(tenant_id=tenant.pk).values_list("source", flat=True)) == [
        AuditEntry.Source.SYSTEM] * 2


def test_upgrade_move_maintenance_restore(tenant):
    run("Cust4242", "upgrade", "--version", "11.1")
    run("Cust4242", "move", "--endpoint", "https://new.example.com")
    run("Cust4242", "start-maintenance", "--mode", "offline")
    run("Cust4242", "restore-backup", "--backup", "2026-12-01")
    tenant.refresh_from_db()
    assert tenant.version_label == "11.1" and tenant.webapi_url == "https://new.example.com/api/"
    assert tenant.state == TenantState.OFFLINE_MAINTENANCE
    run("Cust4242", "end-maintenance")
    tenant.refresh_from_db()
    assert tenant.state == TenantState.RUNNING
    restored = AuditEntry.objects.get(event_type="tenant.restore_backup")
    assert restored.message.startswith("Restored from backup 2026-12-01 — by manage.py (")


def test_delete_runs_the_task(tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run("Cust4242", "delete")
    tenant.refresh_from_db()
    assert tenant.state == TenantState.DELETED


def test_show_lists_the_allowed_actions(tenant):
    out = run("Cust4242", "show")
    assert "Running" in out and "suspend" in out and "resume" not in out.split("Allowed now:")[1]


def test_create(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        out = run("create", "--env", "stage", "--company", "Fjord AS", "--admin-email", "it@fjord.example")
    tenant = Tenant.objects.get(company_name="Fjord AS")
    assert tenant.context_identifier in out and tenant.environment.code == "stage"
    assert tenant.state == TenantState.RUNNING
    assert TenantMember.objects.get(tenant=tenant).user.email == "it@fjord.example"
    assert mail.outbox[0].to == ["it@fjord.example"]


@pytest.mark.parametrize(("args", "message"), [
    (("Cust9999", "suspend"), "No tenant 'Cust9999' in sod"),
    (("Cust4242", "suspend", "--env", "online"), "No tenant 'Cust4242' in online"),
    (("Cust4242", "explode"), "Unknown action 'explode'"),
    (("Cust4242", "resume"), "Running: it cannot be resumed"),
    (("Cust4242", "upgrade"), "upgrade needs --version"),
    (("Cust4242", "move"), "move needs --endpoint"),
    (("Cust4242", "move", "--endpoint", "not a url"), "public endpoint as an https:// URL"),
    (("Cust4242", "suspend", "--env", "moon"), "No environment 'moon'"),
    (("Cust4242", "delete", "--reason", "r" * 600), "A reason has at most 500 characters"),
    (("Cust4242", "suspend", "--reason", "r" * 501), "A reason has at most 500 characters"),
    (("Cust4242", "upgrade", "--version", "1" * 65), "A version label has at most 64 characters"),
    (("Cust4242", "restore-backup", "--backup", "b" * 201), "at most 200 characters"),
    (("Cust4242", "move", "--endpoint", "https://x.example/" + "p" * 200), "at most 200 characters"),
    (("create", "--company", "X"), "create needs --company and --admin-email"),
    (("create", "--company", "X", "--admin-email", "nope"), "Enter a valid e-mail address"),
    (("create", "suspend", "--company", "X", "--admin-email", "a@b.example"), "'create' takes no action"),
])
def test_refusals_are_clear_and_change_nothing(tenant, args, message):
    with pytest.raises(CommandError) as refused:
        run(*args)
    assert message in str(refused.value)
    tenant.refresh_from_db()
    assert tenant.state == TenantState.RUNNING and tenant.version_label == "10.0"
    assert tenant.public_endpoint == "https://old.example.com"
    assert Tenant.objects.count() == 1 and not AuditEntry.objects.exists()


def test_a_refusal_exits_non_zero_from_the_command_line(tenant, capsys, monkeypatch):
    # The command line closes every connection when done; the test's transaction must stay open.
    monkeypatch.setattr(management_base.connections, "close_all", lambda: None)
    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "tenant", "Cust4242", "resume"])
    assert exited.value.code != 0
    assert "cannot be resumed" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "tenant", "Cust4242", "suspend", "--mode", "sideways"])
    assert exited.value.code != 0
    tenant.refresh_from_db()
    assert tenant.state == TenantState.RUNNING


def test_the_history_names_the_operating_system_user(tenant, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr("getpass.getuser", lambda: "oncall")
    run("Cust4242", "suspend", "--reason", "Unpaid")
    run("Cust4242", "resume")
    with django_capture_on_commit_callbacks(execute=False):
        run("create", "--company", "Nord AS", "--admin-email", "first@nord.example")
    messages = list(AuditEntry.objects.order_by("pk").values_list("message", flat=True))
    assert messages[0] == "Unpaid — by manage.py (oncall)."
    assert messages[1] == "By manage.py (oncall)."
    assert all("by manage.py (oncall)" in message.lower() for message in messages)
    assert len(messages) == 4


def test_the_staff_pages_name_no_operating_system_user(tenant, app_manager, monkeypatch):
    from tenants.services.lifecycle import suspend_tenant

    monkeypatch.setattr("getpass.getuser", lambda: "oncall")
    suspend_tenant(actor=app_manager, tenant=tenant, reason="Unpaid")
    assert AuditEntry.objects.get().message == "Unpaid"


# Each command action, its extra arguments and the row of the transition table it applies.
COMMAND_ACTIONS = {
    "suspend": ((), "suspend"),
    "resume": ((), "resume"),
    "start-maintenance": (("--mode", "online"), "start_online_maintenance"),
    "end-maintenance": ((), "end_maintenance"),
    "upgrade": (("--version", "11.0"), "upgrade"),
    "move": (("--endpoint", "https://new.example.com"), "move"),
    "restore-backup": ((), "restore_backup"),
    "delete": ((), "delete"),
    "retry-provisioning": ((), "retry_provisioning"),
}


@pytest.mark.parametrize(("action", "state"), [(a, s) for a in COMMAND_ACTIONS for s in TenantState])
def test_every_command_action_in_every_state_follows_the_transition_table(action, state):
    from tenants.services.lifecycle import TRANSITIONS

    extra, row = COMMAND_ACTIONS[action]
    tenant = TenantFactory(context_identifier="Cust4343", state=state, version_label="10.0",
                           public_endpoint="https://old.example.com", webapi_url="https://old.example.com/api/")
    target = TRANSITIONS[row].get(state)
    if target is None:
        with pytest.raises(CommandError):
            run("Cust4343", action, *extra)
        tenant.refresh_from_db()
        assert tenant.state == state and tenant.version_label == "10.0"
        assert not AuditEntry.objects.filter(tenant_id=tenant.pk).exists()
    else:
        assert f"is now {TenantState(target).label}" in run("Cust4343", action, *extra)
        tenant.refresh_from_db()
        assert tenant.state == target

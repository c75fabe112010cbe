"""The partner's audit log: filters, pagination, old -> new values."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit import services as audit
from audit.models import AuditEntry
from tests.factories import AppFactory, PartnerMemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def log(partner_member):
    partner = partner_member.partner
    colleague = PartnerMemberFactory(partner=partner)
    app = AppFactory(partner=partner, name="Filtered App")
    other_app = AppFactory(partner=partner, name="Quiet App")
    audit.record(event_type="app_settings_changed", actor=partner_member.user, partner=partner, app=app,
                 message="Renamed the app", changes={"name": ["Old Name", "Filtered App"]})
    audit.record(event_type="listing_version_rejected", actor=colleague.user, partner=partner, app=other_app,
                 source=AuditEntry.Source.REVIEW, message="Rejected for blurry screenshots")
    old = audit.record(event_type="member_added", actor=colleague.user, partner=partner, message="Long ago")
    AuditEntry.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=40))
    return {"colleague": colleague, "app": app, "other_app": other_app}


def messages_on(response):
    return [entry.message for entry in response.context["page"]]


def test_entries_show_who_what_and_old_new_values(partner_client, partner_member, log):
    response = partner_client.get("/portal/audit/")
    html = response.content.decode()
    assert messages_on(response) == ["Rejected for blurry screenshots", "Renamed the app", "Long ago"]
    assert partner_member.user.email in html
    assert '<span class="diff-old">Old Name</span> → <span class="diff-new">Filtered App</span>' in html
    assert "app_settings_changed" in html


@pytest.mark.parametrize(("params", "expected"), [
    ({"source": "review"}, ["Rejected for blurry screenshots"]),
    ({"app": "APP"}, ["Renamed the app"]),
    ({"user": "COLLEAGUE"}, ["Rejected for blurry screenshots", "Long ago"]),
    ({"date_from": "RECENT"}, ["Rejected for blurry screenshots", "Renamed the app"]),
    ({"date_to": "OLD"}, ["Long ago"]),
])
def test_filters(partner_client, log, params, expected):
    values = {"APP": log["app"].pk, "COLLEAGUE": log["colleague"].user.pk,
              "RECENT": (timezone.now() - timedelta(days=7)).date().isoformat(),
              "OLD": (timezone.now() - timedelta(days=30)).date().isoformat()}
    query = {key: values.get(value, value) for key, value in params.items()}
    assert messages_on(partner_client.get("/portal/audit/", query)) == expected


def test_bad_date_range_is_named_on_the_field(partner_client, log):
    response = partner_client.get("/portal/audit/", {"date_from": "2030-01-02", "date_to": "2030-01-01"})
    assert "before the start date" in response.context["form"].errors["date_to"][0]
    assert 'value="2030-01-02"' in response.content.decode()


def test_pagination_by_fifty(partner_client, partner_member):
    for n in range(120):
        audit.record(event_type="app_settings_changed", partner=partner_member.partner, message=f"Entry {n}")
    first = partner_client.get("/portal/audit/", {"source": "portal"})
    assert len(first.context["page"]) == 50
    html = first.content.decode()
    assert "Page 1 of 3" in html and "?source=portal&amp;page=2" in html
    last = partner_client.get("/portal/audit/", {"source": "portal", "page": 3})
    assert len(last.context["page"]) == 20
    assert messages_on(last)[-1] == "Entry 0"

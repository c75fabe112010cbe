"""Staff pages for apps: the list and the staff-only settings (certification, audit, beta...)."""

import pytest
from django.urls import reverse

from appstore.models import App, ReviewStatus
from audit.models import AuditEntry
from tests.factories import AppFactory, PartnerMemberFactory

pytestmark = pytest.mark.django_db


def test_staff_sets_certification_and_security_audit(staff_client, app_manager):
    app = AppFactory(is_beta=True)
    response = staff_client.post(reverse("review:app", args=[app.pk]), {
        "partner": app.partner_id, "is_beta": "", "certification_status": ReviewStatus.PASSED,
        "security_audit_status": ReviewStatus.IN_REVIEW,
    })
    assert response.status_code == 302
    app.refresh_from_db()
    assert (app.certification_status, app.security_audit_status, app.is_beta) == (
        ReviewStatus.PASSED, ReviewStatus.IN_REVIEW, False)
    entry = AuditEntry.objects.get(event_type="app_settings_changed", app_id=app.pk)
    assert entry.changes["certification_status"] == ["not_started", "passed"]
    assert entry.changes["is_beta"] == [True, False]
    assert entry.actor == app_manager


def test_bad_status_is_named_and_nothing_changes(staff_client):
    app = AppFactory()
    response = staff_client.post(reverse("review:app", args=[app.pk]), {
        "partner": app.partner_id, "certification_status": "great", "security_audit_status": "passed"})
    assert response.status_code == 200
    assert "certification_status" in response.context["form"].errors
    app.refresh_from_db()
    assert app.security_audit_status == ReviewStatus.NOT_STARTED


def test_partners_cannot_reach_the_staff_app_pages(client):
    member = PartnerMemberFactory(can_app_store=True, can_configuration=True, can_users=True)
    app = AppFactory(partner=member.partner)
    client.force_login(member.user)
    assert client.get(reverse("review:apps")).status_code == 403
    response = client.post(reverse("review:app", args=[app.pk]), {
        "partner": app.partner_id, "certification_status": "passed", "security_audit_status": "passed"})
    assert response.status_code == 403
    assert App.objects.get(pk=app.pk).certification_status == ReviewStatus.NOT_STARTED


def test_app_list_filters_and_keeps_queries_flat(staff_client, django_assert_num_queries):
    custom = AppFactory(name="Custom One", is_custom=True)
    AppFactory(name="Standard One", certification_status=ReviewStatus.PASSED)
    html = staff_client.get(reverse("review:apps"), {"kind": "custom"}).content.decode()
    assert custom.name in html and "Standard One" not in html
    html = staff_client.get(reverse("review:apps"), {"certification_status": "passed"}).content.decode()
    assert "Standard One" in html and custom.name not in html
    # session, user, count, page of apps with partners (+ the queue badge counts)
    with django_assert_num_queries(7):
        staff_client.get(reverse("review:apps"))
    AppFactory.create_batch(4)
    with django_assert_num_queries(7):
        staff_client.get(reverse("review:apps"))


def test_moving_an_app_to_another_partner_moves_its_contacts_there(staff_client):
    old_member = PartnerMemberFactory()
    app = AppFactory(partner=old_member.partner, technical_contact=old_member.user,
                     error_report_emails=old_member.user.email)
    heir = PartnerMemberFactory()
    new_owner = heir.partner
    new_owner.technical_contact = heir.user
    new_owner.save()
    response = staff_client.post(reverse("review:app", args=[app.pk]), {
        "partner": new_owner.pk, "certification_status": "not_started",
        "security_audit_status": "not_started"})
    assert response.status_code == 302
    app.refresh_from_db()
    assert (app.partner, app.technical_contact, app.error_report_emails) == (
        new_owner, heir.user, heir.user.email)
    assert AuditEntry.objects.filter(event_type="app_technical_contact_changed", app_id=app.pk).exists()


def test_moving_an_app_to_a_partner_without_contacts_is_refused(staff_client):
    old_member = PartnerMemberFactory()
    app = AppFactory(partner=old_member.partner, technical_contact=old_member.user)
    bare = PartnerMemberFactory().partner  # no technical or administrative contact set
    response = staff_client.post(reverse("review:app", args=[app.pk]), {
        "partner": bare.pk, "certification_status": "not_started", "security_audit_status": "not_started"})
    assert response.status_code == 200
    assert "partner" in response.context["form"].errors
    assert App.objects.get(pk=app.pk).partner == old_member.partner

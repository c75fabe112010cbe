"""Staff review of configuration publish requests: the comparison, decisions, staff-only settings."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.services import ensure_user
from appstore.models import AuthorizationLevel, ConfigurationVersion, VersionState
from appstore.selectors.configuration import live_configuration
from appstore.services import configuration as services
from appstore.services import configuration_review as review_services
from audit.models import AuditEntry
from tests.factories import AppFactory, ConfigurationFactory, PartnerMemberFactory, environment


@pytest.fixture
def app(partner_member):
    return AppFactory(partner=partner_member.partner, technical_contact=partner_member.user)


@pytest.fixture
def live(app):
    return ConfigurationFactory(app=app, label="1.0", state=VersionState.PUBLISHED,
                                published_at=timezone.now(),
                                agents=[], consent_text="Old consent")


@pytest.fixture
def pending(app, live):
    return ConfigurationFactory(app=app, label="1.1", state=VersionState.PENDING, submitted_at=timezone.now(),
                                agents=["Webhook"], consent_text="New consent",
                                redirect_urls={"all": ["https://app.example.com/callback"],
                                               "online": ["https://prod.example.com/cb"]})


def url(version: ConfigurationVersion) -> str:
    return reverse("review:configuration", args=[version.pk])


def seen(client, version: ConfigurationVersion) -> str:
    response = client.get(url(version))
    fingerprint = response.context["fingerprint"]
    assert f'name="seen_fingerprint" value="{fingerprint}"' in response.content.decode()
    return fingerprint


# ---------------------------------------------------------------- the page

@pytest.mark.django_db
def test_every_field_side_by_side_with_the_live_version(staff_client, live, pending):
    response = staff_client.get(url(pending))
    assert response.status_code == 200
    assert response.context["baseline"] == live
    rows = {row.key: row for row in response.context["rows"]}
    assert rows["consent_text"].old == ["Old consent"] and rows["consent_text"].new == ["New consent"]
    assert rows["consent_text"].changed and rows["agents"].changed
    assert rows["redirect_urls-online"].new == ["https://prod.example.com/cb"]
    assert rows["redirect_urls-online"].changed
    assert not rows["redirect_urls-all"].changed
    assert rows["endpoint-state_change"].new == ["https://app.example.com/state", "On", "Error e-mails on"]
    assert {"label", "claims", "custom_claims", "authorization_level", "endpoint-mirroring",
            "cors_origins-sod", "post_logout_redirect_urls-stage"} <= set(rows)
    html = response.content.decode()
    assert 'class="changed-row"' in html and "diff-old" in html and "diff-new" in html
    assert "Live version 1.0" in html
    assert "This version widens what the app can reach:</strong> webhooks" in html
    assert response.context["widened"] == ["webhooks"]


@pytest.mark.django_db
def test_page_queries_do_not_grow_with_versions(staff_client, partner_member, django_assert_num_queries):
    app = AppFactory(partner=partner_member.partner, configured=False)
    pending = ConfigurationFactory(app=app, label="1.1", state=VersionState.PENDING)
    staff_client.get(url(pending))
    with django_assert_num_queries(8) as one:  # one version: nothing live to compare with
        assert staff_client.get(url(pending)).context["baseline"] is None
    live = ConfigurationFactory(app=app, label="1.0", state=VersionState.PUBLISHED,
                                published_at=timezone.now())
    ConfigurationFactory(app=app, label="0.9", environment=environment("sod"), state=VersionState.PUBLISHED,
                         published_at=timezone.now())
    with django_assert_num_queries(len(one.captured_queries)):  # three versions
        response = staff_client.get(url(pending))
    assert response.context["baseline"] == live and len(response.context["others"]) == 2


@pytest.mark.django_db
def test_only_app_managers_reach_the_page(client, partner_member, pending):
    assert client.get(url(pending)).status_code == 302  # to sign-in
    client.force_login(partner_member.user)
    assert client.get(url(pending)).status_code == 403
    assert client.post(url(pending), {"action": "approve"}).status_code == 403
    plain_staff = ensure_user(email="staff@example.com", password="test-password-123", is_staff=True)
    client.force_login(plain_staff)
    assert client.get(url(pending)).status_code == 403
    pending.refresh_from_db()
    assert pending.state == VersionState.PENDING
    assert client.get(reverse("review:configuration", args=[999999])).status_code == 403


@pytest.mark.django_db
def test_unknown_version_is_404_for_staff(staff_client):
    assert staff_client.get(reverse("review:configuration", args=[999999])).status_code == 404


# ---------------------------------------------------------------- decisions

@pytest.mark.django_db
def test_approve_publishes_and_supersedes(staff_client, live, pending, app_manager):
    response = staff_client.post(url(pending), {"action": "approve",
                                                "seen_fingerprint": seen(staff_client, pending)})
    assert response.status_code == 302 and response["Location"] == reverse("review:queue")
    pending.refresh_from_db()
    live.refresh_from_db()
    assert pending.is_live and pending.reviewed_by == app_manager
    assert live.superseded_at is not None
    page = staff_client.get(url(pending)).content.decode()
    assert "This version is published" in page and "Approve 1.1" not in page


@pytest.mark.django_db
def test_reject_needs_a_reason(staff_client, pending):
    fingerprint = seen(staff_client, pending)
    response = staff_client.post(url(pending), {"action": "reject", "reason": "",
                                                "seen_fingerprint": fingerprint})
    assert response.status_code == 400
    assert "Reason: Say why the version is rejected" in response.content.decode()
    reason = "The online URL is a test server."
    response = staff_client.post(url(pending), {"action": "reject", "reason": reason,
                                                "seen_fingerprint": fingerprint})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert (pending.state, pending.review_reason) == (VersionState.REJECTED, reason)


@pytest.mark.django_db
def test_decision_about_changed_content_is_refused(staff_client, partner_member, pending):
    fingerprint = seen(staff_client, pending)
    user = partner_member.user
    services.withdraw_configuration_request(actor=user, version=pending)
    services.update_configuration_version(actor=user, version=pending,
                                          consent_text="Swapped after the page opened")
    services.publish_configuration(actor=user, version=pending)

    response = staff_client.post(url(pending), {"action": "approve", "seen_fingerprint": fingerprint},
                                 follow=True)
    assert "changed after you opened it" in response.content.decode()
    response = staff_client.post(url(pending), {"action": "reject", "reason": "Typed reason",
                                                "seen_fingerprint": fingerprint})
    assert response.status_code == 409 and "Typed reason" in response.content.decode()
    pending.refresh_from_db()
    assert pending.state == VersionState.PENDING


@pytest.mark.django_db
def test_custom_app_page_says_what_stage_approval_does(staff_client, partner_member):
    app = AppFactory(partner=partner_member.partner, is_custom=True)
    version = ConfigurationFactory(app=app, state=VersionState.PENDING)
    html = staff_client.get(url(version)).content.decode()
    assert "also publishes this configuration to online at the Explicit authorization level" in html
    response = staff_client.post(url(version), {"action": "approve",
                                                "seen_fingerprint": seen(staff_client, version)}, follow=True)
    online = live_configuration(app, "online")
    assert online.authorization_level == AuthorizationLevel.EXPLICIT
    assert "live in stage and online" in response.content.decode()


# ---------------------------------------------------------------- staff-only settings

@pytest.mark.django_db
def test_staff_edit_the_staff_settings_of_a_draft(staff_client, app):
    draft = ConfigurationFactory(app=app)
    page = staff_client.get(url(draft))
    assert 'name="claims"' in page.content.decode()
    data = {"api_endpoints": "WebAPI\nServices88", "agents": "Webhook\nErpSync", "claims": "SystemToken",
            "custom_claims": "region = eu", "authorization_level": "explicit",
            "seen_updated_at": draft.updated_at.isoformat()}
    response = staff_client.post(reverse("review:configuration_staff_settings", args=[draft.pk]), data)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.api_endpoints == ["WebAPI", "Services88"]
    assert (draft.agents, draft.claims) == (["Webhook", "ErpSync"], ["SystemToken"])
    assert draft.custom_claims == {"region": "eu"} and draft.authorization_level == "explicit"
    entry = AuditEntry.objects.get(event_type="configuration_version_updated", target_id=draft.pk)
    assert entry.source == AuditEntry.Source.REVIEW and entry.changes["claims"] == [[], ["SystemToken"]]
    # the same form again is stale now
    stale = staff_client.post(reverse("review:configuration_staff_settings", args=[draft.pk]),
                              {**data, "claims": ""})
    assert stale.status_code == 409
    draft.refresh_from_db()
    assert draft.claims == ["SystemToken"]


@pytest.mark.django_db
def test_staff_settings_of_a_pending_version_are_locked(staff_client, pending):
    assert 'name="claims"' not in staff_client.get(url(pending)).content.decode()
    response = staff_client.post(reverse("review:configuration_staff_settings", args=[pending.pk]),
                                 {"claims": "SystemToken", "authorization_level": "administrator"},
                                 follow=True)
    assert "This version is locked" in response.content.decode()
    pending.refresh_from_db()
    assert pending.claims == []


@pytest.mark.django_db
def test_staff_settings_need_an_app_manager(client, partner_member, app):
    draft = ConfigurationFactory(app=app)
    client.force_login(PartnerMemberFactory(partner=partner_member.partner).user)
    response = client.post(reverse("review:configuration_staff_settings", args=[draft.pk]),
                           {"claims": "SystemToken", "authorization_level": "administrator"})
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.claims == []


# ---------------------------------------------------------------- two reviewers at once

@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_staff_approving_at_once_leave_one_approval(reference_data):
    member = PartnerMemberFactory()
    app = AppFactory(partner=member.partner, technical_contact=member.user)
    live = ConfigurationFactory(app=app, label="1.0", state=VersionState.PUBLISHED,
                                published_at=timezone.now())
    pending = ConfigurationFactory(app=app, label="1.1", state=VersionState.PENDING,
                                   submitted_at=timezone.now())
    reviewers = [ensure_user(email=f"reviewer{n}@example.com", password="test-password-123", is_staff=True,
                             app_manager=True) for n in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(reviewer):
        try:
            barrier.wait(timeout=10)
            version = ConfigurationVersion.objects.get(pk=pending.pk)
            review_services.approve_configuration(actor=reviewer, version=version)
            outcomes.append("approved")
        except ValidationError as exc:
            outcomes.append(exc.code or "refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(reviewer,)) for reviewer in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["approved", "not_pending"]
    pending.refresh_from_db()
    live.refresh_from_db()
    assert pending.state == VersionState.PUBLISHED and live.superseded_at is not None
    assert ConfigurationVersion.objects.filter(app=app, environment__code="stage",
                                               state=VersionState.PUBLISHED,
                                               superseded_at__isnull=True).count() == 1
    assert AuditEntry.objects.filter(event_type="configuration_version_published",
                                     target_id=pending.pk).count() == 1


# ---------------------------------------------------------------- what the page says, and limits

@pytest.mark.django_db
@pytest.mark.parametrize(("state", "says", "never"), [
    (VersionState.PUBLISHED, "Existing tenant authorizations were marked “needs re-approval”.",
     "Approving it"),
    (VersionState.PENDING, "Approving it marks every existing tenant authorization in stage", "were marked"),
    (VersionState.REJECTED, "this version would widen what the app can reach", "were marked"),
    (VersionState.DRAFT, "this version would widen what the app can reach", "were marked"),
])
def test_re_approval_sentence_only_where_it_is_true(staff_client, app, live, state, says, never):
    extra = {}
    if state == VersionState.PUBLISHED:
        extra = {"published_at": timezone.now(), "widened": ["webhooks"]}
        live.superseded_at = timezone.now()
        live.save()
    version = ConfigurationFactory(app=app, label="1.1", state=state, agents=["Webhook"], **extra)
    html = staff_client.get(url(version)).content.decode()
    assert "webhooks" in html and says in html
    assert never not in html


@pytest.mark.django_db
def test_no_widened_box_when_nothing_widens(staff_client, app, live):
    live.superseded_at = timezone.now()
    live.save()
    version = ConfigurationFactory(app=app, label="1.1", state=VersionState.PUBLISHED, agents=[],
                                   published_at=timezone.now(), widened=[])
    html = staff_client.get(url(version)).content.decode()
    assert "re-approval" not in html and "config-widened" not in html


@pytest.mark.django_db
def test_reject_reason_is_capped_with_a_clear_message(staff_client, pending):
    fingerprint = seen(staff_client, pending)
    page = staff_client.get(url(pending)).content.decode()
    assert 'maxlength="5000"' in page
    response = staff_client.post(url(pending), {"action": "reject", "reason": "x" * 20_000,
                                                "seen_fingerprint": fingerprint})
    assert response.status_code == 400
    assert ("Reason: A reason may have at most 5000 characters; this one has 20000. Shorten it."
            in response.content.decode())
    pending.refresh_from_db()
    assert pending.state == VersionState.PENDING and pending.review_reason == ""


def test_the_shared_reject_form_caps_the_reason():
    from appstore.views.review import RejectForm

    assert RejectForm({"reason": "y" * 5000}).is_valid()
    form = RejectForm({"reason": "y" * 5001})
    assert not form.is_valid()
    assert form.errors["reason"] == ["A reason may have at most 5000 characters; this one has 5001. "
                                     "Shorten it."]


@pytest.mark.django_db
def test_staff_setting_error_does_not_echo_a_huge_value(staff_client, app):
    draft = ConfigurationFactory(app=app)
    value = "W" + "!" * 100_000
    response = staff_client.post(reverse("review:configuration_staff_settings", args=[draft.pk]), {
        "api_endpoints": value, "authorization_level": "administrator",
        "seen_updated_at": draft.updated_at.isoformat()})
    assert response.status_code == 400
    error = response.context["staff_form"].errors["api_endpoints"][0]
    assert error.startswith("Not a valid name: W!!!") and len(error) < 200
    assert response.content.decode().count(value) == 1  # only in the kept box
    draft.refresh_from_db()
    assert draft.api_endpoints == ["WebAPI"]


@pytest.mark.django_db
def test_stale_staff_settings_keep_the_typed_values_and_a_second_save_works(staff_client, app, app_manager):
    draft = ConfigurationFactory(app=app)
    data = {"api_endpoints": "WebAPI", "agents": "Webhook", "claims": "PersonId", "custom_claims": "",
            "authorization_level": "administrator", "seen_updated_at": draft.updated_at.isoformat()}
    services.update_configuration_version(actor=app_manager, version=draft, claims=["SystemToken"])
    draft.refresh_from_db()
    target = reverse("review:configuration_staff_settings", args=[draft.pk])

    response = staff_client.post(target, data)

    assert response.status_code == 409
    html = response.content.decode()
    assert "Not saved — someone changed this version since you opened it." in html
    assert "correct these fields" not in html
    assert response.context["staff_form"]["seen_updated_at"].value() == draft.updated_at.isoformat()
    assert "PersonId</textarea>" in html
    again = staff_client.post(target, {**data, "seen_updated_at": draft.updated_at.isoformat()})
    assert again.status_code == 302
    draft.refresh_from_db()
    assert draft.claims == ["PersonId"]

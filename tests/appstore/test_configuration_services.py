"""Configuration versions through the services: drafts, saving, publishing, review, custom apps."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from appstore.models import (
    AppClient,
    AuthorizationLevel,
    ClientCertificate,
    ConfigurationVersion,
    VersionState,
)
from appstore.selectors.configuration import (
    configuration_change_log,
    configuration_of,
    configuration_versions_of,
    live_configuration,
    pending_configurations,
)
from appstore.services import configuration as services
from appstore.services import configuration_fields
from appstore.services import configuration_review as review_services
from appstore.signals import configuration_published
from audit.models import AuditEntry
from tests.factories import AppFactory, ConfigurationFactory, PartnerMemberFactory, environment

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(partner_member):
    return AppFactory(partner=partner_member.partner, technical_contact=partner_member.user,
                      configured__redirect_urls={"all": ["https://app.example.com/callback"],
                                                 "sod": ["http://localhost:5000/cb"]},
                      configured__consent_text="Reads your companies.")


@pytest.fixture
def user(partner_member):
    return partner_member.user


def sod_live(app) -> ConfigurationVersion:
    return live_configuration(app, "sod")


def certificate(app, env_code: str) -> ClientCertificate:
    client = AppClient.objects.get(app=app, environment__code=env_code)
    return ClientCertificate.objects.create(
        client=client, public_key_pem="-----BEGIN PUBLIC KEY-----\n...", key_bits=2048,
        fingerprint="ab" * 32, expires_at=timezone.now() + timedelta(days=365), origin="uploaded")


def complete(version: ConfigurationVersion, user) -> ConfigurationVersion:
    return services.update_configuration_version(
        actor=user, version=version, consent_text="Reads and updates companies.",
        endpoints={"state_change": {"url": "https://app.example.com/state", "enabled": True,
                                    "send_error_emails": True}})


# ---------------------------------------------------------------- new versions

def test_new_version_copies_the_latest_version_of_any_environment(app, user):
    source = sod_live(app)
    source.custom_claims = {"tier": "gold"}
    source.endpoints = {"erp_sync": {"url": "https://erp.example.com/", "enabled": True,
                                     "send_error_emails": False}}
    source.cors_origins = {"all": ["https://app.example.com"]}
    source.save()

    draft = services.create_configuration_version(actor=user, app=app, environment=environment("stage"))

    assert (draft.label, draft.state, draft.environment.code) == ("1.1", VersionState.DRAFT, "stage")
    assert draft.redirect_urls == source.redirect_urls
    assert draft.cors_origins == {"all": ["https://app.example.com"]}
    assert draft.endpoints == source.endpoints
    assert draft.consent_text == "Reads your companies."
    assert (draft.api_endpoints, draft.agents) == (["WebAPI"], ["Webhook"])
    assert draft.custom_claims == {"tier": "gold"}
    entry = configuration_change_log(draft).get()
    assert entry.event_type == "configuration_version_created"
    assert entry.changes == {"label": [None, "1.1"], "environment": [None, "stage"]}


def test_new_version_takes_a_label_the_partner_chooses(app, user):
    draft = services.create_configuration_version(actor=user, app=app, environment="online", label="2.0")
    assert draft.label == "2.0"
    assert services.next_label("2.9") == "2.10" and services.next_label("beta") == "beta.1"


def test_new_version_refused_while_one_is_open_in_that_environment(app, user):
    first = services.create_configuration_version(actor=user, app=app, environment="stage")
    for state in (VersionState.DRAFT, VersionState.PENDING, VersionState.REJECTED):
        ConfigurationVersion.objects.filter(pk=first.pk).update(state=state)
        with pytest.raises(ValidationError) as excinfo:
            services.create_configuration_version(actor=user, app=app, environment="stage")
        assert "1.1 for stage is still open" in excinfo.value.messages[0]
    # Another environment is independent.
    other = services.create_configuration_version(actor=user, app=app, environment="sod")
    assert other.environment.code == "sod"
    assert app.configuration_versions.filter(environment__code="stage").count() == 1


def test_a_sod_copy_of_a_production_version_gets_the_sod_authorization_level(app, user):
    ConfigurationFactory(app=app, environment=environment("online"), label="3.0",
                         state=VersionState.PUBLISHED, published_at=timezone.now(),
                         authorization_level=AuthorizationLevel.EXPLICIT)
    stage = services.create_configuration_version(actor=user, app=app, environment="stage")
    ConfigurationVersion.objects.filter(pk=stage.pk).update(created_at=timezone.now() - timedelta(days=1))
    sod = services.create_configuration_version(actor=user, app=app, environment="sod")
    assert (stage.label, sod.label) == ("3.1", "3.1")
    assert sod.authorization_level == AuthorizationLevel.ADMINISTRATOR
    assert stage.authorization_level == AuthorizationLevel.EXPLICIT


def test_configuration_permission_needed_for_every_write(app, partner_member, app_manager):
    reader = PartnerMemberFactory(partner=partner_member.partner, can_configuration=False).user
    draft = ConfigurationFactory(app=app)
    pending = ConfigurationFactory(app=app, environment=environment("online"), state=VersionState.PENDING)
    calls = [
        lambda: services.create_configuration_version(actor=reader, app=app, environment="sod"),
        lambda: services.update_configuration_version(actor=reader, version=draft, label="9"),
        lambda: services.publish_configuration(actor=reader, version=draft),
        lambda: services.withdraw_configuration_request(actor=reader, version=pending),
        lambda: services.set_custom_customer(actor=reader, app=app, customer_name="A",
                                             context_identifier="Cust1"),
        lambda: review_services.approve_configuration(actor=reader, version=pending),
        lambda: review_services.reject_configuration(actor=reader, version=pending, reason="No"),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    draft.refresh_from_db()
    pending.refresh_from_db()
    assert (draft.label, pending.state) == ("1.1", VersionState.PENDING)


# ---------------------------------------------------------------- saving

def test_update_saves_fields_and_logs_old_and_new_values(app, user):
    draft = ConfigurationFactory(app=app)
    services.update_configuration_version(
        actor=user, version=draft, label="1.2",
        redirect_urls={"all": [" https://app.example.com/callback ", "https://app.example.com/callback"],
                       "stage": [r"^https://([a-z]+\.)?stage\.example\.com/cb$"], "online": []},
        endpoints={"mirroring": {"url": "https://mirror.example.com/", "enabled": False,
                                 "send_error_emails": True},
                   "quote": {"url": "", "enabled": False, "send_error_emails": True}})
    draft.refresh_from_db()
    assert draft.label == "1.2"
    assert draft.redirect_urls == {"all": ["https://app.example.com/callback"],
                                   "stage": [r"^https://([a-z]+\.)?stage\.example\.com/cb$"]}
    assert draft.endpoints == {"mirroring": {"url": "https://mirror.example.com/", "enabled": False,
                                             "send_error_emails": True}}
    entry = configuration_change_log(draft).get(event_type="configuration_version_updated")
    assert entry.changes["label"] == ["1.1", "1.2"]
    assert entry.changes["redirect_urls"][1]["stage"] == [r"^https://([a-z]+\.)?stage\.example\.com/cb$"]
    assert set(entry.changes) == {"label", "redirect_urls", "endpoints"}
    assert entry.target_id == draft.pk and entry.actor == user


def test_update_refuses_bad_urls_naming_the_field_scope_and_line(app, user):
    draft = ConfigurationFactory(app=app)
    with pytest.raises(ValidationError) as excinfo:
        services.update_configuration_version(
            actor=user, version=draft,
            redirect_urls={"online": ["https://ok.example.com/cb", "http://localhost:5000/cb"]},
            cors_origins={"all": ["https://app.example.com/path"]},
            endpoints={"erp_sync": {"url": "http://erp.example.com/", "enabled": True}})
    errors = excinfo.value.message_dict
    assert errors["redirect_urls"][0].startswith(
        "online: Line 2 (http://localhost:5000/cb): http:// is not allowed in online")
    assert "no path" in errors["cors_origins"][0]
    assert errors["endpoints"][0].startswith("ERP sync endpoint URL: Use https://")
    draft.refresh_from_db()
    assert draft.redirect_urls == {"all": ["https://app.example.com/callback"]}


def test_native_apps_may_use_loopback_http_in_every_environment(partner_member):
    app = AppFactory(partner=partner_member.partner, template="native", is_native=True)
    draft = ConfigurationFactory(app=app, environment=environment("online"))
    services.update_configuration_version(actor=partner_member.user, version=draft,
                                          redirect_urls={"all": [r"^http://127.0.0.1\:\d{4,10}$"]})
    draft.refresh_from_db()
    assert draft.redirect_urls == {"all": [r"^http://127.0.0.1\:\d{4,10}$"]}


def test_staff_only_fields_need_an_app_manager(app, user, app_manager):
    draft = ConfigurationFactory(app=app)
    with pytest.raises(PermissionDenied, match="Only platform staff"):
        services.update_configuration_version(actor=user, version=draft, claims=["SystemToken"])
    services.update_configuration_version(actor=app_manager, version=draft, claims=["SystemToken"],
                                          custom_claims={"region": "eu"},
                                          authorization_level=AuthorizationLevel.EXPLICIT)
    draft.refresh_from_db()
    assert draft.claims == ["SystemToken"] and draft.custom_claims == {"region": "eu"}
    assert draft.authorization_level == AuthorizationLevel.EXPLICIT
    entry = configuration_change_log(draft).get()
    assert entry.source == AuditEntry.Source.REVIEW and entry.changes["claims"] == [[], ["SystemToken"]]
    with pytest.raises(ValidationError):
        services.update_configuration_version(actor=app_manager, version=draft, agents=["Web hook!"])


@pytest.mark.parametrize("state", [VersionState.PENDING, VersionState.PUBLISHED])
def test_pending_and_published_versions_are_locked(app, user, app_manager, state):
    version = ConfigurationFactory(app=app, state=state,
                                   published_at=timezone.now() if state == VersionState.PUBLISHED else None)
    for actor, fields in ((user, {"label": "9.9"}), (app_manager, {"claims": ["SystemToken"]})):
        with pytest.raises(ValidationError, match="This version is locked"):
            services.update_configuration_version(actor=actor, version=version, **fields)
    version.refresh_from_db()
    assert (version.label, version.claims) == ("1.1", [])
    assert not configuration_change_log(version).exists()


def test_stale_form_is_refused_and_nothing_changes(app, user):
    draft = ConfigurationFactory(app=app)
    opened = draft.updated_at
    services.update_configuration_version(actor=user, version=draft, seen_updated_at=opened,
                                          consent_text="Saved by a colleague.")
    with pytest.raises(ValidationError) as excinfo:
        services.update_configuration_version(actor=user, version=draft, seen_updated_at=opened.isoformat(),
                                              label="7.0", consent_text="Mine.")
    assert excinfo.value.code == "stale_version"
    assert excinfo.value.messages == ["This version changed since you opened it; reload the page."]
    draft.refresh_from_db()
    assert (draft.label, draft.consent_text) == ("1.1", "Saved by a colleague.")
    assert configuration_change_log(draft).count() == 1


# ---------------------------------------------------------------- what publishing needs

def test_missing_for_publish_lists_what_blocks_a_request(app, user):
    draft = ConfigurationFactory(app=app, redirect_urls={"sod": ["https://only-sod.example.com/cb"]},
                                 endpoints={"mirroring": {"url": "", "enabled": True}}, consent_text="")
    missing = services.missing_for_publish(draft)
    assert missing == [
        "Redirect URLs: add at least one that applies in stage (under All environments or stage).",
        "Customer state change endpoint URL is required for standard apps in stage and online.",
        "Database mirroring endpoint is switched on but has no URL.",
        "Consent text is required for stage and online: customers read it before they approve the app.",
    ]
    app.is_custom = True
    app.template = "server"
    app.save()
    draft.endpoints = {}
    draft.refresh_from_db(fields=["app"])
    assert services.missing_for_publish(draft) == [missing[-1]]


def test_sod_needs_neither_consent_text_nor_state_change_endpoint(app, user):
    draft = ConfigurationFactory(app=app, environment=environment("sod"), endpoints={}, consent_text="")
    assert services.missing_for_publish(draft) == []


def test_stored_entries_refused_by_the_rules_block_publishing(app):
    draft = ConfigurationFactory(app=app, cors_origins={"all": ["http://localhost:3000"]})
    assert services.missing_for_publish(draft) == [
        "CORS origins (All environments): Line 1 (http://localhost:3000): http:// is not allowed for all "
        "environments: use https://. Plain http:// is accepted only for localhost and 127.0.0.1, in the "
        "sod list or for native apps."]


# ---------------------------------------------------------------- publishing

def test_sod_is_published_at_once_and_supersedes_the_live_version(app, user,
                                                                   django_capture_on_commit_callbacks):
    old = sod_live(app)
    draft = services.create_configuration_version(actor=user, app=app, environment="sod")
    with django_capture_on_commit_callbacks(execute=True):
        published = services.publish_configuration(actor=user, version=draft)
    old.refresh_from_db()
    assert published.state == VersionState.PUBLISHED and published.is_live
    assert old.superseded_at == published.published_at and not old.is_live
    assert published.reviewed_by is None
    assert live_configuration(app, "sod") == published
    assert mail.outbox == []  # no review for sod
    events = list(configuration_change_log(published).values_list("event_type", flat=True))
    assert events == ["configuration_version_created", "configuration_version_published"]
    assert configuration_change_log(old).last().event_type == "configuration_version_superseded"


def test_stage_request_locks_the_version_and_notifies_staff(app, user, app_manager,
                                                            django_capture_on_commit_callbacks):
    draft = complete(services.create_configuration_version(actor=user, app=app, environment="stage"), user)
    with django_capture_on_commit_callbacks(execute=True):
        pending = services.publish_configuration(actor=user, version=draft)
    assert (pending.state, pending.submitted_by) == (VersionState.PENDING, user)
    assert list(pending_configurations()) == [pending]
    assert [m.to for m in mail.outbox] == [[app_manager.email]]
    assert f"/review/configurations/{pending.pk}/" in mail.outbox[0].body
    assert "configuration 1.1 for stage" in mail.outbox[0].subject
    services.withdraw_configuration_request(actor=user, version=pending)
    pending.refresh_from_db()
    assert pending.state == VersionState.DRAFT
    assert configuration_change_log(pending).last().changes == {"state": ["pending", "draft"]}


def test_request_refused_with_the_missing_list(app, user):
    draft = services.create_configuration_version(actor=user, app=app, environment="online")
    with pytest.raises(ValidationError) as excinfo:
        services.publish_configuration(actor=user, version=draft)
    assert "Customer state change endpoint URL is required for standard apps in stage and online." \
        in excinfo.value.messages
    draft.refresh_from_db()
    assert draft.state == VersionState.DRAFT


# ---------------------------------------------------------------- staff decisions

def test_approval_supersedes_the_live_version_of_that_environment(app, user, app_manager,
                                                                  django_capture_on_commit_callbacks):
    live = ConfigurationFactory(app=app, label="1.0", state=VersionState.PUBLISHED,
                                published_at=timezone.now())
    other_env = ConfigurationFactory(app=app, environment=environment("online"), label="1.0",
                                     state=VersionState.PUBLISHED, published_at=timezone.now())
    pending = ConfigurationFactory(app=app, label="1.1", state=VersionState.PENDING,
                                   submitted_at=timezone.now())
    waiting = certificate(app, "stage")
    online_key = certificate(app, "online")
    with django_capture_on_commit_callbacks(execute=True):
        review_services.approve_configuration(actor=app_manager, version=pending,
                                       seen_fingerprint=configuration_fields.configuration_fingerprint(pending))
    pending.refresh_from_db()
    live.refresh_from_db()
    other_env.refresh_from_db()
    assert pending.is_live and pending.reviewed_by == app_manager
    assert live.superseded_at == pending.published_at
    assert other_env.is_live  # another environment's stream is untouched
    waiting.refresh_from_db()
    online_key.refresh_from_db()
    assert waiting.approved_at == pending.published_at and online_key.approved_at is None
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert "live in stage" in mail.outbox[0].body
    with pytest.raises(ValidationError, match="Only a pending version can be approved"):
        review_services.approve_configuration(actor=app_manager, version=pending)


def test_decision_refused_when_the_version_changed_since_the_page_was_opened(app, user, app_manager):
    pending = ConfigurationFactory(app=app, state=VersionState.PENDING)
    seen = configuration_fields.configuration_fingerprint(pending)
    ConfigurationVersion.objects.filter(pk=pending.pk).update(consent_text="Changed behind the reviewer")
    for decide in (lambda: review_services.approve_configuration(actor=app_manager, version=pending,
                                                          seen_fingerprint=seen),
                   lambda: review_services.reject_configuration(actor=app_manager, version=pending,
                                                                reason="x", seen_fingerprint=seen)):
        with pytest.raises(ValidationError) as excinfo:
            decide()
        assert excinfo.value.code == "stale_version"
    pending.refresh_from_db()
    assert pending.state == VersionState.PENDING


def test_rejection_needs_a_reason_and_reopens_the_version(app, user, app_manager,
                                                          django_capture_on_commit_callbacks):
    pending = ConfigurationFactory(app=app, state=VersionState.PENDING)
    with pytest.raises(ValidationError):
        review_services.reject_configuration(actor=app_manager, version=pending, reason="  ")
    with django_capture_on_commit_callbacks(execute=True):
        review_services.reject_configuration(actor=app_manager, version=pending,
                                             reason="Consent text is vague.")
    pending.refresh_from_db()
    assert (pending.state, pending.review_reason) == (VersionState.REJECTED, "Consent text is vague.")
    assert pending.is_editable
    assert "Consent text is vague." in mail.outbox[0].body and mail.outbox[0].to == [user.email]
    services.update_configuration_version(actor=user, version=pending, consent_text="Precise now.")


# ---------------------------------------------------------------- custom apps

def test_custom_app_stage_approval_also_publishes_to_online(partner_member, app_manager,
                                                            django_capture_on_commit_callbacks):
    app = AppFactory(partner=partner_member.partner, is_custom=True, technical_contact=partner_member.user)
    old_online = ConfigurationFactory(app=app, environment=environment("online"), label="0.9",
                                      state=VersionState.PUBLISHED, published_at=timezone.now())
    pending = ConfigurationFactory(app=app, label="2.0", state=VersionState.PENDING, custom_claims={"a": "b"})
    with django_capture_on_commit_callbacks(execute=True):
        review_services.approve_configuration(actor=app_manager, version=pending)

    pending.refresh_from_db()
    online = live_configuration(app, "online")
    old_online.refresh_from_db()
    app.refresh_from_db()
    assert pending.is_live and pending.authorization_level == AuthorizationLevel.EXPLICIT
    assert online.pk not in (pending.pk, old_online.pk)
    assert (online.label, online.authorization_level, online.state) == (
        "2.0", AuthorizationLevel.EXPLICIT, VersionState.PUBLISHED)
    assert online.redirect_urls == pending.redirect_urls and online.custom_claims == {"a": "b"}
    assert old_online.superseded_at is not None
    assert app.customer_requested_at is not None
    assert "live in online as well" in mail.outbox[0].body
    assert "context identifier" in mail.outbox[0].body


def test_standard_app_stage_approval_publishes_stage_only(app, app_manager):
    pending = ConfigurationFactory(app=app, state=VersionState.PENDING)
    review_services.approve_configuration(actor=app_manager, version=pending)
    pending.refresh_from_db()
    app.refresh_from_db()
    assert pending.authorization_level == AuthorizationLevel.ADMINISTRATOR
    assert live_configuration(app, "online") is None and app.customer_requested_at is None


@pytest.mark.parametrize(("name", "ctx", "field"), [
    ("Acme AS", "cust123", "context_identifier"),
    ("Acme AS", "Cust12a", "context_identifier"),
    ("Acme AS", "12345", "context_identifier"),
    ("", "Cust12345", "customer_name"),
])
def test_custom_customer_is_validated(partner_member, name, ctx, field):
    app = AppFactory(partner=partner_member.partner, is_custom=True)
    with pytest.raises(ValidationError) as excinfo:
        services.set_custom_customer(actor=partner_member.user, app=app, customer_name=name,
                                     context_identifier=ctx)
    assert field in excinfo.value.message_dict
    app.refresh_from_db()
    assert app.customer_context_identifier == ""


def test_custom_customer_is_saved_for_custom_apps_only(partner_member, app):
    custom = AppFactory(partner=partner_member.partner, is_custom=True)
    services.set_custom_customer(actor=partner_member.user, app=custom, customer_name=" Acme AS ",
                                 context_identifier="Cust12345")
    custom.refresh_from_db()
    assert (custom.customer_name, custom.customer_context_identifier) == ("Acme AS", "Cust12345")
    entry = AuditEntry.objects.get(event_type="app_customer_set")
    assert entry.changes["customer_context_identifier"] == ["", "Cust12345"]
    with pytest.raises(ValidationError, match="Only a custom app"):
        services.set_custom_customer(actor=partner_member.user, app=app, customer_name="Acme",
                                     context_identifier="Cust1")


# ---------------------------------------------------------------- widened

@pytest.fixture
def received():
    calls = []

    def receiver(sender, **kwargs):
        calls.append({"sender": sender, **kwargs})

    configuration_published.connect(receiver)
    yield calls
    configuration_published.disconnect(receiver)


def test_widening_is_recorded_and_signalled_after_commit(app, user, received,
                                                         django_capture_on_commit_callbacks, app_manager):
    draft = services.create_configuration_version(actor=user, app=app, environment="sod")
    services.update_configuration_version(actor=app_manager, version=draft, claims=["SystemToken"])
    services.update_configuration_version(actor=user, version=draft, endpoints={
        "mirroring": {"url": "https://mirror.example.com/", "enabled": True},
        "state_change": {"url": "https://app.example.com/state", "enabled": True}})
    with django_capture_on_commit_callbacks() as callbacks:
        published = services.publish_configuration(actor=user, version=draft)
        assert received == []  # nothing before the commit
    for callback in callbacks:
        callback()

    assert published.widened == ["SystemToken claim", "webhooks", "mirroring"]
    assert len(received) == 1
    call = received[0]
    assert call["sender"] is ConfigurationVersion
    assert (call["app"], call["environment"].code, call["version"].pk) == (app, "sod", published.pk)
    assert call["widened"] == ["SystemToken claim", "webhooks", "mirroring"]
    entry = configuration_change_log(published).get(event_type="configuration_widened")
    assert "SystemToken claim, webhooks, mirroring" in entry.message


def test_no_signal_when_nothing_widens(app, user, received, django_capture_on_commit_callbacks):
    draft = services.create_configuration_version(actor=user, app=app, environment="sod")
    services.update_configuration_version(actor=user, version=draft, consent_text="Only words changed.")
    with django_capture_on_commit_callbacks(execute=True):
        published = services.publish_configuration(actor=user, version=draft)
    assert published.widened == [] and received == []


def test_first_version_in_an_environment_is_compared_with_nothing(app, app_manager, received,
                                                                  django_capture_on_commit_callbacks):
    pending = ConfigurationFactory(app=app, state=VersionState.PENDING, agents=["Webhook"], claims=[])
    with django_capture_on_commit_callbacks(execute=True):
        review_services.approve_configuration(actor=app_manager, version=pending)
    pending.refresh_from_db()
    assert pending.widened == ["webhooks"]
    assert received[0]["environment"].code == "stage"


# ---------------------------------------------------------------- selectors

def test_selectors_never_reach_another_partners_versions(app, partner_member, other_partner_member):
    mine = ConfigurationFactory(app=app)
    theirs = ConfigurationFactory(app=AppFactory(partner=other_partner_member.partner))
    assert configuration_of(partner_member.partner, app.pk, mine.pk) == mine
    with pytest.raises(ConfigurationVersion.DoesNotExist):
        configuration_of(partner_member.partner, theirs.app_id, theirs.pk)
    with pytest.raises(ConfigurationVersion.DoesNotExist):
        configuration_of(partner_member.partner, app.pk, theirs.pk)
    assert theirs not in configuration_versions_of(partner_member.partner, theirs.app_id)
    assert set(configuration_versions_of(partner_member.partner, app.pk)) == {mine, sod_live(app)}


def test_pending_configurations_have_no_n_plus_one(app, django_assert_num_queries):
    for env in ("stage", "online"):
        ConfigurationFactory(app=app, environment=environment(env), state=VersionState.PENDING,
                             submitted_at=timezone.now())
    ConfigurationFactory(app=AppFactory(), state=VersionState.PENDING, submitted_at=timezone.now())
    with django_assert_num_queries(1):
        rows = [(v.app.partner.name, v.environment.code, v.live_label, v.is_update)
                for v in pending_configurations()]
    assert len(rows) == 3


def test_wizard_keeps_local_http_redirects_for_sod_only(partner_client, partner_member):
    partner_client.post("/portal/apps/new/", {
        "template": "web", "is_custom": "standard", "name": "Local Dev App",
        "redirect_urls": "https://app.example.com/cb\nhttp://localhost:5000/cb"})
    version = ConfigurationVersion.objects.get(app__name="Local Dev App")
    assert version.redirect_urls == {"all": ["https://app.example.com/cb"],
                                     "sod": ["http://localhost:5000/cb"]}
    copy = services.create_configuration_version(actor=partner_member.user, app=version.app,
                                                 environment="online")
    assert copy.urls_for("redirect_urls", "online") == ["https://app.example.com/cb"]


# ---------------------------------------------------------------- what saving refuses and how it stores

def test_a_huge_url_list_is_refused_by_its_count_before_any_entry_is_checked(app, user, monkeypatch):
    from appstore import urlrules

    draft = ConfigurationFactory(app=app)
    before = services.snapshot(draft)
    checked = []
    real_check = urlrules.check_entries
    monkeypatch.setattr(urlrules, "check_entries", lambda lines, **kw: checked.append(len(lines))
                        or real_check(lines, **kw))
    with pytest.raises(ValidationError) as refused:
        services.update_configuration_version(
            actor=user, version=draft, redirect_urls={"all": [f"javascript:{n}" for n in range(9000)]})
    assert refused.value.message_dict == {
        "redirect_urls": ["All environments: at most 100 entries; this list has 9,000."]}
    assert checked == []
    draft.refresh_from_db()
    assert services.snapshot(draft) == before


@pytest.mark.parametrize(("field", "value"), [
    ("api_endpoints", ["W" + "!" * 100_000]),
    ("agents", ["x" * 100_000, "y" * 100_000]),
    ("claims", [f"bad name {n}" for n in range(20)]),
    ("custom_claims", {"x" * 100_000: "v"}),
])
def test_staff_setting_errors_never_repeat_a_long_value(app, app_manager, field, value):
    draft = ConfigurationFactory(app=app)
    with pytest.raises(ValidationError) as refused:
        services.update_configuration_version(actor=app_manager, version=draft, **{field: value})
    message = " ".join(refused.value.message_dict[field])
    assert len(message) < 400


def test_staff_name_lists_are_counted_first(app, app_manager):
    draft = ConfigurationFactory(app=app)
    with pytest.raises(ValidationError) as refused:
        services.update_configuration_version(actor=app_manager, version=draft,
                                              agents=[f"Agent{n}" for n in range(5000)])
    assert refused.value.message_dict == {"agents": ["At most 100 names; this list has 5,000."]}


def test_exact_urls_are_stored_with_lower_case_scheme_and_host(app, user):
    draft = ConfigurationFactory(app=app)
    services.update_configuration_version(
        actor=user, version=draft,
        redirect_urls={"all": ["HTTPS://App.Example.com/CB", "https://app.example.com/CB"],
                       "sod": [r"^https://App\.example\.com/X$"]},
        cors_origins={"online": ["HTTPS://Shop.Example.com:8443"]})
    draft.refresh_from_db()
    assert draft.redirect_urls == {"all": ["https://app.example.com/CB"],
                                   "sod": [r"^https://App\.example\.com/X$"]}
    assert draft.cors_origins == {"online": ["https://shop.example.com:8443"]}


@pytest.mark.parametrize("url", ["https://169.254.169.254/latest/meta-data/", "https://10.0.0.1/x",
                                 "http://localhost:8000", "https://[::1]/", "https://0x7f000001/"])
@pytest.mark.parametrize("env", ["sod", "stage"])
def test_endpoints_may_not_point_inside(app, user, url, env):
    draft = ConfigurationFactory(app=app, environment=environment(env), label="2.0")
    before = services.snapshot(draft)
    with pytest.raises(ValidationError) as refused:
        services.update_configuration_version(actor=user, version=draft, endpoints={
            "erp_sync": {"url": url, "enabled": True, "send_error_emails": False}})
    assert refused.value.message_dict["endpoints"][0].startswith("ERP sync endpoint URL: ")
    draft.refresh_from_db()
    assert services.snapshot(draft) == before


def test_local_endpoints_in_sod_when_the_setting_allows(app, user, settings):
    settings.ALLOW_PRIVATE_PARTNER_URLS = True
    sod = ConfigurationFactory(app=app, environment=environment("sod"), label="2.0")
    services.update_configuration_version(actor=user, version=sod, endpoints={
        "erp_sync": {"url": "http://localhost:8000/erp", "enabled": True, "send_error_emails": False}})
    sod.refresh_from_db()
    assert sod.endpoints["erp_sync"]["url"] == "http://localhost:8000/erp"
    stage = ConfigurationFactory(app=app, label="2.0")
    with pytest.raises(ValidationError):
        services.update_configuration_version(actor=user, version=stage, endpoints={
            "erp_sync": {"url": "http://localhost:8000/erp", "enabled": True, "send_error_emails": False}})


def test_wizard_refuses_internal_endpoint_addresses(partner_client):
    response = partner_client.post("/portal/apps/new/", {
        "template": "erp", "is_custom": "standard", "name": "Internal ERP",
        "erp_endpoint_url": "http://localhost:8000/erp", "quote_endpoint_url": "https://10.0.0.1/quote"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "Use https://" in errors["erp_endpoint_url"][0]
    assert "private network" in errors["quote_endpoint_url"][0]
    assert not ConfigurationVersion.objects.filter(app__name="Internal ERP").exists()


# ---------------------------------------------------------------- labels

def test_a_label_names_one_version_per_app_and_environment(app, user):
    live = sod_live(app)  # 1.0 in sod
    with pytest.raises(ValidationError) as refused:
        services.create_configuration_version(actor=user, app=app, environment="sod", label="1.0")
    message = refused.value.message_dict["label"][0]
    assert message.startswith("Version 1.0 for sod already exists (published, opened ")
    assert app.configuration_versions.count() == 1
    # the same label in another environment is fine
    stage = services.create_configuration_version(actor=user, app=app, environment="stage", label="1.0")
    assert stage.label == "1.0"
    draft = services.create_configuration_version(actor=user, app=app, environment="sod")
    assert draft.label == "1.1"
    with pytest.raises(ValidationError) as relabel:
        services.update_configuration_version(actor=user, version=draft, label=" 1.0 ")
    assert "Version 1.0 for sod already exists" in relabel.value.message_dict["label"][0]
    draft.refresh_from_db()
    assert draft.label == "1.1" and live.label == "1.0"


def test_an_automatic_label_skips_taken_ones(app, user):
    ConfigurationFactory(app=app, environment=environment("sod"), label="1.1", state=VersionState.PUBLISHED,
                         published_at=timezone.now(), superseded_at=timezone.now(),
                         created_at=timezone.now() - timedelta(days=2))
    ConfigurationFactory(app=app, environment=environment("online"), label="1.0",
                         state=VersionState.PUBLISHED, published_at=timezone.now())
    draft = services.create_configuration_version(actor=user, app=app, environment="sod")
    assert draft.label == "1.2"  # 1.1 (next after the latest, 1.0) is taken in sod


def test_saving_other_fields_keeps_an_old_duplicate_label(app, user):
    ConfigurationFactory(app=app, label="1.1", state=VersionState.PUBLISHED, published_at=timezone.now())
    draft = ConfigurationFactory(app=app, label="1.1")  # from before labels were unique
    services.update_configuration_version(actor=user, version=draft, label="1.1", consent_text="Changed")
    draft.refresh_from_db()
    assert draft.consent_text == "Changed"


def test_reject_reason_is_capped(app, app_manager):
    pending = ConfigurationFactory(app=app, state=VersionState.PENDING, submitted_at=timezone.now())
    with pytest.raises(ValidationError) as refused:
        review_services.reject_configuration(actor=app_manager, version=pending, reason="x" * 5001)
    assert refused.value.message_dict == {"reason": [
        "A reason may have at most 5,000 characters; this one has 5,001. Shorten it."]}
    pending.refresh_from_db()
    assert pending.state == VersionState.PENDING and pending.review_reason == ""

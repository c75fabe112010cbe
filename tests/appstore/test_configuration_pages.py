"""The portal's configuration pages: versions list, editor, publishing, change log, URL tester."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from appstore import urlrules
from appstore.forms.configuration import SEEN_FIELD, ConfigurationForm
from appstore.models import ConfigurationVersion, VersionState
from appstore.selectors.configuration import live_configuration
from appstore.services import configuration as services
from appstore.views import configuration as views
from audit.models import AuditEntry
from tests.factories import AppFactory, ConfigurationFactory, PartnerMemberFactory, environment

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(partner_member):
    return AppFactory(partner=partner_member.partner, technical_contact=partner_member.user,
                      configured__redirect_urls={"all": ["https://app.example.com/callback"]})


def editor(version: ConfigurationVersion) -> str:
    return reverse("portal:configuration", args=[version.app_id, version.pk])


def form_data(version: ConfigurationVersion, **overrides) -> dict:
    """What the editor posts when nothing is changed, plus ``overrides``."""
    data = {}
    for name, value in ConfigurationForm.initial_from(version).items():
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = value
    data.update(overrides)
    return data


# ---------------------------------------------------------------- versions list

def test_versions_list_groups_live_open_and_history_per_environment(partner_client, app):
    old = ConfigurationFactory(app=app, label="0.9", state=VersionState.PUBLISHED,
                               published_at=timezone.now(), superseded_at=timezone.now())
    live = ConfigurationFactory(app=app, label="1.0", state=VersionState.PUBLISHED,
                                published_at=timezone.now())
    draft = ConfigurationFactory(app=app, environment=environment("online"), label="1.1")

    response = partner_client.get(reverse("portal:configurations", args=[app.pk]))

    groups = {g.environment.code: g for g in response.context["groups"]}
    assert groups["stage"].live == live and groups["stage"].history == [old]
    assert groups["online"].open == draft and groups["online"].live is None
    assert groups["sod"].live == live_configuration(app, "sod")
    html = response.content.decode()
    for env in ("sod", "stage", "online"):
        assert f"New version for {env}" in html
        assert reverse("portal:configuration_new", args=[app.pk, env]) in html
    assert editor(draft) in html and editor(old) in html
    # online has an open version: its button is disabled
    assert 'disabled aria-describedby="open-online"' in html


def test_versions_list_query_count_does_not_grow(partner_client, app, django_assert_num_queries):
    url = reverse("portal:configurations", args=[app.pk])
    partner_client.get(url)
    with django_assert_num_queries(6) as one:
        partner_client.get(url)
    for label in ("1.1", "1.2"):
        ConfigurationFactory(app=app, label=label, state=VersionState.PUBLISHED, published_at=timezone.now(),
                             superseded_at=timezone.now())
    with django_assert_num_queries(len(one.captured_queries)):
        response = partner_client.get(url)
    assert len(response.context["groups"][1].history) == 2


def test_app_page_links_to_the_configuration(partner_client, app):
    html = partner_client.get(reverse("portal:app", args=[app.pk])).content.decode()
    assert reverse("portal:configurations", args=[app.pk]) in html


def test_new_version_opens_the_editor(partner_client, app):
    response = partner_client.post(reverse("portal:configuration_new", args=[app.pk, "stage"]))
    version = app.configuration_versions.get(environment__code="stage")
    assert response.status_code == 302 and response["Location"] == editor(version)
    assert version.redirect_urls == {"all": ["https://app.example.com/callback"]}
    again = partner_client.post(reverse("portal:configuration_new", args=[app.pk, "stage"]), follow=True)
    assert "is still open" in again.content.decode()
    assert app.configuration_versions.filter(environment__code="stage").count() == 1
    assert partner_client.post(reverse("portal:configuration_new", args=[app.pk, "moon"])).status_code == 404


# ---------------------------------------------------------------- editor

def test_editor_shows_every_field_and_staff_settings_read_only(partner_client, app):
    version = ConfigurationFactory(app=app, claims=["SystemToken"], custom_claims={"tier": "gold"})
    response = partner_client.get(editor(version))
    html = response.content.decode()
    assert response.status_code == 200
    for name in ("label", "redirect_urls_all", "redirect_urls_sod", "redirect_urls_stage",
                 "redirect_urls_online",
                 "post_logout_redirect_urls_all", "cors_origins_online", "endpoint_state_change_url",
                 "endpoint_mirroring_enabled", "endpoint_quote_send_error_emails", "consent_text"):
        assert f'name="{name}"' in html
    assert f'name="seen_updated_at" value="{version.updated_at.isoformat()}"' in html
    assert "SystemToken" in html and "tier = gold" in html
    assert 'name="claims"' not in html and 'name="agents"' not in html
    assert "Does this URL match?" in html
    assert reverse("portal:configuration_url_test", args=[app.pk]) in html
    assert "Request publishing" in html and "Publish to sod" not in html
    assert "<details" in html and "Per environment" in html


def test_editor_saves_and_logs_the_change(partner_client, app):
    version = ConfigurationFactory(app=app)
    response = partner_client.post(editor(version), form_data(
        version, label="1.5", redirect_urls_stage="https://stage.example.com/cb\n\n",
        endpoint_mirroring_url="https://mirror.example.com/", endpoint_mirroring_enabled="on"))
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.label == "1.5"
    assert version.redirect_urls == {"all": ["https://app.example.com/callback"],
                                     "stage": ["https://stage.example.com/cb"]}
    assert version.endpoints["mirroring"] == {"url": "https://mirror.example.com/", "enabled": True,
                                              "send_error_emails": False}
    entry = AuditEntry.objects.get(event_type="configuration_version_updated")
    assert entry.changes["label"] == ["1.1", "1.5"]


def test_editor_errors_name_the_field_and_line_and_keep_the_input(partner_client, app):
    version = ConfigurationFactory(app=app)
    typed = "https://ok.example.com/cb\njavascript:alert(1)"
    response = partner_client.post(editor(version), form_data(
        version, redirect_urls_online=typed, cors_origins_all="https://app.example.com/path",
        endpoint_erp_sync_url="http://erp.example.com/", consent_text="Kept text"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["redirect_urls_online"] == [
        "Line 2 (javascript:alert(1)): The javascript: scheme is not allowed; use https://."]
    assert "no path" in errors["cors_origins_all"][0]
    assert "Use https://" in errors["endpoint_erp_sync_url"][0]
    html = response.content.decode()
    assert "Redirect URLs · online</a>: Line 2" in html  # the summary names the field
    assert "https://ok.example.com/cb\njavascript:alert(1)</textarea>" in html
    assert "Kept text" in html
    version.refresh_from_db()
    assert version.redirect_urls == {"all": ["https://app.example.com/callback"]}


def test_stale_form_keeps_the_typed_values_and_saving_again_replaces_theirs(partner_client, partner_member,
                                                                          app):
    version = ConfigurationFactory(app=app)
    opened = form_data(version, label="Mine", consent_text="My consent text")
    colleague = PartnerMemberFactory(partner=partner_member.partner).user
    services.update_configuration_version(actor=colleague, version=version, consent_text="Colleague's text")
    version.refresh_from_db()

    response = partner_client.post(editor(version), opened)

    assert response.status_code == 409
    html = response.content.decode()
    assert ("Not saved — someone saved this version since you opened it. Your values are shown below; "
            "saving again replaces theirs.") in html
    assert "correct these fields" not in html  # no field is wrong
    assert "My consent text" in html and 'value="Mine"' in html  # what was typed is still on the page
    assert response.context["form"][SEEN_FIELD].value() == version.updated_at.isoformat()
    assert f'name="{SEEN_FIELD}" value="{version.updated_at.isoformat()}"' in html
    version.refresh_from_db()
    assert (version.label, version.consent_text) == ("1.1", "Colleague's text")

    again = partner_client.post(editor(version), {**opened, SEEN_FIELD: version.updated_at.isoformat()})

    assert again.status_code == 302
    version.refresh_from_db()
    assert (version.label, version.consent_text) == ("Mine", "My consent text")


@pytest.mark.parametrize(("environment_code", "notice"), [
    ("stage", "Not saved — this version was sent for review since you opened it"),
    ("sod", "Not saved — this version was published since you opened it, so it is locked. What you typed "
            "is shown below: copy your changes into a new version."),
])
def test_version_locked_after_the_page_opened_keeps_what_was_typed(partner_client, partner_member, app,
                                                                   environment_code, notice):
    version = ConfigurationFactory(app=app, environment=environment(environment_code))
    typed = form_data(version, consent_text="Typed in the first tab",
                      redirect_urls_online="https://typed.example.com/cb")
    services.publish_configuration(actor=partner_member.user, version=version)  # the second tab
    version.refresh_from_db()
    before = services.snapshot(version)

    response = partner_client.post(editor(version), typed)

    assert response.status_code == 409
    html = response.content.decode()
    assert notice in html
    assert "Typed in the first tab" in html and "https://typed.example.com/cb" in html
    assert "Save draft" not in html and "correct these fields" not in html
    assert 'name="consent_text" cols="40" rows="4" maxlength="4000" readonly' in html
    version.refresh_from_db()
    assert services.snapshot(version) == before


def test_version_locked_while_the_save_runs_keeps_what_was_typed(partner_client, partner_member, app,
                                                                 monkeypatch):
    version = ConfigurationFactory(app=app)
    real_update = services.update_configuration_version

    def publish_first(**kwargs):
        services.publish_configuration(actor=partner_member.user, version=kwargs["version"])
        return real_update(**kwargs)

    monkeypatch.setattr(views.services, "update_configuration_version", publish_first)
    response = partner_client.post(editor(version), form_data(version, consent_text="Typed meanwhile"))

    assert response.status_code == 409
    html = response.content.decode()
    assert "sent for review since you opened it" in html and "Typed meanwhile" in html
    version.refresh_from_db()
    assert version.state == VersionState.PENDING and version.consent_text != "Typed meanwhile"


@pytest.mark.parametrize("state", [VersionState.PENDING, VersionState.PUBLISHED])
def test_locked_versions_cannot_be_edited_through_the_page(partner_client, app, state):
    version = ConfigurationFactory(app=app, state=state, published_at=timezone.now())
    page = partner_client.get(editor(version)).content.decode()
    assert 'name="label" value="1.1" maxlength="64" required disabled' in page
    assert "Save draft" not in page
    response = partner_client.post(editor(version), form_data(version, label="Hacked"), follow=True)
    assert "This version is locked" in response.content.decode()
    version.refresh_from_db()
    assert version.label == "1.1"


def test_rejected_version_shows_the_reason_and_stays_editable(partner_client, app):
    version = ConfigurationFactory(app=app, state=VersionState.REJECTED, reviewed_at=timezone.now(),
                                   review_reason="The consent text must name the data you read.")
    html = partner_client.get(editor(version)).content.decode()
    assert "The consent text must name the data you read." in html
    assert "Save draft" in html
    partner_client.post(editor(version), form_data(version, consent_text="Reads companies and persons."))
    version.refresh_from_db()
    assert version.consent_text == "Reads companies and persons."


# ---------------------------------------------------------------- publishing

def test_request_is_disabled_with_the_missing_list(partner_client, app):
    version = ConfigurationFactory(app=app, consent_text="", endpoints={})
    html = partner_client.get(editor(version)).content.decode()
    assert '<button class="button button-green" type="submit" disabled aria-describedby="missing-intro">' \
           "Request publishing</button>" in html
    assert "Consent text is required for stage and online" in html
    assert "Customer state change endpoint URL is required" in html
    response = partner_client.post(reverse("portal:configuration_publish", args=[app.pk, version.pk]),
                                   follow=True)
    assert "Not published yet" in response.content.decode()
    version.refresh_from_db()
    assert version.state == VersionState.DRAFT


def test_sod_publishes_without_review(partner_client, app):
    version = ConfigurationFactory(app=app, environment=environment("sod"), label="1.1")
    html = partner_client.get(editor(version)).content.decode()
    assert "Publish to sod" in html and "Request publishing" not in html
    response = partner_client.post(reverse("portal:configuration_publish", args=[app.pk, version.pk]),
                                   follow=True)
    assert "is live in sod" in response.content.decode()
    assert live_configuration(app, "sod") == version


def test_request_locks_and_withdraw_reopens(partner_client, app):
    version = ConfigurationFactory(app=app)
    partner_client.post(reverse("portal:configuration_publish", args=[app.pk, version.pk]))
    version.refresh_from_db()
    assert version.state == VersionState.PENDING
    html = partner_client.get(editor(version)).content.decode()
    assert "Withdraw request" in html and "This version is locked" in html
    partner_client.post(reverse("portal:configuration_withdraw", args=[app.pk, version.pk]))
    version.refresh_from_db()
    assert version.state == VersionState.DRAFT


def test_change_log_download_per_version(partner_client, app):
    version = ConfigurationFactory(app=app)
    other = ConfigurationFactory(app=app, environment=environment("online"))
    partner_client.post(editor(version), form_data(version, label="1.2"))
    partner_client.post(editor(other), form_data(other, consent_text="Only in the online version"))

    response = partner_client.get(reverse("portal:configuration_changes", args=[app.pk, version.pk]))

    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["configuration_version"] == {"id": version.pk, "label": "1.2", "state": "draft",
                                             "environment": "stage"}
    assert [e["changes"] for e in data["entries"]] == [{"label": ["1.1", "1.2"]}]


# ---------------------------------------------------------------- URL tester

@pytest.mark.parametrize(("pattern", "url", "expected"), [
    (r"^https://([a-z]+\.)?example\.com/cb$", "https://eu.example.com/cb", {"matches": True}),
    (r"^https://([a-z]+\.)?example\.com/cb$", "https://evil.com/cb", {"matches": False}),
    ("https://app.example.com/cb", "https://app.example.com/cb", {"matches": True}),
    (r"^https://app\.example\.com/(cb$", "https://app.example.com/cb", "Not a valid regular expression"),
    (r"^https://app\.example\.com/cb", "https://app.example.com/cb", "must end with $"),
    ("", "https://app.example.com/cb", "Enter a redirect URL"),
])
def test_url_tester(partner_client, app, pattern, url, expected):
    response = partner_client.get(reverse("portal:configuration_url_test", args=[app.pk]),
                                  {"pattern": pattern, "url": url})
    data = response.json()
    if isinstance(expected, dict):
        assert response.status_code == 200 and data == expected
    else:
        assert response.status_code == 400 and expected in data["error"]


@pytest.mark.parametrize(("pattern", "url", "expected"), [
    ("javascript:alert(1)", "javascript:alert(1)", "javascript: scheme is not allowed"),
    (r"^https://(a|a)*$", "https://aaaa", "contains |"),
    (r"^https://(a|aa)*b$", "https://" + "a" * 26 + "!", "contains |"),
    (r"^https://a{99999999999}$", "https://a", "at most 2000"),
    (r"^https://.*$", "https://evil.example/", "Write the host name out"),
])
def test_url_tester_refuses_what_the_rules_refuse(partner_client, app, pattern, url, expected):
    response = partner_client.get(reverse("portal:configuration_url_test", args=[app.pk]),
                                  {"pattern": pattern, "url": url})
    assert response.status_code == 400 and expected in response.json()["error"]


@pytest.mark.parametrize(("entry", "url", "reason"), [
    ("https://app.example.com/cb", "https://app.example.com/cb#x", "fragment"),
    (r"^https://app\.example\.com/.*$", "https://u:p@app.example.com/cb", "user name or password"),
    (r"^https://app\.example\.com/.*$", "ftp://app.example.com/cb", "ftp: URL never does"),
])
def test_url_tester_explains_a_url_that_can_never_match(partner_client, app, entry, url, reason):
    data = partner_client.get(reverse("portal:configuration_url_test", args=[app.pk]),
                              {"pattern": entry, "url": url}).json()
    assert data["matches"] is False and reason in data["reason"]


def test_url_tester_answers_at_once_for_a_slow_stored_pattern(partner_client, app, monkeypatch):
    # A pattern stored before the rules refused it: the time bound answers, the worker is free.
    monkeypatch.setattr(urlrules, "_pattern_problem", lambda pattern: None)
    urlrules._usable_pattern.cache_clear()
    try:
        data = partner_client.get(reverse("portal:configuration_url_test", args=[app.pk]), {
            "pattern": r"^https://app\.example\.com/(a|aa)*b$",
            "url": "https://app.example.com/" + "a" * 1900 + "!"}).json()
    finally:
        urlrules._usable_pattern.cache_clear()
    assert data == {"matches": False,
                    "reason": "Matching took too long and counts as no match: simplify the pattern."}


# ---------------------------------------------------------------- what the editor refuses

@pytest.mark.parametrize("field", ["redirect_urls_all", "post_logout_redirect_urls_sod",
                                   "cors_origins_online"])
def test_editor_refuses_a_pattern_that_cannot_compile(partner_client, app, field):
    version = ConfigurationFactory(app=app)
    before = services.snapshot(version)
    response = partner_client.post(editor(version), form_data(version, **{field: r"^https://a{99999999999}$"}))
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [
        r"Line 1 (^https://a{99999999999}$): A repeat count such as {n} may be at most 2000."]
    version.refresh_from_db()
    assert services.snapshot(version) == before


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("redirect_urls_all", r"^https://.*$", "Write the host name out"),
    ("cors_origins_all", r"^https://.*$", "Write the host name out"),
    ("redirect_urls_all", r"^https://example.com/.*$", r"Write ^https://example\.com/.*$"),
    ("redirect_urls_all", r"^https://(a|aa)*b$", "contains |"),
    ("redirect_urls_all", "https://app.example.com/\u202ecb", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("endpoint_state_change_url", "https://169.254.169.254/latest/meta-data/", "link-local"),
    ("endpoint_erp_sync_url", "https://10.0.0.1/x", "private network"),
    ("endpoint_quote_url", "https://2130706433/x", "loopback"),
    ("endpoint_mirroring_url", "http://localhost:8000/", "Use https://"),
])
def test_editor_refuses_open_hosts_internal_endpoints_and_invisible_characters(partner_client, app, field,
                                                                               value, expected):
    version = ConfigurationFactory(app=app)
    before = services.snapshot(version)
    response = partner_client.post(editor(version), form_data(version, **{field: value}))
    assert response.status_code == 400
    assert expected in response.context["form"].errors[field][0]
    assert value in response.content.decode()  # what was typed is kept
    version.refresh_from_db()
    assert services.snapshot(version) == before


def test_a_huge_url_box_is_refused_by_its_line_count_before_any_line_is_checked(partner_client, app,
                                                                                monkeypatch):
    version = ConfigurationFactory(app=app)
    checked = []
    real_check = urlrules.check_entries
    monkeypatch.setattr(urlrules, "check_entries", lambda lines, **kw: checked.append(len(lines))
                        or real_check(lines, **kw))
    box = "\n".join(f"javascript:alert({n})" for n in range(9000))

    response = partner_client.post(editor(version), form_data(version, redirect_urls_all=box))

    assert response.status_code == 400
    assert response.context["form"].errors["redirect_urls_all"] == [
        "At most 100 lines; this box has 9,000. Use a pattern (a line starting with ^) for many similar "
        "addresses."]
    assert max(checked) < 9000
    assert response.content.decode().count("javascript:alert(") == 9000  # once, in the kept box


def test_exact_urls_are_saved_with_lower_case_scheme_and_host(partner_client, app):
    version = ConfigurationFactory(app=app)
    partner_client.post(editor(version), form_data(
        version, redirect_urls_all="HTTPS://App.Example.com/Call/Back\nhttps://app.example.com/Call/Back",
        cors_origins_all="HTTPS://APP.EXAMPLE.COM"))
    version.refresh_from_db()
    assert version.redirect_urls == {"all": ["https://app.example.com/Call/Back"]}
    assert version.cors_origins == {"all": ["https://app.example.com"]}


def test_editor_refuses_a_label_another_version_in_the_environment_has(partner_client, app):
    ConfigurationFactory(app=app, label="1.0", state=VersionState.PUBLISHED, published_at=timezone.now())
    version = ConfigurationFactory(app=app, label="1.1")
    response = partner_client.post(editor(version), form_data(version, label="1.0", consent_text="Kept"))
    assert response.status_code == 400
    error = response.context["form"].errors["label"][0]
    assert error.startswith("Version 1.0 for stage already exists (published, opened ")
    assert error.endswith("choose another label, such as 1.2.")
    assert "Kept" in response.content.decode()
    version.refresh_from_db()
    assert version.label == "1.1"


# ---------------------------------------------------------------- custom apps

def test_custom_app_is_asked_for_its_customer(partner_client, partner_member):
    app = AppFactory(partner=partner_member.partner, is_custom=True, customer_requested_at=timezone.now())
    url = reverse("portal:configurations", args=[app.pk])
    assert "Which customer is" in partner_client.get(url).content.decode()
    post = reverse("portal:configuration_customer", args=[app.pk])
    bad = partner_client.post(post, {"customer_name": "Acme AS", "context_identifier": "acme"})
    assert bad.status_code == 400
    assert "Cust" in bad.context["customer_form"].errors["context_identifier"][0]
    assert 'value="Acme AS"' in bad.content.decode()
    partner_client.post(post, {"customer_name": "Acme AS", "context_identifier": "Cust12345"})
    app.refresh_from_db()
    assert (app.customer_name, app.customer_context_identifier) == ("Acme AS", "Cust12345")
    assert "Which customer is" not in partner_client.get(url).content.decode()


# ---------------------------------------------------------------- isolation and permissions

def every_url(version: ConfigurationVersion) -> list[tuple[str, str]]:
    app_id, pk = version.app_id, version.pk
    return [
        ("get", reverse("portal:configurations", args=[app_id])),
        ("get", reverse("portal:configuration", args=[app_id, pk])),
        ("get", reverse("portal:configuration_changes", args=[app_id, pk])),
        ("get", reverse("portal:configuration_url_test", args=[app_id]) + "?pattern=https://a.example&url=x"),
        ("post", reverse("portal:configuration", args=[app_id, pk])),
        ("post", reverse("portal:configuration_new", args=[app_id, "sod"])),
        ("post", reverse("portal:configuration_publish", args=[app_id, pk])),
        ("post", reverse("portal:configuration_withdraw", args=[app_id, pk])),
        ("post", reverse("portal:configuration_customer", args=[app_id])),
    ]


def test_another_partners_versions_are_404_through_every_url(partner_client, partner_member,
                                                             other_partner_member):
    theirs = ConfigurationFactory(app=AppFactory(partner=other_partner_member.partner, is_custom=True),
                                  state=VersionState.PENDING)
    mine = ConfigurationFactory(app=AppFactory(partner=partner_member.partner))
    for method, url in every_url(theirs):
        response = getattr(partner_client, method)(url, {"label": "x"} if method == "post" else None)
        assert response.status_code == 404, url
    # my app id with their version id is a 404 too
    mixed = reverse("portal:configuration", args=[mine.app_id, theirs.pk])
    assert partner_client.get(mixed).status_code == 404
    theirs.refresh_from_db()
    assert (theirs.state, theirs.label) == (VersionState.PENDING, "1.1")
    assert theirs.app.configuration_versions.count() == 2  # nothing created


def test_configuration_permission_needed_for_writes_read_for_viewing(client, partner_member):
    reader = PartnerMemberFactory(partner=partner_member.partner, can_configuration=False)
    app = AppFactory(partner=partner_member.partner, is_custom=True, customer_requested_at=timezone.now())
    version = ConfigurationFactory(app=app)
    client.force_login(reader.user)
    for method, url in every_url(version):
        status = getattr(client, method)(url).status_code
        assert status == (200 if method == "get" else 403), url
    assert "changing it needs the Configuration permission" in client.get(editor(version)).content.decode()
    assert "Save draft" not in client.get(editor(version)).content.decode()

    no_read = PartnerMemberFactory(partner=partner_member.partner, can_read=False, can_configuration=False)
    client.force_login(no_read.user)
    for method, url in every_url(version):
        assert getattr(client, method)(url).status_code == 403, url
    version.refresh_from_db()
    assert version.state == VersionState.DRAFT and app.configuration_versions.count() == 2

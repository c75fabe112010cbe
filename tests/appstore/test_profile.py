"""The versioned partner profile: services, portal pages, staff review and the store page."""

import json

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from appstore.models import PartnerProfileVersion, VersionState
from appstore.selectors import profile as selectors
from appstore.services import profile as services
from audit.models import AuditEntry
from tests.factories import (
    AppFactory,
    PartnerMemberFactory,
    png_bytes,
    png_upload,
    published_listing,
    truncated_png,
)

pytestmark = pytest.mark.django_db

DESCRIPTION = "<p>We build <b>integrations</b> for growing sales teams.</p>"
META = "Acme builds CRM integrations for sales teams in the Nordics."


@pytest.fixture
def user(partner_member):
    return partner_member.user


@pytest.fixture
def partner(partner_member):
    partner = partner_member.partner
    partner.technical_contact = partner_member.user
    partner.save()
    return partner


@pytest.fixture
def draft(user, partner):
    return services.create_profile_version(actor=user, partner=partner)


def complete(version, user, *, description=DESCRIPTION, meta=META, links=None):
    """Fill a version with everything a publish request needs."""
    services.set_profile_logo(actor=user, version=version, upload=png_upload(488, 488, "logo.png"),
                              alt_text="Acme logo: a green diamond")
    services.update_profile_version(
        actor=user, version=version, description=description, meta_description=meta,
        links=links if links is not None else [{"url": "https://acme.example", "alt": "Acme website"}])
    version.refresh_from_db()
    return version


def publish(version, user, app_manager, **kwargs):
    complete(version, user, **kwargs)
    services.request_profile_publish(actor=user, version=version)
    services.approve_profile(actor=app_manager, version=version)
    version.refresh_from_db()
    return version


def editor_url(version) -> str:
    return reverse("portal:profile", args=[version.pk])


def form_data(version, **overrides) -> dict:
    version.refresh_from_db()
    data = {"seen_updated_at": version.updated_at.isoformat(), "label": version.label,
            "description": version.description, "meta_description": version.meta_description}
    for index, link in enumerate(version.links):
        data[f"link_{index}_url"], data[f"link_{index}_alt"] = link["url"], link["alt"]
    data.update(overrides)
    return data


# ---------------------------------------------------------------- versions

def test_first_version_is_1_0_and_a_second_waits_for_the_open_one(user, partner, draft):
    assert (draft.label, draft.state, draft.created_by) == ("1.0", VersionState.DRAFT, user)
    with pytest.raises(ValidationError, match="Finish the open profile version"):
        services.create_profile_version(actor=user, partner=partner)
    entry = AuditEntry.objects.get(event_type="profile_version_created")
    assert (entry.target_type, entry.target_id, entry.partner_id) == (
        "partnerprofileversion", draft.pk, partner.pk)


def test_new_version_copies_the_latest_with_its_own_logo_file(user, partner, draft, app_manager):
    publish(draft, user, app_manager)
    copy = services.create_profile_version(actor=user, partner=partner)

    assert copy.label == "1.1"
    assert (copy.description, copy.meta_description, copy.links, copy.logo_alt) == (
        draft.description, draft.meta_description, draft.links, draft.logo_alt)
    assert copy.logo.name != draft.logo.name
    with copy.logo.open("rb") as new, draft.logo.open("rb") as old:
        assert new.read() == old.read()
    # Replacing the copy's logo leaves the live version's file in place.
    old_name = draft.logo.name
    services.set_profile_logo(actor=user, version=copy, upload=png_upload(488, 488),
                              alt_text="New logo")
    assert draft.logo.storage.exists(old_name)


def test_update_saves_sanitised_description_and_audits_old_and_new(user, draft):
    services.update_profile_version(
        actor=user, version=draft, label="1.0-beta",
        description='<p onclick="x()">Hi <script>alert(1)</script><em>there</em></p>',
        meta_description="  Short   text ", logo_alt="Logo")
    draft.refresh_from_db()
    assert draft.description == "<p>Hi <em>there</em></p>"
    assert draft.meta_description == "Short text"
    entry = AuditEntry.objects.filter(event_type="profile_version_updated").get()
    assert entry.target_id == draft.pk
    assert entry.changes["label"] == ["1.0", "1.0-beta"]
    assert entry.changes["meta_description"] == ["", "Short text"]


@pytest.mark.parametrize("fields, field, words", [
    ({"description": "<p>" + "word " * 301 + "</p>"}, "description", "301 words"),
    ({"meta_description": "x" * 161}, "meta_description", "161 characters"),
    ({"links": [{"url": f"https://acme.example/{i}", "alt": f"L{i}"} for i in range(6)]}, "links",
     "at most 5"),
    ({"links": [{"url": "http://acme.example", "alt": "Insecure"}]}, "links", "https://"),
    ({"links": [{"url": "/relative", "alt": "Relative"}]}, "links", "absolute"),
    ({"links": [{"url": "https://user:pw@evil.example/", "alt": "Creds"}]}, "links", "user:password@"),
    ({"links": [{"url": "https://user@evil.example/", "alt": "User"}]}, "links", "user:password@"),
    ({"links": [{"url": "https://acme.example", "alt": "a" * 101}]}, "links", "101 characters"),
    ({"links": [{"url": "https://acme.example", "alt": " "}]}, "links", "alt text is required"),
    ({"label": "  "}, "label", "version label"),
])
def test_update_refuses_invalid_fields_and_changes_nothing(user, draft, fields, field, words):
    with pytest.raises(ValidationError) as exc:
        services.update_profile_version(actor=user, version=draft, **fields)
    assert words in " ".join(exc.value.message_dict[field])
    fresh = PartnerProfileVersion.objects.get(pk=draft.pk)
    assert (fresh.label, fresh.description, fresh.meta_description, fresh.links) == ("1.0", "", "", [])


def test_description_of_300_words_is_accepted(user, draft):
    services.update_profile_version(actor=user, version=draft, description="<p>" + "word " * 300 + "</p>")
    draft.refresh_from_db()
    assert draft.description.count("word") == 300


# ---------------------------------------------------------------- logo

@pytest.mark.parametrize("upload, message", [
    (SimpleUploadedFile("logo.png", b"GIF89a not a png at all", content_type="image/png"), "not a PNG"),
    (SimpleUploadedFile("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"), "SVG"),
    (SimpleUploadedFile("logo.png", png_bytes(500, 500)), "exactly 488×488"),
    (SimpleUploadedFile("logo.png", png_bytes(488, 300)), "square"),
    # A valid 488×488 header, image data cut short: refused before it is stored.
    (SimpleUploadedFile("logo.png", truncated_png(488, 488)), "incomplete or damaged"),
])
def test_logo_checks(user, draft, upload, message):
    with pytest.raises(ValidationError) as exc:
        services.set_profile_logo(actor=user, version=draft, upload=upload, alt_text="Logo")
    assert message in " ".join(exc.value.message_dict["logo"])
    draft.refresh_from_db()
    assert not draft.logo


def test_oversized_logo_upload_is_refused(user, draft, settings):
    settings.MAX_IMAGE_UPLOAD_BYTES = 1024
    upload = SimpleUploadedFile("logo.png", png_bytes(488, 488) + b"\0" * 2048)
    with pytest.raises(ValidationError) as exc:
        services.set_profile_logo(actor=user, version=draft, upload=upload, alt_text="Logo")
    assert "larger than" in exc.value.message_dict["logo"][0]


def test_truncated_logo_on_the_page_is_named_and_the_old_logo_stays(partner_client, user, draft):
    complete(draft, user)
    logo_name = draft.logo.name
    response = partner_client.post(reverse("portal:profile_logo", args=[draft.pk]), {
        "logo-seen_updated_at": draft.updated_at.isoformat(),
        "logo-logo": SimpleUploadedFile("cut.png", truncated_png(488, 488), content_type="image/png"),
        "logo-alt_text": "New alt text"})
    assert response.status_code == 400
    assert "incomplete or damaged" in response.context["logo_form"].errors["logo"][0]
    assert 'value="New alt text"' in response.content.decode()
    draft.refresh_from_db()
    assert (draft.logo.name, draft.logo_alt) == (logo_name, "Acme logo: a green diamond")


def test_logo_needs_alt_text(user, draft):
    with pytest.raises(ValidationError) as exc:
        services.set_profile_logo(actor=user, version=draft, upload=png_upload(488, 488), alt_text=" ")
    assert "alt_text" in exc.value.message_dict


def test_logo_upload_page_shows_preview_with_alt_text(partner_client, draft):
    response = partner_client.post(reverse("portal:profile_logo", args=[draft.pk]), {
        "logo-seen_updated_at": draft.updated_at.isoformat(),
        "logo-logo": png_upload(488, 488), "logo-alt_text": "Acme diamond logo"})
    assert response.status_code == 302
    draft.refresh_from_db()
    html = partner_client.get(editor_url(draft)).content.decode()
    assert f'src="{draft.logo.url}" alt="Acme diamond logo"' in html


def test_logo_form_without_a_file_changes_only_the_alt_text(partner_client, user, draft):
    url = reverse("portal:profile_logo", args=[draft.pk])
    response = partner_client.post(url, {"logo-seen_updated_at": draft.updated_at.isoformat(),
                                         "logo-alt_text": "Alt without a logo"})
    assert response.status_code == 400
    assert "Choose the logo's PNG file." in response.context["logo_form"].errors["logo"]

    complete(draft, user)
    logo_name = draft.logo.name
    response = partner_client.post(url, {"logo-seen_updated_at": draft.updated_at.isoformat(),
                                         "logo-alt_text": "Acme: green diamond on white"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.logo.name, draft.logo_alt) == (logo_name, "Acme: green diamond on white")


def test_wrong_logo_on_the_page_is_named_on_the_field(partner_client, draft):
    response = partner_client.post(reverse("portal:profile_logo", args=[draft.pk]), {
        "logo-seen_updated_at": draft.updated_at.isoformat(),
        "logo-logo": png_upload(600, 600), "logo-alt_text": "Typed alt text"})
    assert response.status_code == 400
    assert "exactly 488×488" in response.context["logo_form"].errors["logo"][0]
    assert 'value="Typed alt text"' in response.content.decode()


# ---------------------------------------------------------------- publish path

def test_request_is_refused_with_the_missing_list_then_locks_and_notifies_staff(
        user, draft, app_manager, django_capture_on_commit_callbacks):
    with pytest.raises(ValidationError) as exc:
        services.request_profile_publish(actor=user, version=draft)
    assert "Logo is required (PNG, 488×488 pixels)." in exc.value.messages
    assert "Description is required." in exc.value.messages

    complete(draft, user)
    assert services.missing_for_publish(draft) == []
    with django_capture_on_commit_callbacks(execute=True):
        services.request_profile_publish(actor=user, version=draft)
    draft.refresh_from_db()
    assert draft.state == VersionState.PENDING
    assert list(selectors.pending_profiles()) == [draft]
    assert [m.to for m in mail.outbox] == [[app_manager.email]]
    assert reverse("review:profile", args=[draft.pk]) in mail.outbox[0].body

    with pytest.raises(ValidationError, match="cannot be changed"):
        services.update_profile_version(actor=user, version=draft, description="<p>Sneaky</p>")
    with pytest.raises(ValidationError, match="cannot be changed"):
        services.set_profile_logo(actor=user, version=draft, upload=png_upload(488, 488), alt_text="x")

    services.withdraw_profile_request(actor=user, version=draft)
    draft.refresh_from_db()
    assert draft.state == VersionState.DRAFT


def test_approval_supersedes_the_previous_live_profile_and_tells_the_contact(
        user, partner, draft, app_manager, django_capture_on_commit_callbacks):
    publish(draft, user, app_manager)
    second = services.create_profile_version(actor=user, partner=partner)
    services.update_profile_version(actor=user, version=second, description="<p>Version two</p>")
    services.request_profile_publish(actor=user, version=second)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_profile(actor=app_manager, version=second)

    draft.refresh_from_db()
    second.refresh_from_db()
    assert draft.superseded_at is not None and not draft.is_live
    assert second.is_live and second.reviewed_by == app_manager
    assert selectors.live_profile(partner) == second
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert "approved" in mail.outbox[0].body
    with pytest.raises(ValidationError, match="cannot be changed"):
        services.update_profile_version(actor=user, version=second, description="<p>After</p>")


def test_rejection_keeps_the_reason_and_the_version_editable(user, draft, app_manager,
                                                            django_capture_on_commit_callbacks):
    complete(draft, user)
    services.request_profile_publish(actor=user, version=draft)
    with pytest.raises(ValidationError):
        services.reject_profile(actor=app_manager, version=draft, reason="  ")
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_profile(actor=app_manager, version=draft, reason="The logo is blurry.")
    draft.refresh_from_db()
    assert (draft.state, draft.review_reason) == (VersionState.REJECTED, "The logo is blurry.")
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert "The logo is blurry." in mail.outbox[0].body
    services.update_profile_version(actor=user, version=draft, logo_alt="Sharper logo")
    draft.refresh_from_db()
    assert draft.logo_alt == "Sharper logo"


def test_only_app_managers_decide(user, draft, partner_member):
    complete(draft, user)
    services.request_profile_publish(actor=user, version=draft)
    with pytest.raises(PermissionDenied):
        services.approve_profile(actor=user, version=draft)
    with pytest.raises(PermissionDenied):
        services.reject_profile(actor=user, version=draft, reason="no")


def test_a_stale_fingerprint_is_refused(user, draft, app_manager):
    complete(draft, user)
    services.request_profile_publish(actor=user, version=draft)
    with pytest.raises(ValidationError, match="changed after you opened it"):
        services.approve_profile(actor=app_manager, version=draft, seen_fingerprint="0" * 64)
    draft.refresh_from_db()
    assert draft.state == VersionState.PENDING


# ---------------------------------------------------------------- stale forms

def test_stale_form_is_refused_by_the_service_and_nothing_changes(user, draft):
    opened_at = draft.updated_at
    services.update_profile_version(actor=user, version=draft, description="<p>Other tab</p>")
    with pytest.raises(ValidationError) as exc:
        services.update_profile_version(actor=user, version=draft, seen_updated_at=opened_at,
                                        description="<p>Mine</p>")
    assert exc.value.messages == ["This version changed since you opened it; reload the page."]
    draft.refresh_from_db()
    assert draft.description == "<p>Other tab</p>"


def test_stale_form_on_the_page_keeps_what_was_typed_and_saving_again_replaces(
        partner_client, user, draft):
    data = form_data(draft, description="<p>Typed in the old tab</p>", link_0_url="https://acme.example",
                     link_0_alt="Typed link")
    services.update_profile_version(actor=user, version=draft, description="<p>Other tab</p>")
    response = partner_client.post(editor_url(draft), data)

    assert response.status_code == 409
    html = response.content.decode()
    assert "someone saved this version since you opened it" in html
    assert "saving again replaces theirs" in html
    assert "correct these fields" not in html  # no field is wrong
    assert "Typed in the old tab" in html and 'value="Typed link"' in html
    draft.refresh_from_db()
    assert draft.description == "<p>Other tab</p>"
    # The hidden marker now names the version as it is, so the second save goes through.
    seen = response.context["form"]["seen_updated_at"].value()
    assert seen == draft.updated_at.isoformat()
    response = partner_client.post(editor_url(draft), {**data, "seen_updated_at": seen})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.description == "<p>Typed in the old tab</p>"
    assert draft.links == [{"url": "https://acme.example", "alt": "Typed link"}]


def test_stale_form_with_a_wrong_field_shows_the_field_error(partner_client, user, draft):
    data = form_data(draft, link_0_url="http://acme.example", link_0_alt="Web")
    services.update_profile_version(actor=user, version=draft, description="<p>Other tab</p>")
    response = partner_client.post(editor_url(draft), data)
    assert response.status_code == 400
    assert "correct these fields" in response.content.decode()
    assert "https://" in response.context["form"].errors["link_0_url"][0]


@pytest.mark.parametrize("state, words", [
    ("pending", "withdraw the request"),
    ("published", "copy your changes into a new version"),
])
def test_save_after_the_version_was_locked_keeps_the_typed_text_read_only(
        partner_client, user, draft, app_manager, state, words):
    complete(draft, user)
    data = form_data(draft, description="<p>Typed before the lock</p>", meta_description="Typed meta")
    services.request_profile_publish(actor=user, version=draft)
    if state == "published":
        services.approve_profile(actor=app_manager, version=draft)
    response = partner_client.post(editor_url(draft), data)

    assert response.status_code == 409
    html = response.content.decode()
    assert "Not saved" in html and words in html
    assert "Typed before the lock" in html and "Typed meta" in html
    assert "correct these fields" not in html
    assert "Save draft" not in html
    assert response.context["form"]["meta_description"].field.widget.attrs["readonly"]
    draft.refresh_from_db()
    assert (draft.state, draft.description, draft.meta_description) == (state, DESCRIPTION, META)


def test_stale_logo_alt_text_keeps_what_was_typed(partner_client, user, draft):
    complete(draft, user)
    opened_at = draft.updated_at.isoformat()
    services.update_profile_version(actor=user, version=draft, logo_alt="Other tab's alt")
    url = reverse("portal:profile_logo", args=[draft.pk])
    response = partner_client.post(url, {"logo-seen_updated_at": opened_at, "logo-alt_text": "My alt"})
    assert response.status_code == 409
    assert "someone saved this version since you opened it" in response.content.decode()
    assert 'value="My alt"' in response.content.decode()
    draft.refresh_from_db()
    assert draft.logo_alt == "Other tab's alt"
    seen = response.context["logo_form"]["seen_updated_at"].value()
    response = partner_client.post(url, {"logo-seen_updated_at": seen, "logo-alt_text": "My alt"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.logo_alt == "My alt"


def test_logo_posted_to_a_locked_version_says_why(partner_client, user, draft):
    complete(draft, user)
    logo_name = draft.logo.name
    services.request_profile_publish(actor=user, version=draft)
    response = partner_client.post(reverse("portal:profile_logo", args=[draft.pk]), {
        "logo-seen_updated_at": draft.updated_at.isoformat(), "logo-logo": png_upload(488, 488),
        "logo-alt_text": "New"}, follow=True)
    assert "Withdraw the request to change it" in response.content.decode()
    draft.refresh_from_db()
    assert (draft.logo.name, draft.logo_alt) == (logo_name, "Acme logo: a green diamond")


# ---------------------------------------------------------------- labels

def test_a_label_names_one_version_of_the_partner(user, partner, draft, app_manager):
    publish(draft, user, app_manager)
    second = services.create_profile_version(actor=user, partner=partner)
    assert second.label == "1.1"
    with pytest.raises(ValidationError) as exc:
        services.update_profile_version(actor=user, version=second, label=" 1.0 ",
                                        description="<p>Not saved</p>")
    message = exc.value.message_dict["label"][0]
    assert "Profile version 1.0 already exists (published" in message and "such as 1.1" in message
    second.refresh_from_db()
    assert (second.label, second.description) == ("1.1", draft.description)
    # Saving with its own label is fine.
    services.update_profile_version(actor=user, version=second, label="1.1")


def test_automatic_labels_skip_taken_ones(user, partner, draft, app_manager):
    services.update_profile_version(actor=user, version=draft, label="1.1")
    publish(draft, user, app_manager)
    second = services.create_profile_version(actor=user, partner=partner)
    assert second.label == "1.2"
    services.update_profile_version(actor=user, version=second, label="1.0")
    publish(second, user, app_manager)
    third = services.create_profile_version(actor=user, partner=partner)
    assert third.label == "1.2"  # after 1.0 comes 1.1, taken; 1.2 is free again
    assert PartnerProfileVersion.objects.filter(partner=partner).count() == 3


def test_an_explicit_taken_label_is_refused_on_create(user, partner, draft, app_manager):
    publish(draft, user, app_manager)
    with pytest.raises(ValidationError) as exc:
        services.create_profile_version(actor=user, partner=partner, label="1.0")
    assert "Profile version 1.0 already exists" in exc.value.message_dict["label"][0]
    assert PartnerProfileVersion.objects.filter(partner=partner).count() == 1


def test_taken_label_on_the_page_is_named_on_its_field(partner_client, user, partner, draft,
                                                       app_manager):
    publish(draft, user, app_manager)
    second = services.create_profile_version(actor=user, partner=partner)
    response = partner_client.post(editor_url(second), form_data(second, label="1.0",
                                                                 description="<p>Kept</p>"))
    assert response.status_code == 400
    assert "Profile version 1.0 already exists" in response.context["form"].errors["label"][0]
    assert "correct these fields" in response.content.decode()
    assert "Kept" in response.content.decode()
    second.refresh_from_db()
    assert second.label == "1.1"


# ---------------------------------------------------------------- portal pages

def test_editor_saves_fields_and_links(partner_client, draft):
    response = partner_client.post(editor_url(draft), form_data(
        draft, description="<p>About us</p>", meta_description=META,
        link_0_url="https://acme.example", link_0_alt="Website",
        link_1_url="https://support.acme.example", link_1_alt="Support"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.links == [{"url": "https://acme.example", "alt": "Website"},
                           {"url": "https://support.acme.example", "alt": "Support"}]
    assert draft.meta_description == META


def test_editor_names_the_bad_link_fields_and_keeps_input(partner_client, draft):
    response = partner_client.post(editor_url(draft), form_data(
        draft, description="<p>Kept text</p>", link_0_url="http://acme.example", link_0_alt="Web",
        link_1_url="https://acme.example/x", link_1_alt=""))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "https://" in errors["link_0_url"][0]
    assert "alt text" in errors["link_1_alt"][0]
    assert "Kept text" in response.content.decode()
    draft.refresh_from_db()
    assert draft.links == [] and draft.description == ""


def test_editor_refuses_a_link_with_credentials_on_its_field(partner_client, draft):
    response = partner_client.post(editor_url(draft), form_data(
        draft, link_0_url="https://user:pw@evil.example/", link_0_alt="Web"))
    assert response.status_code == 400
    errors = response.context["form"].errors["link_0_url"]
    assert errors == ["A URL may not carry a user name or password (user:password@host)."]
    assert 'value="https://user:pw@evil.example/"' in response.content.decode()
    draft.refresh_from_db()
    assert draft.links == []


def test_links_with_a_fragment_or_query_are_fine(user, draft):
    links = [{"url": "https://acme.example/about?lang=en#team", "alt": "Team"}]
    services.update_profile_version(actor=user, version=draft, links=links)
    draft.refresh_from_db()
    assert draft.links == links


def test_editor_lists_what_is_missing_and_disables_the_request(partner_client, draft):
    html = partner_client.get(editor_url(draft)).content.decode()
    assert "Logo is required" in html
    assert 'type="submit" disabled aria-describedby="missing-intro">Request publishing' in html


def test_pages_walk_draft_pending_and_locked(partner_client, user, draft):
    complete(draft, user)
    response = partner_client.post(reverse("portal:profile_request", args=[draft.pk]))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == VersionState.PENDING
    html = partner_client.get(editor_url(draft)).content.decode()
    assert "Withdraw request" in html and "Save draft" not in html

    response = partner_client.post(editor_url(draft), form_data(draft, description="<p>Locked?</p>"))
    assert response.status_code == 409
    draft.refresh_from_db()
    assert draft.description == DESCRIPTION

    partner_client.post(reverse("portal:profile_withdraw", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.state == VersionState.DRAFT


def test_rejected_reason_is_shown_in_the_editor(partner_client, user, draft, app_manager):
    complete(draft, user)
    services.request_profile_publish(actor=user, version=draft)
    services.reject_profile(actor=app_manager, version=draft, reason="Describe what you sell.")
    html = partner_client.get(editor_url(draft)).content.decode()
    assert "The reviewer rejected this version" in html and "Describe what you sell." in html


def test_new_version_button_and_version_list(partner_client, partner):
    response = partner_client.post(reverse("portal:profile_new"))
    version = PartnerProfileVersion.objects.get(partner=partner)
    assert response.url == editor_url(version)
    html = partner_client.get(reverse("portal:company")).content.decode()
    assert editor_url(version) in html and "tag-state-draft" in html
    assert reverse("portal:profile_changes", args=[version.pk]) in html


def test_change_log_json_holds_only_this_versions_entries(partner_client, user, partner, draft,
                                                          app_manager):
    publish(draft, user, app_manager)
    second = services.create_profile_version(actor=user, partner=partner)
    services.update_profile_version(actor=user, version=second, meta_description="Second meta")

    response = partner_client.get(reverse("portal:profile_changes", args=[draft.pk]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    events = [entry["event"] for entry in data["entries"]]
    assert events[0] == "profile_version_created" and events[-1] == "profile_version_published"
    assert "profile_version_requested" in events
    assert all(entry["changes"].get("meta_description") != [META, "Second meta"]
               for entry in data["entries"])
    second_log = json.loads(partner_client.get(
        reverse("portal:profile_changes", args=[second.pk])).content)
    assert second_log["entries"][-1]["changes"]["meta_description"] == [META, "Second meta"]


# ---------------------------------------------------------------- permissions and isolation

def test_read_member_sees_but_cannot_write(client, partner_member, draft):
    reader = PartnerMemberFactory(partner=partner_member.partner, can_app_store=False, can_users=False)
    client.force_login(reader.user)
    response = client.get(editor_url(draft))
    assert response.status_code == 200
    assert "editing it needs the App Store permission" in response.content.decode()
    assert client.post(editor_url(draft), form_data(draft, label="9.9")).status_code == 403
    assert client.post(reverse("portal:profile_new")).status_code == 403
    for name in ("portal:profile_request", "portal:profile_withdraw", "portal:profile_logo"):
        assert client.post(reverse(name, args=[draft.pk])).status_code == 403
    with pytest.raises(PermissionDenied):
        services.update_profile_version(actor=reader.user, version=draft, label="9.9")
    draft.refresh_from_db()
    assert draft.label == "1.0"


def test_member_without_read_gets_403(client, partner_member, draft):
    blind = PartnerMemberFactory(partner=partner_member.partner, can_read=False, can_app_store=False)
    client.force_login(blind.user)
    assert client.get(editor_url(draft)).status_code == 403
    assert client.get(reverse("portal:profile_changes", args=[draft.pk])).status_code == 403


def test_another_partners_versions_are_404(client, other_partner_member, draft):
    client.force_login(other_partner_member.user)
    assert client.get(editor_url(draft)).status_code == 404
    assert client.post(editor_url(draft), form_data(draft, label="stolen")).status_code == 404
    assert client.get(reverse("portal:profile_changes", args=[draft.pk])).status_code == 404
    for name in ("portal:profile_request", "portal:profile_withdraw", "portal:profile_logo"):
        assert client.post(reverse(name, args=[draft.pk])).status_code == 404
    html = client.get(reverse("portal:company")).content.decode()
    assert editor_url(draft) not in html
    with pytest.raises(PermissionDenied):
        services.update_profile_version(actor=other_partner_member.user, version=draft, label="stolen")
    draft.refresh_from_db()
    assert draft.label == "1.0"


# ---------------------------------------------------------------- staff review page

def test_review_page_compares_with_the_live_profile(staff_client, user, partner, draft, app_manager):
    publish(draft, user, app_manager)
    second = services.create_profile_version(actor=user, partner=partner)
    services.update_profile_version(actor=user, version=second, description="<p>Now with ERP</p>")
    services.request_profile_publish(actor=user, version=second)

    response = staff_client.get(reverse("review:profile", args=[second.pk]))
    assert response.status_code == 200
    rows = {row.key: row for row in response.context["rows"]}
    assert rows["description"].changed and not rows["meta_description"].changed
    assert not rows["logo"].changed  # same picture, copied into its own file
    html = response.content.decode()
    assert 'alt="Acme logo: a green diamond"' in html
    assert "Now with ERP" in html and "integrations" in html


def test_review_page_approves_with_the_seen_fingerprint(staff_client, user, partner, draft):
    complete(draft, user)
    services.request_profile_publish(actor=user, version=draft)
    url = reverse("review:profile", args=[draft.pk])
    fingerprint = staff_client.get(url).context["fingerprint"]
    response = staff_client.post(url, {"action": "approve", "seen_fingerprint": fingerprint})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.is_live


def test_review_page_reject_needs_a_reason_and_refuses_stale_content(staff_client, user, draft):
    complete(draft, user)
    services.request_profile_publish(actor=user, version=draft)
    url = reverse("review:profile", args=[draft.pk])
    fingerprint = staff_client.get(url).context["fingerprint"]
    assert staff_client.post(url, {"action": "reject", "reason": "",
                                   "seen_fingerprint": fingerprint}).status_code == 400
    response = staff_client.post(url, {"action": "reject", "reason": "Typed reason",
                                       "seen_fingerprint": "stale"})
    assert response.status_code == 409
    assert "Typed reason" in response.content.decode()
    draft.refresh_from_db()
    assert draft.state == VersionState.PENDING
    staff_client.post(url, {"action": "reject", "reason": "Typed reason", "seen_fingerprint": fingerprint})
    draft.refresh_from_db()
    assert draft.state == VersionState.REJECTED


def test_review_page_is_for_app_managers_only(partner_client, draft):
    assert partner_client.get(reverse("review:profile", args=[draft.pk])).status_code == 403


# ---------------------------------------------------------------- the store

def store_page(client, partner):
    return client.get(reverse("store:partner", args=[partner.seo_name]))


def test_store_shows_only_the_live_profile(client, user, partner, draft, app_manager):
    published_listing(app=AppFactory(partner=partner))
    complete(draft, user, description="<p>Draft words never public</p>")
    html = store_page(client, partner).content.decode()
    assert "Draft words never public" not in html
    services.request_profile_publish(actor=user, version=draft)
    assert "Draft words never public" not in store_page(client, partner).content.decode()

    services.approve_profile(actor=app_manager, version=draft)
    draft.refresh_from_db()
    response = store_page(client, partner)
    html = response.content.decode()
    assert "Draft words never public" in html
    assert f'src="{draft.logo.url}" alt="Acme logo: a green diamond"' in html
    assert f'<meta name="description" content="{META}">' in html
    assert '<a href="https://acme.example" rel="nofollow noopener" class="external">Acme website</a>' in html

    second = services.create_profile_version(actor=user, partner=partner)
    services.update_profile_version(actor=user, version=second, description="<p>Pending words</p>",
                                    meta_description="Pending meta")
    services.request_profile_publish(actor=user, version=second)
    html = store_page(client, partner).content.decode()
    assert "Pending words" not in html and "Pending meta" not in html
    assert "Draft words never public" in html


def test_store_without_a_live_profile_keeps_the_generic_description(client, partner, draft):
    published_listing(app=AppFactory(partner=partner))
    html = store_page(client, partner).content.decode()
    assert f"Apps by {partner.name} in the App Store" in html

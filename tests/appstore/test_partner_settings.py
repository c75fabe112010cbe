"""Partner settings: contacts and e-mail lists for members with "users"; name, SEO name and
website for App-manager staff only (SPEC §2)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from appstore.models import Partner
from appstore.services.partners import MAX_EMAILS, update_partner_settings
from audit.models import AuditEntry
from tests.factories import PartnerMemberFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = reverse("portal:company")


@pytest.fixture
def colleague(partner_member):
    return PartnerMemberFactory(partner=partner_member.partner, can_users=False).user


def post_data(partner: Partner, **overrides) -> dict:
    data = {
        "administrative_contact": partner.administrative_contact_id or "",
        "technical_contact": partner.technical_contact_id or "",
        "support_emails": partner.support_emails,
        "uninstall_report_emails": partner.uninstall_report_emails,
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------- service

def test_member_with_users_changes_contacts_and_lists_and_it_is_audited(partner_member, colleague):
    partner = partner_member.partner
    update_partner_settings(actor=partner_member.user, partner=partner,
                            administrative_contact=partner_member.user, technical_contact=colleague,
                            support_emails=" help@acme.example \n\nsupport@acme.example\n",
                            uninstall_report_emails="bye@acme.example")

    partner.refresh_from_db()
    assert partner.technical_contact == colleague
    assert partner.support_emails == "help@acme.example\nsupport@acme.example"
    entry = AuditEntry.objects.get(event_type="partner_settings_changed")
    assert entry.partner_id == partner.pk
    assert entry.changes["technical_contact"] == [None, colleague.email]
    assert entry.changes["support_emails"] == ["", "help@acme.example\nsupport@acme.example"]


def test_contacts_must_be_members_of_the_partner(partner_member, other_partner_member):
    partner = partner_member.partner
    stranger = UserFactory()
    with pytest.raises(ValidationError) as exc:
        update_partner_settings(actor=partner_member.user, partner=partner,
                                technical_contact=stranger,
                                administrative_contact=other_partner_member.user)
    assert set(exc.value.message_dict) == {"technical_contact", "administrative_contact"}
    assert "must be a member" in exc.value.message_dict["technical_contact"][0]
    partner.refresh_from_db()
    assert partner.technical_contact is None and partner.administrative_contact is None
    assert not AuditEntry.objects.filter(event_type="partner_settings_changed").exists()


def test_bad_email_addresses_are_named(partner_member):
    with pytest.raises(ValidationError) as exc:
        update_partner_settings(actor=partner_member.user, partner=partner_member.partner,
                                support_emails="ok@acme.example\nnot-an-address\nalso@bad@x")
    message = exc.value.message_dict["support_emails"][0]
    assert "not-an-address" in message and "also@bad@x" in message
    assert "ok@acme.example" not in message


def test_at_most_twenty_addresses(partner_member):
    emails = "\n".join(f"person{i}@acme.example" for i in range(MAX_EMAILS + 1))
    with pytest.raises(ValidationError) as exc:
        update_partner_settings(actor=partner_member.user, partner=partner_member.partner,
                                uninstall_report_emails=emails)
    assert "at most 20" in exc.value.message_dict["uninstall_report_emails"][0]
    update_partner_settings(actor=partner_member.user, partner=partner_member.partner,
                            uninstall_report_emails="\n".join(emails.splitlines()[:MAX_EMAILS]))
    partner_member.partner.refresh_from_db()
    assert len(partner_member.partner.uninstall_report_emails.splitlines()) == MAX_EMAILS


@pytest.mark.parametrize("field, value", [("name", "Renamed Inc"), ("seo_name", "renamed"),
                                          ("website", "https://renamed.example")])
def test_staff_only_fields_are_refused_for_partners(partner_member, field, value):
    partner = partner_member.partner
    before = getattr(partner, field)
    with pytest.raises(PermissionDenied):
        update_partner_settings(actor=partner_member.user, partner=partner, **{field: value})
    partner.refresh_from_db()
    assert getattr(partner, field) == before


def test_staff_change_staff_only_fields(app_manager, partner_member):
    partner = partner_member.partner
    update_partner_settings(actor=app_manager, partner=partner, name="Renamed Inc",
                            seo_name="renamed-inc", website="https://renamed.example")
    partner.refresh_from_db()
    assert (partner.name, partner.seo_name, partner.website) == (
        "Renamed Inc", "renamed-inc", "https://renamed.example")
    entry = AuditEntry.objects.get(event_type="partner_settings_changed")
    assert entry.actor == app_manager
    assert entry.changes["seo_name"][1] == "renamed-inc"


def test_staff_cannot_take_another_partners_seo_name(app_manager, partner_member, other_partner_member):
    with pytest.raises(ValidationError) as exc:
        update_partner_settings(actor=app_manager, partner=partner_member.partner,
                                seo_name=other_partner_member.partner.seo_name)
    assert "seo_name" in exc.value.message_dict


def test_member_without_users_permission_cannot_change_settings(partner_member, colleague):
    with pytest.raises(PermissionDenied):
        update_partner_settings(actor=colleague, partner=partner_member.partner,
                                support_emails="x@acme.example")


# ---------------------------------------------------------------- page

def test_page_shows_member_choices_and_staff_fields_read_only(partner_client, partner_member, colleague,
                                                              other_partner_member):
    partner = partner_member.partner
    partner.website = "https://acme.example"
    partner.save()
    response = partner_client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.fields["technical_contact"].queryset) == {partner_member.user, colleague}
    assert other_partner_member.user.email not in html
    assert form.fields["name"].disabled and form.fields["seo_name"].disabled
    assert "Set by platform staff" in html and "https://acme.example" in html
    assert 'name="name"' not in html


def test_partner_saves_contacts_and_lists(partner_client, partner_member, colleague):
    partner = partner_member.partner
    response = partner_client.post(URL, post_data(
        partner, administrative_contact=partner_member.user.pk, technical_contact=colleague.pk,
        support_emails="help@acme.example", name="Hijacked name"))
    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.technical_contact == colleague
    assert partner.support_emails == "help@acme.example"
    assert partner.name != "Hijacked name"  # a disabled field ignores what is posted


def test_bad_email_is_named_on_the_field_and_typed_text_kept(partner_client, partner_member):
    partner = partner_member.partner
    typed = "fine@acme.example\nnope"
    response = partner_client.post(URL, post_data(partner, administrative_contact=partner_member.user.pk,
                                                  technical_contact=partner_member.user.pk,
                                                  support_emails=typed))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "“nope”" in errors["support_emails"][0]
    html = response.content.decode()
    assert "Support e-mails</a>: Not an e-mail address" in html
    assert "fine@acme.example\nnope</textarea>" in html
    partner.refresh_from_db()
    assert partner.support_emails == ""


def test_contact_from_another_partner_is_refused_by_the_form(partner_client, partner_member,
                                                             other_partner_member):
    partner = partner_member.partner
    response = partner_client.post(URL, post_data(partner, administrative_contact=partner_member.user.pk,
                                                  technical_contact=other_partner_member.user.pk))
    assert response.status_code == 400
    assert "technical_contact" in response.context["form"].errors
    partner.refresh_from_db()
    assert partner.technical_contact is None


def test_staff_member_edits_staff_only_fields_on_the_page(client, app_manager, partner_member):
    partner = partner_member.partner
    PartnerMemberFactory(partner=partner, user=app_manager, can_users=False)
    client.force_login(app_manager)
    assert not client.get(URL).context["form"].fields["name"].disabled
    response = client.post(URL, post_data(partner, administrative_contact=app_manager.pk,
                                          technical_contact=app_manager.pk, name="Staff Renamed",
                                          seo_name="staff-renamed", website=""))
    assert response.status_code == 302
    partner.refresh_from_db()
    assert (partner.name, partner.seo_name) == ("Staff Renamed", "staff-renamed")


def test_read_only_member_sees_settings_but_cannot_post(client, partner_member):
    reader = PartnerMemberFactory(partner=partner_member.partner, can_users=False, can_app_store=False)
    client.force_login(reader.user)
    response = client.get(URL)
    assert response.status_code == 200
    assert all(field.disabled for field in response.context["form"].fields.values())
    assert "Save settings" not in response.content.decode()
    response = client.post(URL, post_data(partner_member.partner, support_emails="x@acme.example"))
    assert response.status_code == 403
    partner_member.partner.refresh_from_db()
    assert partner_member.partner.support_emails == ""


def test_member_without_read_gets_403(client, partner_member):
    blind = PartnerMemberFactory(partner=partner_member.partner, can_read=False, can_users=False)
    client.force_login(blind.user)
    assert client.get(URL).status_code == 403


def test_each_partner_sees_and_changes_only_its_own_settings(client, partner_member, other_partner_member):
    mine, theirs = partner_member.partner, other_partner_member.partner
    theirs.support_emails = "secret-list@other.example"
    theirs.save()
    client.force_login(partner_member.user)
    html = client.get(URL).content.decode()
    assert mine.name in html and theirs.name not in html
    assert "secret-list@other.example" not in html
    client.post(URL, post_data(mine, administrative_contact=partner_member.user.pk,
                               technical_contact=partner_member.user.pk,
                               support_emails="mine@acme.example"))
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert theirs.support_emails == "secret-list@other.example"
    assert mine.support_emails == "mine@acme.example"
    with pytest.raises(PermissionDenied):
        update_partner_settings(actor=partner_member.user, partner=theirs, support_emails="x@y.example")

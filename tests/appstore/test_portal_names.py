"""App and company names: look-alike spellings are the same name, hidden characters are refused."""

import importlib
import re
import unicodedata

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import User
from appstore.models import App, Partner, validate_app_name
from appstore.names import name_key, normalise_name, seo_slug
from appstore.services import apps as app_services
from appstore.services import partners as partner_services
from tests.factories import AppFactory, PartnerFactory, UserFactory

pytestmark = pytest.mark.django_db

CREATE = "/portal/apps/new/"
EXISTING = "Tïna Ünicode Wídget"
LOOKALIKES = {
    "lower case": "tïna ünicode wídget",
    "double space": "Tïna  Ünicode Wídget",
    "non-breaking space": "Tïna\u00a0Ünicode Wídget",
    "ideographic space": "Tïna\u3000Ünicode Wídget",
    "full-width letters": "Ｔïｎａ Ünicode Wídget",
    "decomposed accents": unicodedata.normalize("NFD", EXISTING),
    "upper case": "TÏNA ÜNICODE WÍDGET",
}
HIDDEN = {
    "zero-width space": ("Tïna\u200bÜnicode Wídget", "U+200B ZERO WIDTH SPACE"),
    "right-to-left override": ("\u202eTïna Ünicode Wídget", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    "byte order mark": ("Tïna\ufeff Wídget", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
    "tab inside": ("Tïna\tWídget", "U+0009"),
    "line separator": ("Tïna\u2028Wídget", "U+2028 LINE SEPARATOR"),
    "private use": ("Tïna \ue000 Wídget", "U+E000"),
}


def wizard(name):
    return {"template": "empty", "is_custom": "standard", "name": name}


def test_normalised_name_and_key():
    assert normalise_name("  Ｌｅｄｇｅｒ\u00a0\u00a0Link  ") == "Ledger Link"
    assert name_key("STRASSE Sync") == name_key("straße  sync") == "strasse sync"
    assert name_key(unicodedata.normalize("NFD", EXISTING)) == name_key(EXISTING.upper())


@pytest.mark.parametrize("name", LOOKALIKES.values(), ids=LOOKALIKES.keys())
def test_wizard_refuses_a_lookalike_of_an_existing_name(partner_client, name):
    AppFactory(name=EXISTING)

    response = partner_client.post(CREATE, wizard(name))

    assert response.status_code == 200
    assert "already exists" in response.context["form"].errors["name"][0]
    assert response.context["form"]["name"].value() == name  # what was typed is kept
    assert App.objects.count() == 1


@pytest.mark.parametrize("name", LOOKALIKES.values(), ids=LOOKALIKES.keys())
def test_service_refuses_a_lookalike_of_an_existing_name(partner_member, name):
    AppFactory(name=EXISTING)
    with pytest.raises(ValidationError) as exc:
        app_services.create_app(actor=partner_member.user, partner=partner_member.partner,
                                name=name, template="empty")
    assert "already exists" in exc.value.message_dict["name"][0]


@pytest.mark.parametrize(("name", "described"), HIDDEN.values(), ids=HIDDEN.keys())
def test_hidden_characters_are_refused_and_named(partner_client, partner_member, name, described):
    response = partner_client.post(CREATE, wizard(name))
    errors = " ".join(response.context["form"].errors["name"])
    assert "control or invisible formatting characters" in errors and described in errors
    assert not App.objects.exists()

    with pytest.raises(ValidationError) as exc:
        app_services.create_app(actor=partner_member.user, partner=partner_member.partner,
                                name=name, template="empty")
    assert described in " ".join(exc.value.message_dict["name"])


def test_name_is_stored_normalised(partner_client):
    response = partner_client.post(CREATE, wizard("  Ｌｅｄｇｅｒ\u00a0\u00a0Link "))
    assert response.status_code == 302
    app = App.objects.get()
    assert (app.name, app.name_key) == ("Ledger Link", "ledger link")


def test_full_width_forbidden_punctuation_is_refused(partner_member):
    with pytest.raises(ValidationError) as exc:
        app_services.create_app(actor=partner_member.user, partner=partner_member.partner,
                                name="Ledger／Link", template="empty")
    assert "“/”" in exc.value.message_dict["name"][0]


def test_forbidden_character_message_has_one_full_stop():
    with pytest.raises(ValidationError) as exc:
        validate_app_name("Ledger v1.0: sync")
    message = exc.value.messages[0]
    assert ".." not in message
    assert message == "The name may not contain “.” “:”."


def test_settings_rename_to_a_lookalike_is_refused(partner_client, partner_member):
    AppFactory(name=EXISTING)
    app = AppFactory(partner=partner_member.partner, name="Ledger Link",
                     technical_contact=partner_member.user)
    response = partner_client.post(reverse("portal:app_settings", args=[app.pk]), {
        "name": LOOKALIKES["non-breaking space"], "seo_name": app.seo_name,
        "technical_contact": partner_member.user.pk, "error_report_emails": "",
        "uninstall_report_emails": ""})
    assert "already exists" in response.context["form"].errors["name"][0]
    with pytest.raises(ValidationError):
        app_services.update_app_settings(actor=partner_member.user, app=app,
                                         name=LOOKALIKES["full-width letters"])
    app.refresh_from_db()
    assert app.name == "Ledger Link"


def test_database_enforces_one_name_per_key():
    AppFactory(name=EXISTING)
    with pytest.raises(IntegrityError), transaction.atomic():
        AppFactory(name=LOOKALIKES["full-width letters"])


def test_migration_keys_existing_names_and_numbers_lookalikes():
    first = AppFactory(name="Acme Sync")
    second = AppFactory(name="Other")
    # A row saved before names were normalised: a look-alike of the first name.
    App.objects.filter(pk=second.pk).update(name="ACME\u00a0 sync", name_key="legacy")
    migration = importlib.import_module("appstore.migrations.0007_app_name_key")

    migration.fill_name_keys(django_apps, None)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.name, first.name_key) == ("Acme Sync", "acme sync")
    assert (second.name, second.name_key) == ("ACME sync 2", "acme sync 2")


# ---------------------------------------------------------------- company names

SIGNUP = "/accounts/signup/"


def signup(client, company):
    return client.post(SIGNUP, {
        "company_name": company, "full_name": "Ada Lovelace", "email": "ada@example.com",
        "password1": "a-long-unusual-passphrase-42", "password2": "a-long-unusual-passphrase-42"})


@pytest.mark.parametrize("company", ["nordic\u00a0widgets", "Ｎｏｒｄｉｃ Widgets", "NORDIC   WIDGETS"])
def test_signup_refuses_a_lookalike_company_name(client, company):
    PartnerFactory(name="Nordic Widgets")
    response = signup(client, company)
    assert "already registered" in response.context["form"].errors["company_name"][0]
    assert not User.objects.filter(email="ada@example.com").exists()


@pytest.mark.parametrize(("company", "described"), [
    ("Nordic\u200bWidgets", "U+200B ZERO WIDTH SPACE"),
    ("Nordic <b>Widgets</b>", "“<” “>”"),
])
def test_signup_refuses_hidden_characters_and_angle_brackets(client, company, described):
    response = signup(client, company)
    assert described in " ".join(response.context["form"].errors["company_name"])
    assert not Partner.objects.exists()


def test_register_company_form_normalises_and_refuses(client):
    user = UserFactory()
    client.force_login(user)
    refused = client.post(reverse("portal:partner_create"), {"name": "Second\u202e Co"})
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in refused.context["form"].errors["name"][0]
    assert refused.context["form"]["name"].value() == "Second\u202e Co"

    response = client.post(reverse("portal:partner_create"), {"name": " Ｓｅｃｏｎｄ\u00a0\u00a0Co "})
    assert response.status_code == 302
    assert Partner.objects.get().name == "Second Co"


def test_create_partner_service_normalises_and_refuses():
    founder = UserFactory()
    partner = partner_services.create_partner(founder=founder, name="  Acme\u3000Widgets ")
    assert partner.name == "Acme Widgets"
    assert partner_services.partner_name_taken("ACME widgets")
    for name in ("ａｃｍｅ widgets", "Acme <Widgets>", "Acme\u200b Widgets"):
        with pytest.raises(ValidationError) as exc:
            partner_services.create_partner(founder=UserFactory(), name=name)
        assert "name" in exc.value.message_dict
    assert Partner.objects.count() == 1


# ---------------------------------------------------------------- SEO names

@pytest.mark.parametrize(("name", "expected"), [
    ("Ærø Ølsen AS", "aero-olsen-as"),
    ("Straße Œuvre Þór Ðiđ Łódź", "strasse-oeuvre-thor-did-lodz"),
    ("Café Crème & Co.", "cafe-creme-co"),
    ("Ｆｕｌｌ Ｗｉｄｔｈ", "full-width"),
    ("snake_case  --  name", "snake-case-name"),
    ("🚀🎉", "partner"),
])
def test_seo_names_transliterate_latin_letters_and_fall_back(name, expected):
    assert seo_slug(name, fallback="partner") == expected
    assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", expected)


def test_a_long_name_is_cut_at_a_word_boundary_without_a_trailing_dash():
    slug = seo_slug("a" * 55 + " bbb", fallback="app")
    assert slug == "a" * 55 and len(slug) <= 56


def test_new_company_and_app_get_readable_seo_names():
    founder = UserFactory()
    partner = partner_services.create_partner(founder=founder, name="Ærø Ølsen AS")
    assert partner.seo_name == "aero-olsen-as"
    app = app_services.create_app(actor=founder, partner=partner, name="Kjøkken Æble", template="empty")
    assert app.seo_name == "kjokken-aeble"
    first = partner_services.create_partner(founder=UserFactory(), name="🚀🎉")
    second = partner_services.create_partner(founder=UserFactory(), name="🚀🎉🎉")
    assert (first.seo_name, second.seo_name) == ("partner", "partner-2")
    assert reverse("store:partner", args=[partner.seo_name]) == "/apps/aero-olsen-as/"

"""Listing editor rules: size limits of the free-text fields and the free/paid price model."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from appstore.models import PriceModel
from appstore.services import listings
from tests.appstore.test_portal_listing import form_data
from tests.factories import AppFactory, ListingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def listing(partner_member):
    app = AppFactory(partner=partner_member.partner, technical_contact=partner_member.user)
    return ListingFactory(app=app, label="1.0", header="Old header", requirements="Old requirements")


def url(listing):
    return reverse("portal:listing", args=[listing.app_id, listing.pk])


TOO_LONG = {
    "requirements": ("r" * 2_001, "Requirements has 2,001 characters; at most 2,000"),
    "whats_new": ("w" * 2_001, "What's new has 2,001 characters; at most 2,000"),
    "about": ("<p>" + "a" * 5_000 + "</p>", "characters of HTML; at most 5,000"),
    "key_features": ("Fast setup\n" + "k" * 121, "at most 120 characters each: key feature 2 has 121"),
    "install_steps": ("\n".join(f"Step {n}" for n in range(21)), "21 install steps; at most 20"),
    "install_steps-long": ("Click Install\n" + "s" * 301,
                           "at most 300 characters each: install step 2 has 301"),
}


@pytest.mark.parametrize(("case", "value", "message"),
                         [(case, *spec) for case, spec in TOO_LONG.items()], ids=TOO_LONG.keys())
def test_too_long_content_is_refused_on_its_field_and_kept(partner_client, listing, case, value, message):
    field = case.split("-")[0]
    response = partner_client.post(url(listing), form_data(**{field: value}))

    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == [field]
    assert message in " ".join(form.errors[field])
    assert form[field].value() == value
    assert f'id="id_{field}_error"' in response.content.decode()
    listing.refresh_from_db()
    assert (listing.header, listing.requirements) == ("Old header", "Old requirements")


def test_content_at_the_limits_is_saved(partner_client, listing):
    response = partner_client.post(url(listing), form_data(
        requirements="r" * 2_000, whats_new="w" * 2_000,
        about="<p>" + "a" * 4_993 + "</p>",
        key_features="\n".join("k" * 120 for _ in range(10)),
        install_steps="\n".join("s" * 300 for _ in range(20))))
    assert response.status_code == 302
    listing.refresh_from_db()
    assert len(listing.requirements) == 2_000 and len(listing.install_steps) == 20
    assert listing.key_features[0] == "k" * 120


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"requirements": "x" * 200_000}, "requirements", "200,000 characters"),
    ({"whats_new": "x" * 2_001}, "whats_new", "at most 2,000"),
    ({"about": "<p>" + "x" * 6_000 + "</p>"}, "about", "characters of HTML"),
    ({"about": "<p>" + "word " * 201 + "</p>"}, "about", "201 words"),
    ({"key_features": ["x" * 100_000]}, "key_features", "at most 120 characters"),
    ({"key_features": [f"Feature {n}" for n in range(11)]}, "key_features", "at most 10"),
    ({"key_features": "not a list"}, "key_features", "list of lines"),
    ({"install_steps": ["Step"] * 21}, "install_steps", "at most 20"),
    ({"install_steps": ["x" * 301]}, "install_steps", "at most 300 characters"),
])
def test_service_enforces_the_limits(partner_member, listing, fields, field, message):
    with pytest.raises(ValidationError) as exc:
        listings.update_listing(actor=partner_member.user, listing=listing, fields=fields)
    assert list(exc.value.message_dict) == [field]
    assert message in " ".join(exc.value.message_dict[field])
    listing.refresh_from_db()
    assert listing.requirements == "Old requirements"


# ---------------------------------------------------------------- price model

def test_price_model_list_has_no_free_option(partner_client, listing):
    response = partner_client.get(url(listing))
    choices = [value for value, _label in response.context["form"].fields["price_model"].choices]
    assert choices == ["", "per_user_month", "per_site_month", "pay_per_use"]
    assert 'value="free"' not in response.content.decode()


def test_paid_app_cannot_pick_free_as_its_model(partner_client, listing):
    response = partner_client.post(url(listing), form_data(price_model="free"))
    assert "valid choice" in response.context["form"].errors["price_model"][0]


def test_ticking_free_sets_the_free_model_and_clears_the_price(partner_client, listing):
    response = partner_client.post(url(listing), form_data(is_free="on", lowest_price_eur="30",
                                                           price_model="per_user_month"))
    assert response.status_code == 302
    listing.refresh_from_db()
    assert (listing.is_free, listing.price_model, listing.lowest_price_eur) == (True, "free", None)
    assert not any("Price" in item for item in listings.missing_for_publish(listing))


def test_service_clears_the_price_of_a_free_app(partner_member, listing):
    listings.update_listing(actor=partner_member.user, listing=listing,
                            fields={"is_free": True, "lowest_price_eur": Decimal("30.00"),
                                    "price_model": PriceModel.PER_SITE_MONTH})
    listing.refresh_from_db()
    assert (listing.price_model, listing.lowest_price_eur) == ("free", None)


def test_a_paid_app_needs_a_model_other_than_free_to_publish(partner_client, partner_member, listing):
    listings.update_listing(actor=partner_member.user, listing=listing, fields={"is_free": True})
    listings.update_listing(actor=partner_member.user, listing=listing,
                            fields={"is_free": False, "lowest_price_eur": Decimal("12.00")})
    listing.refresh_from_db()
    assert listing.price_model == ""
    assert "Price model is required for an app that is not free." in listings.missing_for_publish(listing)

    partner_client.post(url(listing), form_data(price_model="pay_per_use"))
    listing.refresh_from_db()
    assert (listing.is_free, listing.price_model) == (False, "pay_per_use")
    assert not any("Price model" in item for item in listings.missing_for_publish(listing))

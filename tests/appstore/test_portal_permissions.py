"""Every portal action against the member's permission flags, table-driven.

For each action: a member who lacks the flag it needs gets 403 and nothing is written; a member
who holds only that flag (with login and read) is let through. The API has the same table in
tests/appstore/test_api.py.
"""

import pytest
from django.urls import reverse

from appstore.models import PartnerMember, PartnerProfileVersion
from appstore.services.team import invite_member
from audit.models import AuditEntry
from tests.factories import (
    AppFactory,
    ConfigurationFactory,
    ListingFactory,
    PartnerMemberFactory,
    png_upload,
)

pytestmark = pytest.mark.django_db

FLAGS = ("read", "app_store", "configuration", "users")


@pytest.fixture
def world():
    admin = PartnerMemberFactory()
    partner = admin.partner
    app = AppFactory(partner=partner, technical_contact=admin.user)
    colleague = PartnerMemberFactory(partner=partner, can_users=False)
    invitation = invite_member(actor=admin.user, partner=partner, email="new.person@example.com",
                               permissions={"read": True})
    return {
        "partner": partner, "app": app, "listing": ListingFactory(app=app),
        "configuration": ConfigurationFactory(app=app),
        "profile": PartnerProfileVersion.objects.create(partner=partner, label="1.0"),
        "colleague": colleague, "invitation": invitation,
    }


def url(name: str, world: dict, **extra) -> str:
    app = world["app"].pk
    kwargs = {
        "app": {"app_id": app}, "listing": {"app_id": app, "pk": world["listing"].pk},
        "configuration": {"app_id": app, "pk": world["configuration"].pk},
        "env": {"app_id": app, "env": "stage"}, "profile": {"pk": world["profile"].pk},
        "member": {"pk": world["colleague"].pk}, "invitation": {"pk": world["invitation"].pk},
        "none": {},
    }
    return reverse(f"portal:{name}", kwargs=kwargs[extra.pop("args", "none")] | extra)


# (URL name, its arguments, extra URL kwargs, POST data or None for GET, the flag it needs)
ACTIONS = [
    ("home", "none", {}, None, "read"),
    ("app", "app", {}, None, "read"),
    ("audit", "none", {}, None, "read"),
    ("listing", "listing", {}, None, "read"),
    ("listing_changes", "listing", {}, None, "read"),
    ("configurations", "app", {}, None, "read"),
    ("configuration", "configuration", {}, None, "read"),
    ("configuration_changes", "configuration", {}, None, "read"),
    ("credentials", "env", {}, None, "read"),
    ("team", "none", {}, None, "read"),
    ("technical_contacts", "none", {}, None, "read"),
    ("member", "member", {}, None, "read"),
    ("company", "none", {}, None, "read"),
    ("profile", "profile", {}, None, "read"),
    ("profile_changes", "profile", {}, None, "read"),

    ("app_create", "none", {}, {"template": "server", "is_custom": "standard", "name": "Gated App"},
     "app_store"),
    ("app_settings", "app", {}, {"name": "Renamed App"}, "app_store"),
    ("listing_new", "app", {}, {}, "app_store"),
    ("listing", "listing", {}, {"label": "1.0", "header": "Changed header"}, "app_store"),
    ("listing_request", "listing", {}, {}, "app_store"),
    ("listing_withdraw", "listing", {}, {}, "app_store"),
    ("listing_image_add", "listing", {"kind": "screenshot"}, {"alt_text": "Screen"}, "app_store"),
    ("profile_new", "none", {}, {}, "app_store"),
    ("profile", "profile", {}, {"label": "1.0", "description": "<p>Changed</p>"}, "app_store"),
    ("profile_logo", "profile", {}, {"logo_alt": "Logo"}, "app_store"),
    ("profile_request", "profile", {}, {}, "app_store"),
    ("profile_withdraw", "profile", {}, {}, "app_store"),

    ("configuration_new", "app", {"env": "online"}, {}, "configuration"),
    ("configuration", "configuration", {}, {"label": "1.2"}, "configuration"),
    ("configuration_publish", "configuration", {}, {}, "configuration"),
    ("configuration_withdraw", "configuration", {}, {}, "configuration"),
    ("configuration_customer", "app", {}, {"customer_name": "Acme", "context_identifier": "Cust1"},
     "configuration"),
    ("client_id_regenerate", "env", {}, {"confirm": "on"}, "configuration"),
    ("secret_create", "env", {}, {}, "configuration"),
    ("secret_delete", "env", {}, {"confirm": "on"}, "configuration"),
    ("certificate_generate", "env", {}, {"description": "Key", "key_size": "2048",
                                         "expires_at": "2030-01-01"}, "configuration"),
    ("certificate_upload", "env", {}, {"public_key": "not a key", "description": "Key",
                                       "expires_at": "2030-01-01"}, "configuration"),
    ("certificate_delete", "env", {}, {"confirm": "on"}, "configuration"),

    ("team", "none", {}, {"email": "someone@example.com", "can_read": "on"}, "users"),
    ("member", "member", {}, {"action": "permissions", "can_login": "on", "can_read": "on"}, "users"),
    ("member", "member", {}, {"action": "remove"}, "users"),
    ("technical_contacts", "none", {}, {"apps": [], "to_user": ""}, "users"),
    ("invitation_resend", "invitation", {}, {}, "users"),
    ("invitation_revoke", "invitation", {}, {}, "users"),
    ("company", "none", {}, {"support_emails": "help@example.com"}, "users"),
]
IDS = [f"{'POST' if data is not None else 'GET'} {name} needs {flag}" for name, _, _, data, flag in ACTIONS]


def member_with(world: dict, flags: dict[str, bool]) -> PartnerMember:
    return PartnerMemberFactory(partner=world["partner"], can_login=True,
                                **{f"can_{flag}": value for flag, value in flags.items()})


def send(client, name, args, extra, data, world):
    target = url(name, world, args=args, **extra)
    if data is None:
        return client.get(target)
    if name == "profile_logo":
        data = {**data, "logo": png_upload(488, 488)}
    return client.post(target, data)


@pytest.mark.parametrize(("name", "args", "extra", "data", "flag"), ACTIONS, ids=IDS)
def test_member_without_the_flag_is_refused_and_nothing_is_written(client, world, name, args, extra, data,
                                                                    flag):
    member = member_with(world, {other: other != flag for other in FLAGS})
    client.force_login(member.user)
    entries = AuditEntry.objects.count()
    response = send(client, name, args, extra, data, world)
    assert response.status_code == 403
    assert AuditEntry.objects.count() == entries


@pytest.mark.parametrize(("name", "args", "extra", "data", "flag"), ACTIONS, ids=IDS)
def test_member_with_only_that_flag_is_let_through(client, world, name, args, extra, data, flag):
    member = member_with(world, {other: other in (flag, "read") for other in FLAGS})
    client.force_login(member.user)
    response = send(client, name, args, extra, data, world)
    assert response.status_code in (200, 302, 400, 409), response.status_code


def test_member_without_login_is_not_in_the_partner(client, world):
    member = member_with(world, dict.fromkeys(FLAGS, True))
    PartnerMember.objects.filter(pk=member.pk).update(can_login=False)
    client.force_login(member.user)
    response = client.get(url("app", world, args="app"))
    assert response.status_code in (302, 404)
    assert client.post(url("secret_create", world, args="env")).status_code in (302, 404)


SCOPED = [action for action in ACTIONS if action[1] != "none"]


@pytest.mark.parametrize(("name", "args", "extra", "data", "flag"), SCOPED,
                         ids=[f"{'POST' if a[3] is not None else 'GET'} {a[0]}" for a in SCOPED])
def test_another_partners_objects_are_not_found(client, world, name, args, extra, data, flag):
    outsider = PartnerMemberFactory()  # every flag, in another partner
    AppFactory(partner=outsider.partner)
    client.force_login(outsider.user)
    entries = AuditEntry.objects.count()
    response = send(client, name, args, extra, data, world)
    assert response.status_code == 404
    assert AuditEntry.objects.count() == entries


def test_member_without_sign_in_is_told_why(client, world):
    member = member_with(world, dict.fromkeys(FLAGS, True))
    PartnerMember.objects.filter(pk=member.pk).update(can_login=False)
    client.force_login(member.user)
    html = client.get(reverse("portal:home")).content.decode()
    assert world["partner"].name in html and "sign-in permission there is switched off" in html

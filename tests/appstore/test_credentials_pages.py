"""The credentials page of the developer portal: client ID, secret and certificate per environment."""

import base64
import html
import logging
import re
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from appstore import keys
from appstore.models import AppClient, ClientCertificate, ClientSecret, ReviewStatus
from appstore.services import credentials as services
from audit.models import AuditEntry

from ..factories import AppFactory, PartnerMemberFactory

pytestmark = pytest.mark.django_db

ENVIRONMENTS = ("sod", "stage", "online")
POST_ROUTES = ("client_id_regenerate", "secret_create", "secret_delete", "certificate_generate",
               "certificate_upload", "certificate_delete")


@pytest.fixture
def app(partner_member):
    return AppFactory(partner=partner_member.partner)


def url(name: str, app, env: str = "sod") -> str:
    return reverse(f"portal:{name}", args=[app.pk, env])


def client_in(app, env: str) -> AppClient:
    return AppClient.objects.get(app=app, environment__code=env)


def future_date(days: int = 365) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def new_secret_in(response) -> str:
    match = re.search(r'<code class="credential-value" id="new-secret">([^<]+)</code>',
                      response.content.decode())
    assert match, "the new secret is shown in a highlighted box"
    return html.unescape(match.group(1))


def textarea(response, element_id: str) -> str:
    match = re.search(rf'<textarea id="{element_id}"[^>]*>(.*?)</textarea>', response.content.decode(), re.S)
    assert match, f"#{element_id} is on the page"
    return html.unescape(match.group(1)).strip()


def public_pem(private_key) -> str:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


# ---------------------------------------------------------------- the page

def test_page_shows_tabs_client_id_and_forms_for_each_environment(partner_client, app):
    for env in ENVIRONMENTS:
        response = partner_client.get(url("credentials", app, env))
        assert response.status_code == 200
        body = response.content.decode()
        assert client_in(app, env).client_id in body
        for other in ENVIRONMENTS:
            assert url("credentials", app, other) in body
        assert f'href="{url("credentials", app, env)}" aria-current="page"' in body
        assert reverse("portal:app", args=[app.pk]) in body
        assert "Create secret" in body
        assert "Generate a key pair" in body and "Upload a public key" in body
        assert url("client_id_regenerate", app, env) in body
        assert 'name="csrfmiddlewaretoken"' in body


def test_app_page_links_to_the_credentials_of_every_environment(partner_client, app):
    body = partner_client.get(reverse("portal:app", args=[app.pk])).content.decode()
    for env in ENVIRONMENTS:
        assert url("credentials", app, env) in body


def test_unknown_environment_is_404(partner_client, app):
    assert partner_client.get(url("credentials", app, "production")).status_code == 404
    assert partner_client.post(url("secret_create", app, "production")).status_code == 404


# ---------------------------------------------------------------- secret shown once

def test_new_secret_is_shown_once_and_nowhere_else(partner_client, partner_member, app, caplog):
    superuser = User.objects.create_superuser(email="root@example.com", password="test-password-123")
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")
    connection.force_debug_cursor = True
    try:
        response = partner_client.post(url("secret_create", app, "stage"))
    finally:
        connection.force_debug_cursor = False

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    raw = new_secret_in(response)
    body = response.content.decode()
    assert "Copy it now: it is not stored and will not be shown again." in body
    assert 'data-copy-field="new-secret"' in body
    client = client_in(app, "stage")
    assert services.verify_client_secret(environment_code="stage", client_id=client.client_id,
                                         raw=raw) == client
    assert services.verify_client_secret(environment_code="stage", client_id=client.client_id,
                                         raw=raw[:-1]) is None

    # Not in the session, a cookie or a message.
    assert raw not in repr(dict(partner_client.session.items()))
    assert all(raw not in morsel.value for morsel in partner_client.cookies.values())

    pages = [url("credentials", app, "stage"), reverse("portal:app", args=[app.pk]), reverse("portal:audit")]
    for page in pages:
        later = partner_client.get(page)
        assert later.status_code == 200
        assert raw not in later.content.decode(), page
    assert "Client secret created for stage" in partner_client.get(reverse("portal:audit")).content.decode()
    assert "Stored only as a hash" in partner_client.get(pages[0]).content.decode()

    partner_client.force_login(superuser)
    secret = ClientSecret.objects.get(client=client)
    for admin_page in (reverse("admin:appstore_appclient_change", args=[client.pk]),
                       reverse("admin:appstore_clientsecret_change", args=[secret.pk]),
                       reverse("admin:appstore_clientsecret_changelist")):
        response = partner_client.get(admin_page)
        assert response.status_code == 200, admin_page
        content = response.content.decode()
        assert raw not in content and secret.secret_hash not in content, admin_page
    assert client.client_id in partner_client.get(
        reverse("admin:appstore_appclient_change", args=[client.pk])).content.decode()

    for entry in AuditEntry.objects.values():
        assert raw not in repr(entry)
    assert caplog.records and raw not in caplog.text


def test_second_secret_is_refused_with_the_message(partner_client, app):
    partner_client.post(url("secret_create", app, "sod"))
    first = ClientSecret.objects.get(client__app=app)
    response = partner_client.post(url("secret_create", app, "sod"), follow=True)
    assert "Delete the existing secret before creating a new one." in response.content.decode()
    assert 'id="new-secret"' not in response.content.decode()
    assert list(ClientSecret.objects.filter(client__app=app).values_list("pk", "secret_hash")) == [
        (first.pk, first.secret_hash)]


def test_delete_secret_needs_the_confirmation(partner_client, app):
    partner_client.post(url("secret_create", app, "online"))
    response = partner_client.post(url("secret_delete", app, "online"), {})
    assert response.status_code == 200
    assert "Tick the box to confirm." in response.content.decode()
    assert ClientSecret.objects.filter(client__app=app).exists()
    response = partner_client.post(url("secret_delete", app, "online"), {"secret-delete-confirm": "on"})
    assert response.status_code == 302
    assert not ClientSecret.objects.filter(client__app=app).exists()
    assert "Create secret" in partner_client.get(response["Location"]).content.decode()


# ---------------------------------------------------------------- client ID

def test_regenerate_client_id_after_confirmation(partner_client, app):
    old = client_in(app, "stage").client_id
    response = partner_client.post(url("client_id_regenerate", app, "stage"), {})
    assert response.status_code == 200
    assert "Tick the box to confirm." in response.content.decode()
    assert client_in(app, "stage").client_id == old

    response = partner_client.post(url("client_id_regenerate", app, "stage"), {"regenerate-confirm": "on"})
    assert response.status_code == 302
    new = client_in(app, "stage").client_id
    assert new != old
    assert new in partner_client.get(response["Location"]).content.decode()
    assert AuditEntry.objects.get(event_type="client_id_regenerated").changes == {"client_id": [old, new]}


def test_regenerate_collision_shows_the_message(partner_client, app, monkeypatch):
    taken = client_in(AppFactory(), "sod").client_id
    monkeypatch.setattr(services, "new_client_id", lambda: taken)
    old = client_in(app, "sod").client_id
    response = partner_client.post(url("client_id_regenerate", app, "sod"), {"regenerate-confirm": "on"})
    assert response.status_code == 200
    assert "This Client ID is already in use by another application." in response.content.decode()
    assert client_in(app, "sod").client_id == old


# ---------------------------------------------------------------- certificate

def test_generated_private_key_is_shown_once_and_works(partner_client, app):
    response = partner_client.post(url("certificate_generate", app, "stage"), {
        "generate-description": "Token signing", "generate-expires_at": future_date(),
        "generate-key_bits": "2048"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    private_pem, private_xml = textarea(response, "private-key-pem"), textarea(response, "private-key-xml")
    assert private_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert private_xml.startswith("<RSAKeyValue><Modulus>") and "<D>" in private_xml
    body = response.content.decode()
    assert "Copy it now: it is not stored and will not be shown again." in body
    assert 'download="' in body and "data:application/x-pem-file" in body
    assert "Waiting for the next approved configuration" in body

    private_key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    certificate = ClientCertificate.objects.get(client__app=app)
    signature = private_key.sign(b"hello", padding.PKCS1v15(), hashes.SHA256())
    keys.load_public_pem(certificate.public_key_pem).verify(signature, b"hello", padding.PKCS1v15(),
                                                            hashes.SHA256())
    assert certificate.description == "Token signing" and certificate.approved_at is None

    later = partner_client.get(url("credentials", app, "stage")).content.decode()
    assert "PRIVATE KEY" not in later and "<D>" not in html.unescape(later)
    assert keys.fingerprint_display(certificate.fingerprint) in later
    assert "Delete certificate" in later


def test_sod_certificate_is_active_at_once(partner_client, app):
    partner_client.post(url("certificate_generate", app, "sod"), {
        "generate-description": "", "generate-expires_at": future_date(), "generate-key_bits": "2048"})
    body = partner_client.get(url("credentials", app, "sod")).content.decode()
    assert "Active</span> since" in body


def test_generate_form_errors_name_the_field_and_keep_the_input(partner_client, app):
    response = partner_client.post(url("certificate_generate", app, "sod"), {
        "generate-description": "My key", "generate-expires_at": "2001-01-01", "generate-key_bits": "2048"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Choose an expiry date after today." in body
    assert 'value="My key"' in body
    assert not ClientCertificate.objects.exists()


@pytest.mark.parametrize("as_file", [False, True])
def test_upload_public_key_as_text_or_file(partner_client, app, as_file):
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    data = {"upload-description": "Partner key", "upload-expires_at": future_date()}
    if as_file:
        data["upload-key_file"] = SimpleUploadedFile("key.pem", public_pem(private_key).encode())
    else:
        data["upload-public_key"] = public_pem(private_key)
    response = partner_client.post(url("certificate_upload", app, "online"), data)
    assert response.status_code == 302
    certificate = ClientCertificate.objects.get(client__app=app)
    assert certificate.public_key_pem == public_pem(private_key)
    page = partner_client.get(response["Location"]).content.decode()
    assert "Public key uploaded for" in page and "Uploaded public key" in page


def test_pasted_private_key_is_refused_not_echoed_and_not_stored(partner_client, app):
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()).decode()
    response = partner_client.post(url("certificate_upload", app, "sod"), {
        "upload-public_key": private_pem, "upload-description": "Oops", "upload-expires_at": future_date()})
    body = response.content.decode()
    assert response.status_code == 200
    assert "This is a private key; upload only the public key." in body
    assert "PRIVATE KEY" not in body and private_pem.splitlines()[1] not in body
    assert 'value="Oops"' in body  # the rest of what was typed stays
    assert not ClientCertificate.objects.exists()
    assert not AuditEntry.objects.exists()


def test_oversized_file_and_garbage_are_refused_on_their_fields(partner_client, app):
    big = SimpleUploadedFile("key.pem", b"A" * (keys.MAX_KEY_TEXT_BYTES + 1))
    response = partner_client.post(url("certificate_upload", app, "sod"), {
        "upload-key_file": big, "upload-expires_at": future_date()})
    body = response.content.decode()
    assert "larger than 16 KB" in body and 'id="id_upload-key_file_error"' in body
    response = partner_client.post(url("certificate_upload", app, "sod"), {
        "upload-public_key": "not a key", "upload-expires_at": future_date()})
    body = response.content.decode()
    assert "This is not a public key we can read." in body
    assert re.search(r">\s*not a key</textarea>", body)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    response = partner_client.post(url("certificate_upload", app, "sod"), {
        "upload-key_file": SimpleUploadedFile("small.pem", public_pem(small).encode()),
        "upload-expires_at": future_date()})
    assert "use an RSA key of at least 2048 bits" in response.content.decode()
    assert not ClientCertificate.objects.exists()


def test_an_implausible_rsa_xml_key_is_refused_on_its_field(partner_client, app):
    even = base64.b64encode((2 ** 2048 - 2).to_bytes(256, "big")).decode()
    xml = f"<RSAKeyValue><Modulus>{even}</Modulus><Exponent>AQAB</Exponent></RSAKeyValue>"
    response = partner_client.post(url("certificate_upload", app, "sod"), {
        "upload-public_key": xml, "upload-expires_at": future_date()})
    body = response.content.decode()
    assert "its modulus is an even number" in body and 'id="id_upload-public_key_error"' in body
    assert not ClientCertificate.objects.exists()


def test_only_a_revealed_secret_or_key_takes_the_focus(partner_client, app):
    page = partner_client.get(url("credentials", app, "sod")).content.decode()
    assert "autofocus" not in page and "js/credentials.js" in page
    secret = partner_client.post(url("secret_create", app, "sod")).content.decode()
    assert secret.count("autofocus") == 1
    assert re.search(r'<button[^>]*data-copy-field="new-secret"[^>]*autofocus', secret)
    key = partner_client.post(url("certificate_generate", app, "sod"), {
        "generate-expires_at": future_date(), "generate-key_bits": "2048"}).content.decode()
    assert key.count("autofocus") == 1
    assert re.search(r'<button[^>]*data-copy-field="private-key-pem"[^>]*autofocus', key)


def test_second_certificate_is_refused(partner_client, app):
    form = {"generate-description": "", "generate-expires_at": future_date(), "generate-key_bits": "2048"}
    partner_client.post(url("certificate_generate", app, "sod"), form)
    first = ClientCertificate.objects.get(client__app=app)
    response = partner_client.post(url("certificate_generate", app, "sod"), form, follow=True)
    assert "Delete the existing certificate first." in response.content.decode()
    assert "private-key-pem" not in response.content.decode()
    key = public_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    response = partner_client.post(url("certificate_upload", app, "sod"), {
        "upload-public_key": key, "upload-expires_at": future_date()}, follow=True)
    assert "Delete the existing certificate first." in response.content.decode()
    assert list(ClientCertificate.objects.filter(client__app=app).values_list("pk", "fingerprint")) == [
        (first.pk, first.fingerprint)]


def test_delete_certificate(partner_client, app):
    partner_client.post(url("certificate_generate", app, "sod"), {
        "generate-description": "", "generate-expires_at": future_date(), "generate-key_bits": "2048"})
    response = partner_client.post(url("certificate_delete", app, "sod"),
                                   {"certificate-delete-confirm": "on"})
    assert response.status_code == 302
    assert not ClientCertificate.objects.exists()
    assert "Generate a key pair" in partner_client.get(response["Location"]).content.decode()


# ---------------------------------------------------------------- status banner

def test_online_banner_of_a_standard_app_until_both_reviews_passed(partner_client, app):
    from appstore.models import ConfigurationVersion, VersionState
    from tests.factories import environment
    ConfigurationVersion.objects.create(app=app, environment=environment("online"), label="2.0",
                                        state=VersionState.PUBLISHED, published_at=timezone.now())
    blocked = "Production credentials stay inactive until certification and the security audit have passed."
    assert blocked in partner_client.get(url("credentials", app, "online")).content.decode()
    app.certification_status = app.security_audit_status = ReviewStatus.PASSED
    app.save()
    body = partner_client.get(url("credentials", app, "online")).content.decode()
    assert blocked not in body and "This client can be used in" in body
    stage = partner_client.get(url("credentials", app, "stage")).content.decode()
    assert "No configuration is published in Stage yet" in stage


# ---------------------------------------------------------------- permissions

def post_data(app) -> dict[str, dict]:
    key = public_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return {
        "client_id_regenerate": {"regenerate-confirm": "on"},
        "secret_create": {},
        "secret_delete": {"secret-delete-confirm": "on"},
        "certificate_generate": {"generate-expires_at": future_date(), "generate-key_bits": "2048"},
        "certificate_upload": {"upload-public_key": key, "upload-expires_at": future_date()},
        "certificate_delete": {"certificate-delete-confirm": "on"},
    }


def test_member_without_configuration_permission_reads_but_cannot_change(client, partner_member, app):
    reader = PartnerMemberFactory(partner=partner_member.partner, can_configuration=False)
    client.force_login(reader.user)
    body = client.get(url("credentials", app, "stage")).content.decode()
    assert client_in(app, "stage").client_id in body
    for route in POST_ROUTES:
        assert reverse(f"portal:{route}", args=[app.pk, "stage"]) not in body
    assert "Create secret" not in body and "<form method=\"post\" action=\"/portal/apps" not in body
    assert "needs the “configuration” permission" in body

    old = client_in(app, "stage").client_id
    for route, data in post_data(app).items():
        assert client.post(url(route, app, "stage"), data).status_code == 403, route
    assert client_in(app, "stage").client_id == old
    assert not ClientSecret.objects.exists() and not ClientCertificate.objects.exists()
    assert not AuditEntry.objects.exists()


def test_another_partners_member_gets_404_everywhere(client, app, other_partner_member):
    client.force_login(other_partner_member.user)
    AppFactory(partner=other_partner_member.partner)  # they have apps of their own
    for env in ENVIRONMENTS:
        assert client.get(url("credentials", app, env)).status_code == 404
        for route, data in post_data(app).items():
            assert client.post(url(route, app, env), data).status_code == 404, (route, env)
    assert not ClientSecret.objects.exists() and not ClientCertificate.objects.exists()
    assert not AuditEntry.objects.exists()


def test_anonymous_visitor_is_sent_to_sign_in(client, app):
    response = client.get(url("credentials", app, "sod"))
    assert response.status_code == 302 and "login" in response["Location"]
    response = client.post(url("secret_create", app, "sod"))
    assert response.status_code == 302 and not ClientSecret.objects.exists()

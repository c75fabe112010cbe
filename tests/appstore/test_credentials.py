"""The client-ID registry's services and the RSA key handling behind app certificates."""

import base64
import hashlib
import logging
import re
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from django.contrib.auth.hashers import identify_hasher
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from appstore import keys
from appstore.models import AppClient, CertificateOrigin, ClientCertificate, ClientSecret, ReviewStatus
from appstore.selectors import credentials as selectors
from appstore.services import credentials as services
from audit.models import AuditEntry

from ..factories import AppFactory, PartnerMemberFactory, environment

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    return PartnerMemberFactory()


@pytest.fixture
def app(member):
    return AppFactory(partner=member.partner)


def client_in(app, code: str) -> AppClient:
    return AppClient.objects.select_related("app__partner", "environment").get(
        app=app, environment__code=code)


def all_audit_text() -> str:
    return repr(list(AuditEntry.objects.values()))


def rsa_key(bits: int = 2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def public_pem(private_key, fmt=serialization.PublicFormat.SubjectPublicKeyInfo) -> str:
    return private_key.public_key().public_bytes(serialization.Encoding.PEM, fmt).decode()


def b64(value: int) -> str:
    return base64.b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).decode()


def public_xml(private_key) -> str:
    numbers = private_key.public_key().public_numbers()
    return (f"<RSAKeyValue>\n  <Modulus>{b64(numbers.n)}</Modulus>\n"
            f"  <Exponent>{b64(numbers.e)}</Exponent>\n</RSAKeyValue>")


def self_signed_certificate_pem(private_key) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "partner.example.com")])
    now = timezone.now()
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(private_key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
                   .sign(private_key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def expiry(days: int = 365):
    return timezone.now() + timedelta(days=days)


def sign(private_key, data: bytes) -> bytes:
    return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def verify_with_stored(certificate: ClientCertificate, signature: bytes, data: bytes) -> None:
    keys.load_public_pem(certificate.public_key_pem).verify(signature, data, padding.PKCS1v15(),
                                                            hashes.SHA256())


# ---------------------------------------------------------------- client secret

def test_secret_is_returned_once_stored_as_a_hash_and_never_audited_or_logged(member, app, caplog):
    client = client_in(app, "stage")
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")  # Django's own default is INFO
    connection.force_debug_cursor = True  # SQL statements are logged too
    try:
        secret, raw = services.create_secret(actor=member.user, client=client)
        found = services.verify_client_secret(environment_code="stage", client_id=client.client_id, raw=raw)
    finally:
        connection.force_debug_cursor = False

    assert len(raw) >= 40
    stored = ClientSecret.objects.get(client=client)
    assert stored.pk == secret.pk
    assert raw not in stored.secret_hash
    assert identify_hasher(stored.secret_hash) is not None and stored.matches(raw)
    assert found == client
    assert caplog.records, "the SQL log was captured"
    assert raw not in caplog.text
    entry = AuditEntry.objects.get(event_type="client_secret_created")
    assert entry.message == "Client secret created for stage"
    assert entry.source == AuditEntry.Source.PORTAL
    assert (entry.partner_id, entry.app_id, entry.actor_id) == (app.partner_id, app.pk, member.user.pk)
    assert raw not in all_audit_text()
    assert stored.secret_hash not in all_audit_text()


def test_secret_expires_after_two_years_by_default(member, app):
    secret, _raw = services.create_secret(actor=member.user, client=client_in(app, "sod"))
    assert abs(secret.expires_at - (timezone.now() + timedelta(days=730))) < timedelta(minutes=1)


def test_verify_client_secret_refuses_wrong_secret_wrong_environment_and_unknown_client(member, app):
    client = client_in(app, "stage")
    _secret, raw = services.create_secret(actor=member.user, client=client)
    verify = services.verify_client_secret
    assert verify(environment_code="stage", client_id=client.client_id, raw=raw) == client
    assert verify(environment_code="stage", client_id=client.client_id, raw=raw + "x") is None
    assert verify(environment_code="stage", client_id=client.client_id, raw="") is None
    assert verify(environment_code="online", client_id=client.client_id, raw=raw) is None
    assert verify(environment_code="stage", client_id="0" * 32, raw=raw) is None
    # A client without a secret never verifies.
    sod = client_in(app, "sod")
    assert verify(environment_code="sod", client_id=sod.client_id, raw=raw) is None


def test_second_secret_is_refused_and_nothing_changes(member, app):
    client = client_in(app, "online")
    first, raw = services.create_secret(actor=member.user, client=client)
    with pytest.raises(ValidationError) as exc:
        services.create_secret(actor=member.user, client=client)
    assert exc.value.messages == ["Delete the existing secret before creating a new one."]
    stored = ClientSecret.objects.get(client=client)
    assert (stored.pk, stored.secret_hash) == (first.pk, first.secret_hash)
    assert services.verify_client_secret(environment_code="online", client_id=client.client_id, raw=raw)
    assert AuditEntry.objects.filter(event_type="client_secret_created").count() == 1


def test_delete_secret_then_a_new_one_can_be_created(member, app):
    client = client_in(app, "stage")
    _secret, old_raw = services.create_secret(actor=member.user, client=client)
    services.delete_secret(actor=member.user, client=client)
    assert not ClientSecret.objects.filter(client=client).exists()
    assert services.verify_client_secret(environment_code="stage", client_id=client.client_id,
                                         raw=old_raw) is None
    entry = AuditEntry.objects.get(event_type="client_secret_deleted")
    assert entry.message == "Client secret deleted for stage"
    _secret, new_raw = services.create_secret(actor=member.user, client=client)
    assert new_raw != old_raw
    with pytest.raises(ValidationError, match="no secret to delete"):
        services.delete_secret(actor=member.user, client=client_in(app, "sod"))


def test_secret_with_an_expiry_in_the_past_is_refused(member, app):
    with pytest.raises(ValidationError) as exc:
        services.create_secret(actor=member.user, client=client_in(app, "sod"),
                               expires_at=timezone.now() - timedelta(days=1))
    assert exc.value.message_dict == {"expires_at": [services.EXPIRY_IN_PAST]}
    assert not ClientSecret.objects.exists()


# ---------------------------------------------------------------- permissions

@pytest.mark.parametrize("who", ["no_configuration", "other_partner"])
def test_every_write_needs_the_configuration_permission_in_the_apps_partner(member, app, who):
    if who == "no_configuration":
        actor = PartnerMemberFactory(partner=member.partner, can_configuration=False).user
    else:
        actor = PartnerMemberFactory().user
    client = client_in(app, "sod")
    old_id = client.client_id
    calls = [
        lambda: services.regenerate_client_id(actor=actor, client=client),
        lambda: services.create_secret(actor=actor, client=client),
        lambda: services.delete_secret(actor=actor, client=client),
        lambda: services.generate_certificate(actor=actor, client=client, description="",
                                              expires_at=expiry()),
        lambda: services.upload_certificate(actor=actor, client=client, description="",
                                            public_key_text=public_pem(rsa_key()), expires_at=expiry()),
        lambda: services.delete_certificate(actor=actor, client=client),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert client_in(app, "sod").client_id == old_id
    assert not ClientSecret.objects.exists() and not ClientCertificate.objects.exists()
    assert not AuditEntry.objects.exists()


# ---------------------------------------------------------------- client ID

def test_regenerate_client_id_changes_it_and_audits_old_to_new(member, app):
    client = client_in(app, "stage")
    old = client.client_id
    updated = services.regenerate_client_id(actor=member.user, client=client)
    assert updated.client_id != old
    assert re.fullmatch(r"[0-9a-f]{32}", updated.client_id)
    assert client_in(app, "stage").client_id == updated.client_id
    assert updated.client_id_changed_at is not None
    entry = AuditEntry.objects.get(event_type="client_id_regenerated")
    assert entry.changes == {"client_id": [old, updated.client_id]}
    assert entry.message == "Client ID regenerated for stage"
    assert entry.app_id == app.pk


def test_regenerated_id_that_another_app_uses_in_the_environment_is_refused(member, app, monkeypatch):
    other = AppFactory()
    taken = client_in(other, "stage").client_id
    client = client_in(app, "stage")
    old = client.client_id
    monkeypatch.setattr(services, "new_client_id", lambda: taken)
    with pytest.raises(ValidationError) as exc:
        services.regenerate_client_id(actor=member.user, client=client)
    assert exc.value.messages == ["This Client ID is already in use by another application."]
    assert client_in(app, "stage").client_id == old
    assert not AuditEntry.objects.filter(event_type="client_id_regenerated").exists()


def test_a_collision_found_only_by_the_database_constraint_gets_the_same_message(member, app, monkeypatch):
    """Another request took the ID between the check and the write."""
    taken = client_in(AppFactory(), "online").client_id
    client = client_in(app, "online")
    old = client.client_id
    monkeypatch.setattr(services, "new_client_id", lambda: taken)
    monkeypatch.setattr(services, "client_id_taken", lambda **kwargs: False)
    with pytest.raises(ValidationError) as exc:
        services.regenerate_client_id(actor=member.user, client=client)
    assert exc.value.messages == [services.CLIENT_ID_TAKEN]
    assert client_in(app, "online").client_id == old


def test_the_same_client_id_in_another_environment_is_allowed(member, app, monkeypatch):
    other_sod_id = client_in(AppFactory(), "sod").client_id
    monkeypatch.setattr(services, "new_client_id", lambda: other_sod_id)
    updated = services.regenerate_client_id(actor=member.user, client=client_in(app, "stage"))
    assert updated.client_id == other_sod_id


def test_database_keeps_client_ids_unique_per_environment_only(app):
    other = AppFactory(configured=False)
    taken = client_in(app, "sod").client_id
    with pytest.raises(IntegrityError), transaction.atomic():
        AppClient.objects.create(app=other, environment=environment("sod"), client_id=taken)
    AppClient.objects.create(app=other, environment=environment("stage"), client_id=taken)
    assert AppClient.objects.filter(client_id=taken).count() == 2


def test_create_clients_gives_one_32_hex_client_per_environment():
    app = AppFactory(configured=False)
    clients = services.create_clients(app=app)
    assert sorted(c.environment.code for c in clients) == ["online", "sod", "stage"]
    assert all(re.fullmatch(r"[0-9a-f]{32}", c.client_id) for c in clients)


# ---------------------------------------------------------------- certificates

def test_generated_key_pair_round_trips_and_only_the_public_key_is_stored(member, app):
    client = client_in(app, "sod")
    certificate, private_pem, private_xml = services.generate_certificate(
        actor=member.user, client=client, description="Token signing", expires_at=expiry())
    private_key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert "BEGIN PRIVATE KEY" in private_pem  # PKCS#8
    data = b"system user token"
    verify_with_stored(certificate, sign(private_key, data), data)

    stored = ClientCertificate.objects.get(client=client)
    assert stored.origin == CertificateOrigin.GENERATED
    assert stored.key_bits == 2048 and "BEGIN PUBLIC KEY" in stored.public_key_pem
    assert stored.approved_at is not None  # sod: active at once
    assert "PRIVATE" not in repr(list(ClientCertificate.objects.values()))
    der = private_key.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    assert stored.fingerprint == hashlib.sha256(der).hexdigest()
    assert "PRIVATE" not in all_audit_text() and private_xml not in all_audit_text()
    entry = AuditEntry.objects.get(event_type="client_certificate_generated")
    assert entry.message.startswith("Certificate generated for sod")


def test_private_key_xml_is_the_dotnet_format_of_the_same_key(member, app):
    _certificate, private_pem, private_xml = services.generate_certificate(
        actor=member.user, client=client_in(app, "sod"), description="", expires_at=expiry())
    numbers = serialization.load_pem_private_key(private_pem.encode(), password=None).private_numbers()
    parts = dict(re.findall(r"<(\w+)>([^<]*)</\1>", private_xml))
    assert list(parts) == ["Modulus", "Exponent", "P", "Q", "DP", "DQ", "InverseQ", "D"]
    raw = {name: base64.b64decode(value) for name, value in parts.items()}
    as_int = {name: int.from_bytes(value, "big") for name, value in raw.items()}
    assert as_int["Modulus"] == numbers.public_numbers.n
    assert as_int["Exponent"] == numbers.public_numbers.e == 65537
    assert (as_int["P"], as_int["Q"], as_int["D"]) == (numbers.p, numbers.q, numbers.d)
    assert (as_int["DP"], as_int["DQ"], as_int["InverseQ"]) == (numbers.dmp1, numbers.dmq1, numbers.iqmp)
    # .NET wants D as long as the modulus and the CRT values half as long.
    assert len(raw["Modulus"]) == len(raw["D"]) == 256
    assert {len(raw[name]) for name in ("P", "Q", "DP", "DQ", "InverseQ")} == {128}
    assert private_xml.startswith("<RSAKeyValue>") and private_xml.endswith("</RSAKeyValue>")


def test_stage_and_online_keys_wait_for_the_next_approved_configuration(member, app):
    for code in ("stage", "online"):
        certificate, _pem, _xml = services.generate_certificate(
            actor=member.user, client=client_in(app, code), description="", expires_at=expiry(),
            key_bits=3072)
        assert certificate.approved_at is None
        assert certificate.key_bits == 3072


def test_second_certificate_is_refused_and_nothing_changes(member, app):
    client = client_in(app, "stage")
    first = services.upload_certificate(actor=member.user, client=client, description="First",
                                        public_key_text=public_pem(rsa_key()), expires_at=expiry())
    for attempt in (
        lambda: services.generate_certificate(actor=member.user, client=client, description="Second",
                                              expires_at=expiry()),
        lambda: services.upload_certificate(actor=member.user, client=client, description="Second",
                                            public_key_text=public_pem(rsa_key()), expires_at=expiry()),
    ):
        with pytest.raises(ValidationError) as exc:
            attempt()
        assert exc.value.messages == ["Delete the existing certificate first."]
    stored = ClientCertificate.objects.get(client=client)
    assert (stored.pk, stored.fingerprint, stored.description) == (first.pk, first.fingerprint, "First")
    assert AuditEntry.objects.filter(event_type__startswith="client_certificate").count() == 1


def test_delete_certificate(member, app):
    client = client_in(app, "online")
    services.upload_certificate(actor=member.user, client=client, public_key_text=public_pem(rsa_key()),
                                description="", expires_at=expiry())
    services.delete_certificate(actor=member.user, client=client)
    assert not ClientCertificate.objects.filter(client=client).exists()
    assert AuditEntry.objects.get(event_type="client_certificate_deleted").message == \
        "Certificate deleted for online"
    with pytest.raises(ValidationError, match="no certificate"):
        services.delete_certificate(actor=member.user, client=client)


@pytest.mark.parametrize("form", ["spki_pem", "pkcs1_pem", "certificate_pem", "rsa_xml"])
def test_uploaded_public_key_forms_are_accepted_and_normalised(member, app, form):
    private_key = rsa_key()
    text = {
        "spki_pem": lambda: public_pem(private_key),
        "pkcs1_pem": lambda: public_pem(private_key, serialization.PublicFormat.PKCS1),
        "certificate_pem": lambda: self_signed_certificate_pem(private_key),
        "rsa_xml": lambda: public_xml(private_key),
    }[form]()
    if form == "pkcs1_pem":
        assert "BEGIN RSA PUBLIC KEY" in text
    certificate = services.upload_certificate(actor=member.user, client=client_in(app, "sod"),
                                              public_key_text=text, description="Mine", expires_at=expiry())
    assert certificate.origin == CertificateOrigin.UPLOADED
    assert certificate.public_key_pem == public_pem(private_key)
    assert certificate.key_bits == 2048
    data = b"signed by the partner"
    verify_with_stored(certificate, sign(private_key, data), data)


def test_uploaded_key_as_bytes_with_a_bom_is_accepted():
    private_key = rsa_key()
    info = keys.parse_public_key(b"\xef\xbb\xbf" + public_xml(private_key).encode())
    assert info.pem == public_pem(private_key)


def refused(text) -> ValidationError:
    with pytest.raises(ValidationError) as exc:
        keys.parse_public_key(text)
    return exc.value


def test_small_and_non_rsa_keys_are_refused():
    small = refused(public_pem(rsa_key(1024)))
    assert small.messages == ["The key has 1024 bits; use an RSA key of at least 2048 bits."]
    assert refused(public_xml(rsa_key(1024))).code == "too_small"
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_pem = ec_key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    error = refused(ec_pem)
    assert error.code == "not_rsa" and "Only RSA keys are accepted" in error.messages[0]
    assert refused(self_signed_certificate_pem(ec_key)).code == "not_rsa"


def numbers_xml(n: int, e: int) -> str:
    return f"<RSAKeyValue><Modulus>{b64(n)}</Modulus><Exponent>{b64(e)}</Exponent></RSAKeyValue>"


def _der(tag: int, body: bytes) -> bytes:
    size = len(body)
    length = bytes([size]) if size < 128 else bytes([0x80 | ((size.bit_length() + 7) // 8)]) + size.to_bytes(
        (size.bit_length() + 7) // 8, "big")
    return bytes([tag]) + length + body


def numbers_pem(n: int, e: int) -> str:
    """An "RSA PUBLIC KEY" PEM (PKCS#1) of any two numbers, built by hand so no library checks them."""
    def integer(value: int) -> bytes:
        return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))

    der = _der(0x30, integer(n) + integer(e))
    body = base64.encodebytes(der).decode()
    return f"-----BEGIN RSA PUBLIC KEY-----\n{body}-----END RSA PUBLIC KEY-----\n"


@pytest.mark.parametrize("build", [numbers_xml, numbers_pem], ids=["rsa_xml", "pem"])
def test_an_even_modulus_is_refused(build):
    error = refused(build(2 ** 2048 - 2, 65537))
    assert error.code == "even_modulus" and error.messages == [keys.EVEN_MODULUS]


@pytest.mark.parametrize("exponent", [1, 2, 4, 65536, 2 ** 64 + 1])
def test_an_implausible_exponent_is_refused(exponent):
    modulus = rsa_key().public_key().public_numbers().n
    error = refused(numbers_xml(modulus, exponent))
    assert error.code == "bad_exponent" and error.messages == [keys.BAD_EXPONENT]
    # In PEM the key library already refuses an exponent under 3 or even as unreadable.
    expected = "bad_exponent" if exponent > 2 ** 32 else "invalid"
    assert refused(numbers_pem(modulus, exponent)).code == expected


@pytest.mark.parametrize("build", [numbers_xml, numbers_pem], ids=["rsa_xml", "pem"])
def test_the_numbers_of_a_real_key_pass_the_same_checks(build):
    public = rsa_key().public_key()
    numbers = public.public_numbers()
    info = keys.parse_public_key(build(numbers.n, numbers.e))
    assert info.bits == 2048 and info.pem == public_pem_of(public)
    assert keys.parse_public_key(build(numbers.n, 3)).bits == 2048


def public_pem_of(public_key) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.mark.parametrize("kind", ["pkcs8", "pkcs1", "xml"])
def test_a_private_key_is_refused_and_nothing_is_stored_or_audited(member, app, kind):
    private_key = rsa_key()
    if kind == "xml":
        text = keys.private_key_xml(private_key)
    else:
        fmt = (serialization.PrivateFormat.PKCS8 if kind == "pkcs8"
               else serialization.PrivateFormat.TraditionalOpenSSL)
        text = private_key.private_bytes(serialization.Encoding.PEM, fmt,
                                         serialization.NoEncryption()).decode()
    with pytest.raises(ValidationError) as exc:
        services.upload_certificate(actor=member.user, client=client_in(app, "sod"), public_key_text=text,
                                    description="", expires_at=expiry())
    assert exc.value.message_dict == {"public_key": ["This is a private key; upload only the public key."]}
    assert not ClientCertificate.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("text", [
    "", "   ", "hello", "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----",
    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
    "<RSAKeyValue><Modulus>AQAB</Modulus></RSAKeyValue>",
    "<RSAKeyValue><Modulus>!!!</Modulus><Exponent>AQAB</Exponent></RSAKeyValue>",
    "<Other><Modulus>AQAB</Modulus><Exponent>AQAB</Exponent></Other>",
    "<RSAKeyValue><Modulus>AQAB",
    b"\x30\x82\x01\x22\xff\xfe\x00",
])
def test_garbage_is_refused_with_a_clear_message(text):
    error = refused(text)
    assert error.code in {"invalid", "required", "not_text"}
    assert error.messages[0].endswith(".")


def test_text_over_16_kb_is_refused_before_parsing():
    valid = public_pem(rsa_key())
    padded = valid + "\n" * (keys.MAX_KEY_TEXT_BYTES - len(valid) + 1)
    assert refused(padded).code == "too_large"
    assert refused(padded.encode()).code == "too_large"
    assert keys.parse_public_key(valid + "\n" * 100).bits == 2048


@pytest.mark.parametrize("xml", [
    '<!DOCTYPE RSAKeyValue [<!ENTITY m "AQAB">]><RSAKeyValue><Modulus>&m;</Modulus>'
    "<Exponent>AQAB</Exponent></RSAKeyValue>",
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    "<RSAKeyValue><Modulus>&lol2;</Modulus></RSAKeyValue>",
    '<!DOCTYPE r SYSTEM "file:///etc/passwd"><RSAKeyValue/>',
    '<RSAKeyValue><!DOCTYPE x><Modulus>AQAB</Modulus></RSAKeyValue>',
])
def test_xml_with_a_doctype_or_entities_is_refused(xml):
    assert refused(xml).code in {"xml_dtd", "invalid"}
    assert refused(xml).messages[0] in {keys.XML_DTD, keys.NOT_A_KEY}


def test_doctype_is_refused_even_when_the_text_check_is_bypassed():
    """The expat handlers refuse declarations on their own."""
    reader = keys._RsaXmlReader()
    with pytest.raises(ValidationError) as exc:
        reader.read('<!DOCTYPE r [<!ENTITY a "b">]><RSAKeyValue><Modulus>&a;</Modulus></RSAKeyValue>')
    assert exc.value.code == "xml_dtd"


def test_xml_with_a_namespace_is_accepted():
    private_key = rsa_key()
    xml = public_xml(private_key).replace("<RSAKeyValue>",
                                          '<RSAKeyValue xmlns="http://www.w3.org/2000/09/xmldsig#">')
    assert keys.parse_public_key(xml).pem == public_pem(private_key)


def test_certificate_expiry_and_description_are_checked(member, app):
    client = client_in(app, "sod")
    with pytest.raises(ValidationError) as exc:
        services.generate_certificate(actor=member.user, client=client, description="x",
                                      expires_at=timezone.now() - timedelta(hours=1))
    assert exc.value.message_dict == {"expires_at": [services.EXPIRY_IN_PAST]}
    with pytest.raises(ValidationError) as exc:
        services.generate_certificate(actor=member.user, client=client, description="x" * 201,
                                      expires_at=expiry())
    assert exc.value.message_dict == {"description": [services.DESCRIPTION_TOO_LONG]}
    assert not ClientCertificate.objects.exists()


# ---------------------------------------------------------------- selectors

def test_client_of_never_returns_another_partners_client_or_an_unknown_environment(member, app):
    assert selectors.client_of(member.partner, app.pk, "stage") == client_in(app, "stage")
    other = PartnerMemberFactory()
    with pytest.raises(AppClient.DoesNotExist):
        selectors.client_of(other.partner, app.pk, "stage")
    with pytest.raises(AppClient.DoesNotExist):
        selectors.client_of(member.partner, app.pk, "production")


def publish_configuration(app, code: str):
    from appstore.models import ConfigurationVersion, VersionState
    return ConfigurationVersion.objects.create(app=app, environment=environment(code), label="2.0",
                                               state=VersionState.PUBLISHED, published_at=timezone.now())


def test_client_without_a_published_configuration_cannot_be_used(app):
    sod, stage = client_in(app, "sod"), client_in(app, "stage")
    assert selectors.client_status(sod).usable
    status = selectors.client_status(stage)
    assert not status.usable
    assert "No configuration is published in Stage yet" in status.reasons[0]
    publish_configuration(app, "stage")
    assert selectors.client_status(stage).usable


def test_online_client_of_a_standard_app_is_inactive_until_both_reviews_passed(app):
    publish_configuration(app, "online")
    online = client_in(app, "online")
    assert selectors.client_status(online).reasons == (selectors.PRODUCTION_BLOCKED,)
    app.certification_status = ReviewStatus.PASSED
    app.save()
    assert not selectors.client_status(client_in(app, "online")).usable
    app.security_audit_status = ReviewStatus.PASSED
    app.save()
    assert selectors.client_status(client_in(app, "online")) == selectors.ClientStatus(
        usable=True, reasons=(), live_configuration=selectors.live_configuration(online))


def test_custom_app_is_not_held_back_by_certification(member):
    custom = AppFactory(partner=member.partner, is_custom=True)
    publish_configuration(custom, "online")
    status = selectors.client_status(client_in(custom, "online"))
    assert custom.certification_status == ReviewStatus.NOT_STARTED
    assert status.usable and status.reasons == ()


def test_new_secrets_use_the_fast_salted_hash_and_older_hashes_still_verify(partner_member):
    from django.contrib.auth.hashers import make_password

    from appstore.models import AppClient, ClientSecret
    from appstore.services.credentials import create_secret, delete_secret

    from ..factories import AppFactory

    app = AppFactory(partner=partner_member.partner)
    client = AppClient.objects.get(app=app, environment__code="sod")
    stored, raw = create_secret(actor=partner_member.user, client=client)
    assert stored.secret_hash.startswith("client_secret_sha256$")
    assert stored.matches(raw) and not stored.matches(raw + "x") and not stored.matches("")
    delete_secret(actor=partner_member.user, client=client)
    older = ClientSecret.objects.create(client=client, secret_hash=make_password("legacy-secret"),
                                        expires_at=stored.expires_at)
    assert older.matches("legacy-secret") and not older.matches("other")

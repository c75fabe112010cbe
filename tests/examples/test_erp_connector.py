"""The reference ERP connector, driven through the Flask test client as the platform's ERP sync drives it.

A small stand-in for the platform's login service serves the JWKS over real HTTP (werkzeug, in a
thread), so the connector fetches and caches the platform's keys exactly as it does against the platform.
"""

import base64
import json
import re
import sqlite3
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from examples.erp_connector import protocol, store
from examples.erp_connector.app import create_app
from examples.erp_connector.handshake import CTX_CLAIM, sign_reply
from examples.erp_connector.server import serve_in_thread

CLIENT_ID = "0123456789abcdef0123456789abcdef"
CTX = "Cust12345"
OTHER_CTX = "Cust54321"
ISO_MICROS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


class StandIn:
    """The platform's JWKS for environment sod, over real HTTP; counts how often it is fetched."""

    def __init__(self) -> None:
        self.keys: list[RSAKey] = []
        self.fetches = 0
        self.broken = False
        self.server = make_server("127.0.0.1", 0, self.wsgi)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}/sod"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    @Request.application
    def wsgi(self, request: Request) -> Response:
        if request.path != "/sod/login/.well-known/jwks":
            return Response("{}", status=404, content_type="application/json")
        self.fetches += 1
        if self.broken:
            return Response("down for maintenance", status=503)
        return Response(json.dumps(KeySet(self.keys).as_dict(private=False)), content_type="application/json")


@pytest.fixture(scope="module")
def stand_in():
    platform = StandIn()
    yield platform
    platform.server.shutdown()
    platform.server.server_close()


@pytest.fixture(scope="module")
def platform_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "platform-1"})


@pytest.fixture(scope="module")
def partner_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def platform(stand_in, platform_key):
    stand_in.keys = [platform_key]
    stand_in.fetches = 0
    stand_in.broken = False
    return stand_in


def pem_of(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture
def settings_path(tmp_path, platform, partner_key):
    path = tmp_path / "acme.json"
    path.write_text(json.dumps({
        "environment": "sod", "issuer": platform.issuer, "client_id": CLIENT_ID, "app_name": "Acme ERP",
        "private_key_pem": pem_of(partner_key),
    }))
    return path


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "erp.sqlite3"


@pytest.fixture
def app(settings_path, db_path):
    app = create_app(settings_path=settings_path, db_path=db_path)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def make_token(key: RSAKey, ctx: str = CTX, kid: str | None = None, **changes) -> str:
    now = int(time.time())
    claims = {"iss": "SuperOffice AS", "aud": f"spn:{CLIENT_ID}", "sub": ctx, CTX_CLAIM: ctx,
              "nonce": uuid.uuid4().hex, "iat": now, "nbf": now, "exp": now + 360}
    claims.update(changes)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode({"alg": "RS256", "kid": kid or key.kid}, claims, key)


@pytest.fixture
def token(platform_key):
    return make_token(platform_key)


@pytest.fixture
def call(client, token):
    def call(operation: str, body: dict | None = None, bearer: str | None = None, status: int = 200) -> dict:
        response = client.post(f"/{operation}", json=body or {},
                                headers={"Authorization": f"Bearer {bearer or token}"})
        assert response.status_code == status, response.get_json()
        return response.get_json()
    return call


def new_connection(call, company_db: str = "demo", bearer: str | None = None, **config) -> str:
    connection_id = str(uuid.uuid4())
    answer = call("SaveConnection", {"ConnectionId": connection_id,
                                     "ConfigFields": {"CompanyDatabase": company_db, **config}},
                  bearer=bearer)
    assert answer["IsOk"] is True, answer
    return connection_id


@pytest.fixture
def connection(call) -> str:
    return new_connection(call)


def rows(db_path, sql: str, *params) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def all_by_timestamp(call, connection, actor_type="Customer", timestamp=None, take=1000) -> list[dict]:
    actors, skip = [], 0
    while True:
        page = call("GetActorsByTimestamp", {"ConnectionId": connection, "ActorType": actor_type,
                                             "Timestamp": timestamp, "FieldKeys": [], "Skip": skip,
                                             "Take": take})
        assert page["IsOk"] is True, page
        actors += page["Actors"]
        if len(page["Actors"]) < take:
            return actors
        skip += take


# --- The value encoding ---------------------------------------------------------------------------

def test_encodings_follow_the_protocol():
    moment = datetime(2026, 12, 4, 10, 15, 0, 123456)
    assert protocol.encode_date(moment) == "[DT:12/04/2026 10:15:00.1234560]"
    assert protocol.encode_date(date(2019, 3, 1)) == "[DT:03/01/2019 00:00:00.0000000]"
    assert protocol.encode_float(1234.5) == "[F:1234.5]"
    assert protocol.encode_float(50000.0) == "[F:50000]"
    assert protocol.encode_int(42) == "[I:42]"
    assert protocol.encode_int(True) == "[I:1]"
    assert protocol.encode_int(False) == "[I:0]"


@pytest.mark.parametrize(("field_type", "raw", "stored"), [
    (protocol.DATE, "[DT:12/04/2026 10:15:00.1234567]", "2026-12-04T10:15:00.123456"),
    (protocol.DATE, "[DT:01/31/2020 23:59:59]", "2020-01-31T23:59:59.000000"),
    (protocol.DOUBLE, "[F:1234.5]", 1234.5),
    (protocol.DOUBLE, "[F:-3]", -3.0),
    (protocol.DOUBLE, "[F:1E+3]", 1000.0),
    (protocol.INTEGER, "[I:42]", 42),
    (protocol.INTEGER, "[I:-7]", -7),
    (protocol.CHECKBOX, "[I:1]", 1),
    (protocol.CHECKBOX, "[I:0]", 0),
    (protocol.TEXT, "[I:1] is text here", "[I:1] is text here"),
    (protocol.TEXT, "", None),
])
def test_decode_accepts_the_encoded_values(field_type, raw, stored):
    assert protocol.decode(protocol.Field("F", "F", field_type), raw) == stored


@pytest.mark.parametrize(("field_type", "raw"), [
    (protocol.DATE, "2026-12-04"),
    (protocol.DATE, "[DT:13/01/2026 00:00:00.0000000]"),
    (protocol.DATE, "[DT:2026-12-04 10:15:00]"),
    (protocol.DOUBLE, "1234.5"),
    (protocol.DOUBLE, "[F:abc]"),
    (protocol.DOUBLE, "[F:1,5]"),
    (protocol.DOUBLE, "[I:12]"),
    (protocol.INTEGER, "42"),
    (protocol.INTEGER, "[I:4.2]"),
    (protocol.INTEGER, "[F:42]"),
    (protocol.INTEGER, "[I:99999999999999999999]"),
    (protocol.CHECKBOX, "[I:2]"),
    (protocol.CHECKBOX, "true"),
    (protocol.TEXT, 42),
])
def test_decode_refuses_values_of_the_wrong_type(field_type, raw):
    with pytest.raises(protocol.FieldValueError):
        protocol.decode(protocol.Field("F", "F", field_type), raw)


def test_decode_checks_max_length_mandatory_and_list_keys():
    with pytest.raises(protocol.FieldValueError, match="at most 3"):
        protocol.decode(protocol.Field("F", "F", protocol.TEXT, max_length=3), "abcd")
    with pytest.raises(protocol.FieldValueError, match="mandatory"):
        protocol.decode(protocol.Field("F", "F", protocol.TEXT, protocol.MANDATORY), "")
    countries = protocol.Field("Country", "Country", protocol.LIST, list_name="Countries")
    assert protocol.decode(countries, "NO", {"Countries": {"NO": "Norway"}}) == "NO"
    with pytest.raises(protocol.FieldValueError, match="not a key"):
        protocol.decode(countries, "Norway", {"Countries": {"NO": "Norway"}})


# --- The handshake -------------------------------------------------------------------------------

def test_authenticate_answers_the_nonce_signed_with_the_apps_key(client, platform_key, partner_key, platform):
    before = datetime.now(UTC).strftime("%Y%m%d%H%M")
    response = client.post("/Authenticate", json={"Token": make_token(platform_key, nonce="n0nce-42")})
    after = datetime.now(UTC).strftime("%Y%m%d%H%M")

    assert response.status_code == 200
    answer = response.get_json()
    assert answer["IsOk"] is True and answer["State"] == "Ok" and answer["ErrorCode"] == ""
    nonce, stamp, signature = answer["Token"].split(".")
    assert nonce == "n0nce-42"
    assert before <= stamp <= after and re.fullmatch(r"\d{12}", stamp)
    partner_key.public_key().verify(base64.b64decode(signature, validate=True), f"{nonce}.{stamp}".encode(),
                                    padding.PKCS1v15(), hashes.SHA256())
    assert platform.fetches == 1
    client.post("/Authenticate", json={"Token": make_token(platform_key)})
    assert platform.fetches == 1  # the keys are cached


def test_sign_reply_uses_the_utc_minute(partner_key):
    oslo = timezone(timedelta(hours=1))
    reply = sign_reply("abc", pem_of(partner_key), now=datetime(2026, 1, 1, 2, 30, 59, tzinfo=oslo))
    assert reply.startswith("abc.202601010130.")


def bad_tokens(platform_key: RSAKey, stranger: RSAKey) -> dict[str, str]:
    now = int(time.time())
    return {
        "wrong aud": make_token(platform_key, aud="spn:someone-else"),
        "wrong iss": make_token(platform_key, iss="http://127.0.0.1:8000/sod"),
        "expired": make_token(platform_key, iat=now - 1000, nbf=now - 1000, exp=now - 400),
        "not yet valid": make_token(platform_key, nbf=now + 600, exp=now + 960),
        "no exp": make_token(platform_key, exp=None),
        "bad signature": make_token(stranger, kid=platform_key.kid),
        "unknown kid": make_token(stranger),
        "no tenant": make_token(platform_key, sub=None, **{CTX_CLAIM: None}),
        "no nonce": make_token(platform_key, nonce=None),
        "HS256": jwt.encode({"alg": "HS256"}, {"aud": f"spn:{CLIENT_ID}", "iss": "SuperOffice AS",
                                               "exp": now + 60, "sub": CTX, "nonce": "n"},
                            OctKey.import_key(b"k" * 32), algorithms=["HS256"]),
        "not a JWT": "not-a-jwt",
    }


@pytest.fixture(scope="module")
def stranger_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "stranger"})


@pytest.mark.parametrize("case", ["wrong aud", "wrong iss", "expired", "not yet valid", "no exp",
                                  "bad signature", "unknown kid", "no tenant", "no nonce", "HS256",
                                  "not a JWT"])
def test_authenticate_refuses_a_token_that_does_not_verify(client, app, platform_key, stranger_key, case):
    response = client.post("/Authenticate", json={"Token": bad_tokens(platform_key, stranger_key)[case]})

    assert response.status_code == 401
    answer = response.get_json()
    assert answer["IsOk"] is False and answer["ErrorCode"] == "INVALID_TOKEN" and "Token" not in answer
    log = client.get("/log").get_json()["calls"]
    assert log[0]["operation"] == "Authenticate" and log[0]["status"] == 401


def test_authenticate_without_a_token_or_json_is_refused(client):
    assert client.post("/Authenticate", json={}).status_code == 401
    assert client.post("/Authenticate", data="Token=x").status_code == 401


def test_an_unknown_kid_fetches_the_keys_again_once(client, app, platform, platform_key, stranger_key):
    app.config["ERP_JWKS_MIN_REFETCH"] = 0
    assert client.post("/Authenticate", json={"Token": make_token(platform_key)}).status_code == 200
    assert platform.fetches == 1

    assert client.post("/Authenticate", json={"Token": make_token(stranger_key)}).status_code == 401
    assert platform.fetches == 2  # one more fetch, then refused

    platform.keys = [platform_key, stranger_key]  # the platform rotates in a new key
    assert client.post("/Authenticate", json={"Token": make_token(stranger_key)}).status_code == 200
    assert platform.fetches == 3


def test_unknown_kids_do_not_make_the_connector_fetch_again_and_again(client, platform, platform_key,
                                                                      stranger_key):
    assert client.post("/Authenticate", json={"Token": make_token(platform_key)}).status_code == 200
    for _ in range(3):
        assert client.post("/Authenticate", json={"Token": make_token(stranger_key)}).status_code == 401
    assert platform.fetches == 1  # the keys were fetched moments ago


def test_without_settings_file_the_connector_is_unavailable(tmp_path, platform_key):
    app = create_app(settings_path=tmp_path / "missing.json", db_path=tmp_path / "erp.sqlite3")
    client = app.test_client()
    response = client.post("/Authenticate", json={"Token": make_token(platform_key)})
    assert response.status_code == 503 and response.get_json()["ErrorCode"] == "NOT_CONFIGURED"
    assert "missing.json does not exist" in response.get_json()["TechExplanation"]
    assert "missing.json does not exist" in client.get("/").get_data(as_text=True)


def test_unreachable_keys_are_a_temporary_failure(client, platform, platform_key):
    platform.broken = True
    response = client.post("/Authenticate", json={"Token": make_token(platform_key)})
    assert response.status_code == 503 and response.get_json()["ErrorCode"] == "KEYS_UNAVAILABLE"


def test_keys_past_their_age_are_kept_while_the_platform_is_unreachable(client, app, platform, platform_key):
    assert client.post("/Authenticate", json={"Token": make_token(platform_key)}).status_code == 200
    cache = next(iter(app.extensions["erp_connector"]["jwks"].values()))
    cache.fetched_at -= 2 * 3600  # the cached keys are old
    platform.broken = True

    assert client.post("/Authenticate", json={"Token": make_token(platform_key)}).status_code == 200
    assert platform.fetches == 2  # it tried, and kept the keys it had


# --- The bearer token on every other operation -------------------------------------------------

@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz"])
def test_operations_need_a_bearer_token(client, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.post("/GetConfigData", json={}, headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["IsOk"] is False and response.get_json()["ErrorCode"] == "INVALID_TOKEN"


@pytest.mark.parametrize("case", ["wrong aud", "expired", "bad signature", "unknown kid"])
def test_operations_refuse_a_bearer_token_that_does_not_verify(client, db_path, platform_key, stranger_key,
                                                               case):
    bearer = bad_tokens(platform_key, stranger_key)[case]
    response = client.post("/SaveConnection", json={"ConnectionId": str(uuid.uuid4()),
                                                     "ConfigFields": {"CompanyDatabase": "demo"}},
                           headers={"Authorization": f"Bearer {bearer}"})
    assert response.status_code == 401
    assert rows(db_path, "SELECT COUNT(*) FROM connections") == [(0,)]


def test_unknown_operation_and_body_that_is_not_an_object(client, token):
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post("/DropDatabase", json={}, headers=headers)
    assert response.status_code == 404 and response.get_json()["ErrorCode"] == "UNKNOWN_OPERATION"
    response = client.post("/GetConfigData", json=[1, 2], headers=headers)
    assert response.status_code == 400 and response.get_json()["IsOk"] is False


# --- Configuration and connections -----------------------------------------------------------------

def test_get_config_data_describes_the_configuration_fields(call):
    answer = call("GetConfigData")

    assert answer["IsOk"] is True and answer["State"] == "Ok"
    fields = {field["FieldKey"]: field for field in answer["Fields"]}
    assert list(fields) == ["CompanyDatabase", "ApiKey", "Region", "IncludeSuppliers", "Info"]
    assert (fields["CompanyDatabase"]["FieldType"], fields["CompanyDatabase"]["Access"]) == (1, 1)
    assert fields["ApiKey"]["FieldType"] == 2
    assert (fields["Region"]["FieldType"], fields["Region"]["ListName"]) == (5, "Regions")
    suppliers = fields["IncludeSuppliers"]
    assert (suppliers["FieldType"], suppliers["DefaultValue"]) == (0, "[I:1]")
    assert fields["Info"]["FieldType"] == 99 and "demo, test" in fields["Info"]["DisplayName"]
    assert [field["Rank"] for field in answer["Fields"]] == [1, 2, 3, 4, 5]
    assert set(answer["Fields"][0]) == {"FieldKey", "DisplayName", "DisplayDescription", "FieldType",
                                        "ListName", "DefaultValue", "MaxLength", "Access", "Rank"}


def test_test_config_data_accepts_a_known_company_database(call):
    answer = call("TestConfigData", {"ConfigFields": {"CompanyDatabase": "test", "ApiKey": "k",
                                                      "Region": "europe", "IncludeSuppliers": "[I:0]"}})
    assert answer["IsOk"] is True and "test" in answer["UserExplanation"]


@pytest.mark.parametrize(("config", "explanation"), [
    ({"CompanyDatabase": "prod"}, "no company database called 'prod'"),
    ({}, "CompanyDatabase is mandatory"),
    ({"CompanyDatabase": "demo", "IncludeSuppliers": "yes"}, "IncludeSuppliers is a checkbox"),
    ({"CompanyDatabase": "demo", "Region": "mars"}, "not a key of the list Regions"),
])
def test_test_config_data_explains_what_is_wrong(call, config, explanation):
    answer = call("TestConfigData", {"ConfigFields": config})

    assert answer["IsOk"] is False and answer["State"] == "Error"
    assert explanation in answer["UserExplanation"]
    if "prod" in explanation:
        assert "demo, test" in answer["UserExplanation"]


def test_save_test_and_delete_a_connection(call, db_path):
    connection_id = str(uuid.uuid4()).upper()
    saved = call("SaveConnection", {"ConnectionId": connection_id,
                                    "ConfigFields": {"CompanyDatabase": "demo", "ApiKey": "secret-key"}})
    assert saved["IsOk"] is True
    stored = rows(db_path, "SELECT connection_id, ctx, config FROM connections")
    assert [(cid, ctx) for cid, ctx, _ in stored] == [(connection_id.lower(), CTX)]
    assert json.loads(stored[0][2]) == {"CompanyDatabase": "demo", "ApiKey": "secret-key", "Region": "nordic",
                                        "IncludeSuppliers": "[I:1]"}

    tested = call("TestConnection", {"ConnectionId": connection_id})
    assert tested["IsOk"] is True and "40 customers" in tested["UserExplanation"]

    # Saving again updates the configuration.
    call("SaveConnection", {"ConnectionId": connection_id, "ConfigFields": {"CompanyDatabase": "test"}})
    assert "4 customers" in call("TestConnection", {"ConnectionId": connection_id})["UserExplanation"]

    assert call("DeleteConnection", {"ConnectionId": connection_id})["IsOk"] is True
    assert rows(db_path, "SELECT COUNT(*) FROM connections") == [(0,)]
    again = call("TestConnection", {"ConnectionId": connection_id})
    assert again["IsOk"] is False and again["ErrorCode"] == "UNKNOWN_CONNECTION_ID"
    gone = call("DeleteConnection", {"ConnectionId": connection_id})
    assert gone["IsOk"] is True and gone["State"] == "OkWithInfo"


def test_save_connection_refuses_a_bad_id_or_configuration(call, db_path):
    answer = call("SaveConnection", {"ConnectionId": "42", "ConfigFields": {"CompanyDatabase": "demo"}})
    assert answer["IsOk"] is False and answer["ErrorCode"] == "INVALID_CONNECTION_ID"
    answer = call("SaveConnection", {"ConnectionId": str(uuid.uuid4()),
                                     "ConfigFields": {"CompanyDatabase": "x"}})
    assert answer["IsOk"] is False and answer["ErrorCode"] == "UNKNOWN_COMPANY_DATABASE"
    assert rows(db_path, "SELECT COUNT(*) FROM connections") == [(0,)]


@pytest.mark.parametrize(("operation", "body"), [
    ("TestConnection", {}),
    ("GetSupportedActorTypes", {}),
    ("GetSupportedActorTypeFields", {"ActorType": "Customer"}),
    ("GetSearchableFields", {"ActorType": "Customer"}),
    ("GetActors", {"ActorType": "Customer", "ErpKeys": ["CU000001"]}),
    ("SearchActors", {"ActorType": "Customer", "SearchText": "a"}),
    ("SearchActorByParent", {"ActorType": "Person", "ParentActorType": "Customer",
                             "ParentErpKey": "CU000001"}),
    ("SearchActorsAdvanced", {"ActorType": "Customer", "Restrictions": []}),
    ("CreateActor", {"Actor": {"ActorType": "Customer", "FieldValues": {"Name": "X"}}}),
    ("SaveActors", {"Actors": []}),
    ("GetList", {"ListName": "Countries"}),
    ("GetListItems", {"ListName": "Countries", "Keys": ["NO"]}),
    ("GetActorsByTimestamp", {"ActorType": "Customer", "Timestamp": None}),
])
def test_an_unknown_connection_id_is_answered_as_such(call, db_path, operation, body):
    before = rows(db_path, "SELECT COUNT(*) FROM companies")
    answer = call(operation, {"ConnectionId": str(uuid.uuid4()), **body})

    assert answer["IsOk"] is False and answer["ErrorCode"] == "UNKNOWN_CONNECTION_ID"
    assert rows(db_path, "SELECT COUNT(*) FROM companies") == before


def test_another_tenants_token_is_refused_for_a_connection(call, platform_key, db_path):
    connection = new_connection(call)
    other = make_token(platform_key, ctx=OTHER_CTX)

    answer = call("GetActorsByTimestamp", {"ConnectionId": connection, "ActorType": "Customer"}, bearer=other)
    assert answer["IsOk"] is False and answer["ErrorCode"] == "CONNECTION_OF_ANOTHER_TENANT"
    assert "Actors" not in answer
    answer = call("SaveActors", {"ConnectionId": connection, "Actors": [
        {"ActorType": "Customer", "ErpKey": "CU000001", "FieldValues": {"Name": "Taken over"}}]},
                  bearer=other)
    assert answer["IsOk"] is False and answer["ErrorCode"] == "CONNECTION_OF_ANOTHER_TENANT"
    assert rows(db_path, "SELECT name FROM companies WHERE company_db = 'demo' AND erp_key = 'CU000001'") != [
        ("Taken over",)]
    # Neither may it take the connection over or delete it.
    answer = call("SaveConnection", {"ConnectionId": connection, "ConfigFields": {"CompanyDatabase": "test"}},
                  bearer=other)
    assert answer["IsOk"] is False and answer["ErrorCode"] == "CONNECTION_OF_ANOTHER_TENANT"
    assert call("DeleteConnection", {"ConnectionId": connection}, bearer=other)["IsOk"] is False
    stored = rows(db_path, "SELECT ctx, config FROM connections")
    assert stored[0][0] == CTX and json.loads(stored[0][1])["CompanyDatabase"] == "demo"
    # The owner still can.
    assert call("TestConnection", {"ConnectionId": connection})["IsOk"] is True


def test_two_connections_see_their_own_company_database(call, platform_key):
    demo = new_connection(call, "demo")
    test = new_connection(call, "test", bearer=make_token(platform_key, ctx=OTHER_CTX))
    other = make_token(platform_key, ctx=OTHER_CTX)

    demo_keys = {actor["ErpKey"] for actor in all_by_timestamp(call, demo)}
    test_actors = call("GetActorsByTimestamp", {"ConnectionId": test, "ActorType": "Customer"}, bearer=other)
    assert len(demo_keys) == 40 and len(test_actors["Actors"]) == 4
    names = {actor["FieldValues"]["Name"] for actor in test_actors["Actors"]}
    created = call("CreateActor", {"ConnectionId": demo, "Actor": {
        "ActorType": "Customer", "FieldValues": {"Name": "Only in demo AS"}}})
    found = call("GetActors", {"ConnectionId": test, "ActorType": "Customer",
                               "ErpKeys": [created["Actor"]["ErpKey"]]}, bearer=other)
    assert created["Actor"]["ErpKey"] == "CU000041" and found["Actors"] == []
    assert "Only in demo AS" not in names


# --- Actor types, fields, lists ------------------------------------------------------------------

def test_supported_actor_types_follow_include_suppliers(call):
    assert call("GetSupportedActorTypes", {"ConnectionId": new_connection(call)})["ActorTypes"] == [
        "Customer", "Supplier", "Partner", "Person"]
    without = new_connection(call, IncludeSuppliers="[I:0]")
    assert call("GetSupportedActorTypes", {"ConnectionId": without})["ActorTypes"] == [
        "Customer", "Partner", "Person"]
    answer = call("GetActorsByTimestamp", {"ConnectionId": without, "ActorType": "Supplier"})
    assert answer["IsOk"] is False and answer["ErrorCode"] == "UNKNOWN_ACTOR_TYPE"
    persons = all_by_timestamp(call, without, "Person")
    assert persons and {person["ParentActorType"] for person in persons} <= {"Customer", "Partner"}


def test_actor_type_fields(call, connection):
    customer = call("GetSupportedActorTypeFields",
                    {"ConnectionId": connection, "ActorType": "Customer"})["Fields"]
    fields = {field["FieldKey"]: (field["FieldType"], field["Access"], field["ListName"])
              for field in customer}
    assert fields == {
        "Name": (1, 1, ""), "OrgNr": (1, 0, ""), "Number1": (1, 0, ""), "Department": (1, 0, ""),
        "Phone": (1, 0, ""), "Email": (1, 0, ""), "Country": (5, 0, "Countries"), "CreditLimit": (4, 0, ""),
        "PaymentTerms": (3, 0, ""), "IsActive": (0, 0, ""), "CustomerSince": (6, 0, ""), "ErpId": (1, 2, ""),
    }
    person = call("GetSupportedActorTypeFields",
                  {"ConnectionId": connection, "ActorType": "Person"})["Fields"]
    assert [(field["FieldKey"], field["Access"]) for field in person] == [
        ("Firstname", 0), ("Lastname", 1), ("Title", 0), ("Email", 0), ("Phone", 0), ("ErpId", 2)]
    unknown = call("GetSupportedActorTypeFields", {"ConnectionId": connection, "ActorType": "Invoice"})
    assert unknown["IsOk"] is False and unknown["ErrorCode"] == "UNKNOWN_ACTOR_TYPE"


def test_searchable_fields(call, connection):
    answer = call("GetSearchableFields", {"ConnectionId": connection, "ActorType": "Person"})
    assert [field["FieldKey"] for field in answer["Fields"]] == ["Firstname", "Lastname", "Email", "Phone"]


def test_lists(call, connection):
    countries = call("GetList", {"ConnectionId": connection, "ListName": "Countries"})
    assert countries["ListName"] == "Countries" and countries["DisplayName"] == "Countries"
    items = {item["Key"]: item["Value"] for item in countries["Items"]}
    assert items["NO"] == "Norway" and {"SE", "DK", "FI", "DE", "GB"} <= set(items)
    terms = call("GetList", {"ListName": "PaymentTerms"})  # lists need no connection
    assert {"Key": "30", "Value": "30 days net"} in terms["Items"]
    picked = call("GetListItems", {"ConnectionId": connection, "ListName": "Countries",
                                   "Keys": ["SE", "XX", "NO"]})
    assert picked["Items"] == [{"Key": "SE", "Value": "Sweden"}, {"Key": "NO", "Value": "Norway"}]
    unknown = call("GetList", {"ConnectionId": connection, "ListName": "Colours"})
    assert unknown["IsOk"] is False and unknown["ErrorCode"] == "UNKNOWN_LIST"


# --- Reading actors -------------------------------------------------------------------------------

def test_get_actors_encodes_every_field(call, connection, db_path):
    (name, credit, terms, active, since, country) = rows(
        db_path, "SELECT name, credit_limit, payment_terms, is_active, customer_since, country "
                 "FROM companies WHERE company_db = 'demo' AND erp_key = 'CU000003'")[0]
    answer = call("GetActors", {"ConnectionId": connection, "ActorType": "Customer",
                                "ErpKeys": ["CU000003", "CU999999", "CU000001"], "FieldKeys": []})

    assert [actor["ErpKey"] for actor in answer["Actors"]] == ["CU000003", "CU000001"]
    actor = answer["Actors"][0]
    assert actor["ActorType"] == "Customer" and actor["ParentActorType"] == "" and actor["ParentErpKey"] == ""
    assert ISO_MICROS.fullmatch(actor["LastModified"])
    values = actor["FieldValues"]
    assert values["Name"] == name and values["ErpId"] == "CU000003" and values["Country"] == country
    assert values["CreditLimit"] == protocol.encode_float(credit) and values["CreditLimit"].startswith("[F:")
    assert values["PaymentTerms"] == f"[I:{terms}]" and values["IsActive"] == f"[I:{active}]"
    assert re.fullmatch(r"\[DT:\d{2}/\d{2}/\d{4} 00:00:00\.0000000\]", values["CustomerSince"])
    assert values["CustomerSince"] == protocol.encode_date(datetime.fromisoformat(since))


def test_get_actors_returns_only_the_field_keys_asked_for(call, connection):
    answer = call("GetActors", {"ConnectionId": connection, "ActorType": "Person", "ErpKeys": ["PE000001"],
                                "FieldKeys": ["Lastname", "Email", "NoSuchField"]})
    person = answer["Actors"][0]
    assert set(person["FieldValues"]) == {"Lastname", "Email"}
    assert person["ParentActorType"] == "Customer" and person["ParentErpKey"] == "CU000001"


def test_search_actors_matches_searchable_fields_ignoring_case(call, connection):
    created = call("CreateActor", {"ConnectionId": connection, "Actor": {
        "ActorType": "Customer", "FieldValues": {"Name": "Ærlig Østfold Bakeri AS", "Department": "Zyxwv"}}})
    key = created["Actor"]["ErpKey"]

    found = call("SearchActors", {"ConnectionId": connection, "ActorType": "Customer",
                                  "SearchText": "ØSTFOLD", "FieldKeys": ["Name"]})
    assert [actor["ErpKey"] for actor in found["Actors"]] == [key]
    assert found["Actors"][0]["FieldValues"] == {"Name": "Ærlig Østfold Bakeri AS"}
    # Department is not a searchable field.
    none = call("SearchActors", {"ConnectionId": connection, "ActorType": "Customer", "SearchText": "zyxwv"})
    assert none["IsOk"] is True and none["Actors"] == []
    by_number = call("SearchActors", {"ConnectionId": connection, "ActorType": "Customer",
                                      "SearchText": "10007"})
    assert [actor["ErpKey"] for actor in by_number["Actors"]] == ["CU000007"]


def test_search_actor_by_parent(call, connection, db_path):
    expected = {key for (key,) in rows(db_path, "SELECT p.erp_key FROM persons p JOIN companies c "
                                                "ON c.id = p.company_id WHERE c.erp_key = 'CU000002' "
                                                "AND c.company_db = 'demo'")}
    answer = call("SearchActorByParent", {"ConnectionId": connection, "ActorType": "Person", "SearchText": "",
                                          "ParentActorType": "Customer", "ParentErpKey": "CU000002"})
    assert {actor["ErpKey"] for actor in answer["Actors"]} == expected and expected
    assert {actor["ParentErpKey"] for actor in answer["Actors"]} == {"CU000002"}
    lastname = answer["Actors"][0]["FieldValues"]["Lastname"]
    narrowed = call("SearchActorByParent", {"ConnectionId": connection, "ActorType": "Person",
                                            "SearchText": lastname.upper(), "ParentActorType": "Customer",
                                            "ParentErpKey": "CU000002"})
    assert lastname in [actor["FieldValues"]["Lastname"] for actor in narrowed["Actors"]]
    for actor in narrowed["Actors"]:
        assert lastname.casefold() in " ".join(actor["FieldValues"][key] for key in
                                               ("Firstname", "Lastname", "Email", "Phone")).casefold()
    wrong = call("SearchActorByParent", {"ConnectionId": connection, "ActorType": "Customer",
                                         "SearchText": "", "ParentActorType": "Customer",
                                         "ParentErpKey": "CU000002"})
    assert wrong["IsOk"] is False


def advanced(call, connection, *restrictions, actor_type="Customer") -> dict:
    return call("SearchActorsAdvanced", {
        "ConnectionId": connection, "ActorType": actor_type, "FieldKeys": [],
        "Restrictions": [{"FieldKey": key, "Operator": operator, "Values": values}
                         for key, operator, values in restrictions]})


def test_search_actors_advanced_operators(call, connection, db_path):
    companies = rows(db_path, "SELECT erp_key, name, credit_limit, country, customer_since FROM companies "
                              "WHERE company_db = 'demo' AND kind = 'Customer'")

    def keys(*restrictions):
        answer = advanced(call, connection, *restrictions)
        assert answer["IsOk"] is True, answer
        return {actor["ErpKey"] for actor in answer["Actors"]}

    first = companies[0]
    assert keys(("Name", "equals", [first[1].upper()])) == {c[0] for c in companies if c[1] == first[1]}
    assert keys(("Name", "notEquals", [first[1]])) == {c[0] for c in companies if c[1] != first[1]}
    assert keys(("Name", "contains", ["LOGISTICS"])) == {c[0] for c in companies if "Logistics" in c[1]}
    assert keys(("Name", "begins", ["nord "])) == {c[0] for c in companies if c[1].startswith("Nord ")}
    assert keys(("CreditLimit", "gt", ["[F:100000]"])) == {c[0] for c in companies if c[2] > 100000}
    assert keys(("CreditLimit", "ge", ["[F:100000]"])) == {c[0] for c in companies if c[2] >= 100000}
    assert keys(("CreditLimit", "lt", ["[F:50000.5]"])) == {c[0] for c in companies if c[2] < 50000.5}
    assert keys(("CreditLimit", "le", ["[F:50000]"])) == {c[0] for c in companies if c[2] <= 50000}
    assert keys(("Country", "in", ["SE", "DK"])) == {c[0] for c in companies if c[3] in ("SE", "DK")}
    assert keys(("CustomerSince", "ge", ["[DT:01/01/2020 00:00:00.0000000]"]),
                ("Country", "equals", ["NO"])) == {c[0] for c in companies
                                                   if c[4] >= "2020-01-01" and c[3] == "NO"}
    assert keys(("CreditLimit", "gt", ["[F:100000]"])) and keys(("Country", "in", ["SE", "DK"]))


@pytest.mark.parametrize(("restriction", "explanation"), [
    (("Nope", "equals", ["x"]), "no field 'Nope'"),
    (("Name", "like", ["x"]), "Unknown operator"),
    (("CreditLimit", "contains", ["[F:1]"]), "works on text fields"),
    (("CreditLimit", "gt", ["1000"]), "is a decimal"),
    (("Name", "equals", ["a", "b"]), "takes one value"),
    (("Country", "in", []), "one or more values"),
])
def test_search_actors_advanced_explains_a_bad_restriction(call, connection, restriction, explanation):
    answer = advanced(call, connection, restriction)
    assert answer["IsOk"] is False and explanation in answer["UserExplanation"]


# --- GetActorsByTimestamp --------------------------------------------------------------------------

def test_timestamp_paging_over_equal_last_modified_values(call, connection):
    everything = call("GetActorsByTimestamp", {"ConnectionId": connection, "ActorType": "Customer",
                                               "Timestamp": None, "FieldKeys": ["Name"]})["Actors"]
    order = [(actor["LastModified"], actor["ErpKey"]) for actor in everything]
    assert len(order) == 40 and order == sorted(order)
    stamps = [stamp for stamp, _ in order]
    assert len(set(stamps)) < len(stamps)  # seeded companies share LastModified values

    paged = all_by_timestamp(call, connection, take=3)  # pages end in the middle of equal values
    assert [(actor["LastModified"], actor["ErpKey"]) for actor in paged] == order


def test_timestamp_is_on_or_after(call, connection):
    everything = all_by_timestamp(call, connection)
    middle = everything[20]["LastModified"]

    after = all_by_timestamp(call, connection, timestamp=middle)
    assert after == [actor for actor in everything if actor["LastModified"] >= middle]
    assert after[0]["LastModified"] == middle
    # The same moment written another way, without a zone (taken as UTC) or with an offset.
    assert all_by_timestamp(call, connection, timestamp=middle.rstrip("Z")) == after
    moment = datetime.fromisoformat(middle).astimezone(datetime.now().astimezone().tzinfo)
    assert all_by_timestamp(call, connection, timestamp=moment.isoformat()) == after


def test_timestamp_take_skip_and_bad_values(call, connection):
    body = {"ConnectionId": connection, "ActorType": "Customer", "Timestamp": None}
    assert len(call("GetActorsByTimestamp", {**body, "Take": 5000})["Actors"]) == 40
    assert len(call("GetActorsByTimestamp", {**body, "Skip": 38, "Take": 10})["Actors"]) == 2
    for bad in ({"Skip": -1}, {"Take": "ten"}, {"Timestamp": "yesterday"}, {"Timestamp": 12}):
        answer = call("GetActorsByTimestamp", {**body, **bad})
        assert answer["IsOk"] is False and "Actors" not in answer


def test_timestamp_paging_over_a_large_company_database(call, db_path):
    store.seed(db_path, customers=2500, persons_per_customer=1, company_database="big")
    connection = new_connection(call, "big")
    first = call("GetActorsByTimestamp", {"ConnectionId": connection, "ActorType": "Customer", "Take": 5000})
    assert len(first["Actors"]) == 1000
    assert len(all_by_timestamp(call, connection)) == 2500
    assert len(all_by_timestamp(call, connection, "Person")) == 2500


# --- Writing actors --------------------------------------------------------------------------------

def test_create_actor_creates_a_customer_and_a_person(call, connection, db_path):
    answer = call("CreateActor", {"ConnectionId": connection, "Actor": {
        "ActorType": "Customer", "FieldValues": {
            "Name": "Nytt Firma AS", "CreditLimit": "[F:25000.5]", "Country": "NO",
            "CustomerSince": "[DT:02/28/2026 13:14:15.1234567]", "PaymentTerms": "[I:30]"}}})
    assert answer["IsOk"] is True
    customer = answer["Actor"]
    assert customer["ErpKey"] == "CU000041" and ISO_MICROS.fullmatch(customer["LastModified"])
    assert customer["FieldValues"]["CreditLimit"] == "[F:25000.5]"
    assert customer["FieldValues"]["CustomerSince"] == "[DT:02/28/2026 13:14:15.1234560]"
    assert customer["FieldValues"]["IsActive"] == "[I:1]"  # the field's default
    assert customer["FieldValues"]["ErpId"] == "CU000041" and customer["FieldValues"]["OrgNr"] == ""

    person = call("CreateActor", {"ConnectionId": connection, "Actor": {
        "ActorType": "Person", "ParentActorType": "Customer", "ParentErpKey": "CU000041",
        "FieldValues": {"Firstname": "Kari", "Lastname": "Nordmann"}}})["Actor"]
    assert person["ParentActorType"] == "Customer" and person["ParentErpKey"] == "CU000041"
    assert rows(db_path, "SELECT p.lastname FROM persons p JOIN companies c ON c.id = p.company_id "
                         "WHERE c.erp_key = 'CU000041' AND c.company_db = 'demo'") == [("Nordmann",)]
    newest = all_by_timestamp(call, connection, timestamp=customer["LastModified"])
    assert newest[-1]["ErpKey"] == "CU000041"


@pytest.mark.parametrize("actor", [
    {"ActorType": "Customer", "FieldValues": {"OrgNr": "123"}},
    {"ActorType": "Customer", "FieldValues": {"Name": "X", "ErpId": "CU1"}},
    {"ActorType": "Customer", "FieldValues": {"Name": "X", "CreditLimit": "lots"}},
    {"ActorType": "Person", "FieldValues": {"Lastname": "Orphan"}},
    {"ActorType": "Person", "ParentActorType": "Customer", "ParentErpKey": "CU999999",
     "FieldValues": {"Lastname": "Orphan"}},
    {"ActorType": "Person", "ParentActorType": "Supplier", "ParentErpKey": "CU000001",
     "FieldValues": {"Lastname": "Wrong parent type"}},
])
def test_create_actor_refuses_bad_actors_and_creates_nothing(call, connection, db_path, actor):
    before = rows(db_path, "SELECT (SELECT COUNT(*) FROM companies), (SELECT COUNT(*) FROM persons)")
    answer = call("CreateActor", {"ConnectionId": connection, "Actor": actor})
    assert answer["IsOk"] is False and answer["ErrorCode"] == "INVALID_VALUE" and answer["UserExplanation"]
    assert rows(db_path, "SELECT (SELECT COUNT(*) FROM companies), (SELECT COUNT(*) FROM persons)") == before


def test_save_actors_updates_only_the_fields_sent(call, connection):
    before = call("GetActors", {"ConnectionId": connection, "ActorType": "Customer",
                                "ErpKeys": ["CU000005"]})["Actors"][0]
    answer = call("SaveActors", {"ConnectionId": connection, "Actors": [
        {"ActorType": "Customer", "ErpKey": "CU000005",
         "FieldValues": {"Phone": "+47 22 33 44 55", "CreditLimit": "[F:7500.25]", "IsActive": "[I:0]",
                         "Department": ""}}]})

    assert answer["IsOk"] is True
    saved = answer["Actors"][0]
    assert saved["LastModified"] > before["LastModified"] and ISO_MICROS.fullmatch(saved["LastModified"])
    changed = {"Phone": "+47 22 33 44 55", "CreditLimit": "[F:7500.25]", "IsActive": "[I:0]",
               "Department": ""}
    assert saved["FieldValues"] == {**before["FieldValues"], **changed}
    again = call("GetActors", {"ConnectionId": connection, "ActorType": "Customer", "ErpKeys": ["CU000005"]})
    assert again["Actors"][0] == saved
    # The change is what the next sync sees, last.
    assert all_by_timestamp(call, connection, timestamp=before["LastModified"])[-1]["ErpKey"] == "CU000005"


def test_save_actors_moves_a_person_to_another_company(call, connection):
    answer = call("SaveActors", {"ConnectionId": connection, "Actors": [
        {"ActorType": "Person", "ErpKey": "PE000001", "ParentActorType": "Customer",
         "ParentErpKey": "CU000009", "FieldValues": {"Title": "Chief"}}]})
    assert answer["IsOk"] is True
    assert answer["Actors"][0]["ParentErpKey"] == "CU000009"
    assert answer["Actors"][0]["FieldValues"]["Title"] == "Chief"


@pytest.mark.parametrize(("values", "explanation"), [
    ({"Phone": "+47 1", "CreditLimit": "[F:abc]"}, "CreditLimit is a decimal"),
    ({"Phone": "+47 1", "ErpId": "CU777"}, "ErpId is read-only"),
    ({"Phone": "+47 1", "PaymentTerms": "[F:30]"}, "PaymentTerms is an integer"),
    ({"Phone": "+47 1", "IsActive": "[I:2]"}, "IsActive is a checkbox"),
    ({"Phone": "+47 1", "CustomerSince": "[DT:02/30/2026 00:00:00.0000000]"}, "not a valid date"),
    ({"Phone": "+47 1", "Country": "Narnia"}, "not a key of the list Countries"),
    ({"Phone": "+47 1", "Name": ""}, "Name is mandatory"),
    ({"Phone": "+47 1", "Name": "x" * 101}, "at most 100 characters"),
    ({"Phone": "+47 1", "Colour": "blue"}, "no field 'Colour'"),
])
def test_save_actors_refuses_a_bad_actor_whole_and_saves_the_good_ones(call, connection, values, explanation):
    keys = ["CU000010", "CU000011"]
    before = {actor["ErpKey"]: actor for actor in call("GetActors", {
        "ConnectionId": connection, "ActorType": "Customer", "ErpKeys": keys})["Actors"]}

    answer = call("SaveActors", {"ConnectionId": connection, "Actors": [
        {"ActorType": "Customer", "ErpKey": "CU000010", "FieldValues": values},
        {"ActorType": "Customer", "ErpKey": "CU000011", "FieldValues": {"Phone": "+47 2"}}]})

    assert answer["IsOk"] is False and answer["State"] == "Error" and answer["ErrorCode"] == "INVALID_VALUE"
    assert explanation in answer["UserExplanation"] and "Customer CU000010" in answer["UserExplanation"]
    assert [actor["ErpKey"] for actor in answer["Actors"]] == ["CU000011"]
    after = {actor["ErpKey"]: actor for actor in call("GetActors", {
        "ConnectionId": connection, "ActorType": "Customer", "ErpKeys": keys})["Actors"]}
    assert after["CU000010"] == before["CU000010"]  # not even the good Phone, nor LastModified
    assert after["CU000011"]["FieldValues"]["Phone"] == "+47 2"


def test_save_actors_refuses_unknown_actors(call, connection):
    answer = call("SaveActors", {"ConnectionId": connection, "Actors": [
        {"ActorType": "Customer", "ErpKey": "CU999999", "FieldValues": {"Phone": "1"}},
        {"ActorType": "Customer", "ErpKey": "SU000001", "FieldValues": {"Phone": "1"}},
        {"ActorType": "Invoice", "ErpKey": "1", "FieldValues": {}},
        "not an actor"]})
    assert answer["IsOk"] is False and answer["Actors"] == []
    assert answer["UserExplanation"].startswith("4 of 4 actors were not saved.")


# --- Seeding -------------------------------------------------------------------------------------

def test_seed_is_deterministic_and_replaces_a_company_database(tmp_path):
    first, second = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    store.seed(first, customers=30, company_database="x")
    store.seed(second, customers=30, company_database="x")
    query = ("SELECT kind, erp_key, last_modified, name, org_nr, number1, country, credit_limit, "
             "customer_since FROM companies ORDER BY erp_key")
    assert rows(first, query) == rows(second, query) and len(rows(first, query)) == 30
    persons = rows(first, "SELECT COUNT(*) FROM persons GROUP BY company_id")
    assert {count for (count,) in persons} <= {1, 2, 3}

    store.seed(first, customers=10_000, persons_per_customer=2, company_database="x", suppliers=3)
    assert rows(first, "SELECT kind, COUNT(*) FROM companies GROUP BY kind ORDER BY kind") == [
        ("Customer", 10_000), ("Supplier", 3)]
    assert rows(first, "SELECT COUNT(*) FROM persons") == [(20_006,)]
    assert rows(first, "SELECT COUNT(DISTINCT name) FROM companies WHERE kind = 'Customer'") == [(10_000,)]


def test_first_start_seeds_demo_and_test(db_path, app):
    assert rows(db_path, "SELECT company_db, kind, COUNT(*) FROM companies GROUP BY company_db, kind "
                         "ORDER BY company_db, kind") == [
        ("demo", "Customer", 40), ("demo", "Partner", 2), ("demo", "Supplier", 5), ("test", "Customer", 4),
        ("test", "Supplier", 1)]
    create_app(settings_path=app.config["ERP_SETTINGS"], db_path=db_path)  # a restart seeds nothing again
    assert rows(db_path, "SELECT COUNT(*) FROM companies") == [(52,)]


# --- The page and the log ------------------------------------------------------------------------

def test_home_page_lists_companies_with_persons_and_last_modified(client, db_path):
    page = client.get("/?db=test").get_data(as_text=True)
    for name, key, stamp in rows(db_path, "SELECT name, erp_key, last_modified FROM companies "
                                          "WHERE company_db = 'test'"):
        assert name in page and key in page and stamp in page
    lastname = rows(db_path, "SELECT p.lastname FROM persons p WHERE company_db = 'test'")[0][0]
    assert lastname in page
    assert "/companies/test/CU000001" in page


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def test_edit_form_changes_erp_data_the_sync_then_sees(client, call, connection, db_path):
    before = rows(db_path, "SELECT last_modified FROM companies "
                           "WHERE company_db = 'demo' AND erp_key = 'CU000004'")
    page = client.get("/companies/demo/CU000004").get_data(as_text=True)
    form = {"csrf": csrf_of(page), "Name": "Renamed In ERP AS", "CreditLimit": "12 500,5", "Country": "SE",
            "PaymentTerms": "45", "CustomerSince": "2021-06-01", "IsActive": "1"}

    response = client.post("/companies/demo/CU000004", data=form)

    assert response.status_code == 302
    actor = all_by_timestamp(call, connection, timestamp=before[0][0])[-1]
    assert actor["ErpKey"] == "CU000004" and actor["LastModified"] > before[0][0]
    values = actor["FieldValues"]
    assert (values["Name"], values["CreditLimit"], values["Country"], values["PaymentTerms"]) == (
        "Renamed In ERP AS", "[F:12500.5]", "SE", "[I:45]")
    assert values["CustomerSince"] == "[DT:06/01/2021 00:00:00.0000000]" and values["IsActive"] == "[I:1]"
    assert "Renamed In ERP AS" in client.get("/").get_data(as_text=True)


def test_pages_keep_referrers_to_the_site_so_the_browser_sends_its_origin(client):
    # "no-referrer" makes Chromium post "Origin: null" from the connector's own forms, which the origin check
    # refuses; "same-origin" still keeps the Referer away from other sites.
    for url in ("/", "/companies/demo/CU000004"):
        assert client.get(url).headers["Referrer-Policy"] == "same-origin", url


def test_edit_form_accepts_a_post_from_its_own_origin(client, db_path):
    page = client.get("/companies/demo/CU000004").get_data(as_text=True)
    form = {"csrf": csrf_of(page), "Name": "Posted From Here AS", "CreditLimit": "100"}

    response = client.post("/companies/demo/CU000004", data=form, headers={"Origin": "http://localhost"})

    assert response.status_code == 302
    assert rows(db_path, "SELECT name FROM companies WHERE erp_key = 'CU000004' AND company_db = 'demo'") == [
        ("Posted From Here AS",)]


@pytest.mark.parametrize("problem", ["no token", "wrong token", "other origin", "null origin", "other port",
                                     "bad number", "no name"])
def test_edit_form_refuses_bad_posts_and_changes_nothing(client, db_path, problem):
    page = client.get("/companies/demo/CU000004").get_data(as_text=True)
    form = {"csrf": csrf_of(page), "Name": "Changed", "CreditLimit": "100"}
    headers = {}
    if problem == "no token":
        del form["csrf"]
    elif problem == "wrong token":
        form["csrf"] = "forged"
    elif problem == "other origin":
        headers["Origin"] = "http://evil.example"
    elif problem == "null origin":  # a sandboxed frame or a data: page: no site to trust
        headers["Origin"] = "null"
    elif problem == "other port":
        headers["Origin"] = "http://localhost:8000"
    elif problem == "bad number":
        form["CreditLimit"] = "a lot"
    elif problem == "no name":
        form["Name"] = ""
    snapshot_sql = "SELECT * FROM companies WHERE erp_key = 'CU000004' AND company_db = 'demo'"
    snapshot = rows(db_path, snapshot_sql)

    response = client.post("/companies/demo/CU000004", data=form, headers=headers)

    assert response.status_code == 400
    assert rows(db_path, snapshot_sql) == snapshot
    if problem == "bad number":
        assert "is not a number" in response.get_data(as_text=True)


def test_unknown_company_page_is_404(client):
    assert client.get("/companies/demo/CU999999").status_code == 404


def test_call_log_records_calls_without_secrets(client, call, token):
    connection_id = str(uuid.uuid4())
    call("SaveConnection", {"ConnectionId": connection_id,
                            "ConfigFields": {"CompanyDatabase": "demo", "ApiKey": "very-secret-api-key"}})
    call("GetActorsByTimestamp", {"ConnectionId": connection_id, "ActorType": "Customer", "Take": 7})

    log = client.get("/log")
    calls = log.get_json()["calls"]
    assert [entry["operation"] for entry in calls[:2]] == ["GetActorsByTimestamp", "SaveConnection"]
    assert calls[0]["actors"] == 7 and calls[0]["ctx"] == CTX and calls[0]["connection_id"] == connection_id
    assert calls[0]["is_ok"] is True and calls[0]["status"] == 200
    text = log.get_data(as_text=True) + client.get("/").get_data(as_text=True)
    assert "very-secret-api-key" not in text and token not in text


# --- Serving in a thread ---------------------------------------------------------------------------

def test_serve_in_thread_answers_over_http(settings_path, tmp_path, platform_key):
    base_url, stop = serve_in_thread(settings_path, tmp_path / "served.sqlite3")
    try:
        token = make_token(platform_key)
        answer = requests.post(f"{base_url}/Authenticate", json={"Token": token}, timeout=10).json()
        assert answer["IsOk"] is True and answer["Token"].count(".") == 2
        fields = requests.post(f"{base_url}/GetConfigData", json={}, timeout=10,
                               headers={"Authorization": f"Bearer {token}"}).json()
        assert fields["Fields"][0]["FieldKey"] == "CompanyDatabase"
    finally:
        stop()
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{base_url}/GetConfigData", json={}, timeout=2)

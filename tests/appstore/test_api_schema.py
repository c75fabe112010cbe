"""The OpenAPI schema: generated without warnings, and real API responses agree with it.

Responses are checked with jsonschema against the generated OpenAPI 3.0 document, strictly:
an object may not carry properties the schema does not declare.
"""

import re
from datetime import timedelta

import jsonschema
import pytest
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from appstore.models import CertificateOrigin, ClientCertificate, ClientSecret, VersionState

from ..factories import AppFactory, ListingFactory, api_token, complete_listing, published_listing

API_PREFIX = "/api/v1/"
# OpenAPI 3.0 keywords that JSON Schema does not know (nullable is rewritten, not dropped).
OPENAPI_ONLY = {"nullable", "readOnly", "writeOnly", "example", "examples", "discriminator",
                "xml", "externalDocs", "deprecated"}


def generate_schema() -> dict:
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    warnings = dict(GENERATOR_STATS._warn_cache)
    errors = dict(GENERATOR_STATS._error_cache)
    GENERATOR_STATS.reset()
    assert not warnings and not errors, {"warnings": warnings, "errors": errors}
    return schema


def to_json_schema(node):
    """An OpenAPI 3.0 schema object as JSON Schema: nullable becomes a null alternative, and
    objects with declared properties refuse undeclared ones."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in OPENAPI_ONLY:
            continue
        if key == "properties":
            out[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        else:
            out[key] = to_json_schema(value)
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


class ResponseChecker:
    def __init__(self, schema: dict):
        self.components = to_json_schema(schema["components"])
        self.operations = {}
        for template, operations in schema["paths"].items():
            pattern = re.compile("^" + re.sub(r"\{[^/]+\}", r"[^/]+", template) + "$")
            for method, operation in operations.items():
                self.operations[(pattern, method)] = (template, operation)
        self.seen: set[tuple[str, str]] = set()

    def operation(self, method: str, path: str) -> tuple[str, dict]:
        path = path.split("?", 1)[0]
        for (pattern, op_method), found in self.operations.items():
            if op_method == method and pattern.match(path):
                return found
        raise AssertionError(f"{method.upper()} {path} is not in the schema")

    def check(self, method: str, path: str, status: int, body) -> None:
        template, operation = self.operation(method, path)
        responses = operation["responses"]
        assert str(status) in responses, f"{method.upper()} {template} answered {status}, " \
                                         f"which the schema does not document"
        schema = responses[str(status)]["content"]["application/json"]["schema"]
        jsonschema.validate(body, {**to_json_schema(schema), "components": self.components},
                            cls=jsonschema.Draft202012Validator)
        self.seen.add((template, method))


class CheckedClient:
    """An API client whose every response is validated against the schema."""

    def __init__(self, checker: ResponseChecker, raw_token: str | None):
        self.checker = checker
        self.client = APIClient()
        if raw_token:
            self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_token}")

    def request(self, method: str, path: str, body=None, expect: int = 200):
        if method == "get":
            response = self.client.get(path)
        else:
            response = getattr(self.client, method)(path, body if body is not None else {}, format="json")
        assert response.status_code == expect, (method, path, response.status_code, response.content)
        data = response.json()
        self.checker.check(method, path, response.status_code, data)
        return data


@pytest.fixture(scope="module")
def schema():
    return generate_schema()


def test_schema_generates_without_warnings_and_validates(schema):
    validate_schema(schema)
    assert schema["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"
    api_paths = [p for p in schema["paths"] if p.startswith(API_PREFIX)]
    assert "/api/v1/apps/" in api_paths and "/api/v1/requests/" in api_paths
    for path in api_paths:
        for operation in schema["paths"][path].values():
            assert operation["security"] == [{"apiToken": []}]


def test_management_command_passes_with_fail_on_warn(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert "/api/v1/apps/{app_id}/listings/" in (tmp_path / "schema.yml").read_text()


def test_checker_refuses_a_response_that_disagrees(schema, partner_member):
    """The check has teeth: a wrong type, an undeclared field or a missing one all fail."""
    AppFactory(partner=partner_member.partner)
    checker = ResponseChecker(schema)
    body = CheckedClient(checker, api_token(partner_member)).request("get", "/api/v1/apps/")
    wrong_type = {**body, "results": [{**body["results"][0], "is_beta": "no"}]}
    extra = {**body, "results": [{**body["results"][0], "secret_hash": "x"}]}
    missing = {**body, "results": [{k: v for k, v in body["results"][0].items() if k != "name"}]}
    bad_client = {**body["results"][0]["clients"][0], "has_secret": None}
    nested = {**body, "results": [{**body["results"][0], "clients": [bad_client]}]}
    for broken in (wrong_type, extra, missing, nested):
        with pytest.raises(jsonschema.ValidationError):
            checker.check("get", "/api/v1/apps/", 200, broken)
    with pytest.raises(AssertionError):
        checker.check("get", "/api/v1/apps/", 418, body)


@pytest.mark.django_db
def test_real_responses_match_the_schema(schema, partner_member, other_partner_member):
    checker = ResponseChecker(schema)
    api = CheckedClient(checker, api_token(partner_member))
    app = AppFactory(partner=partner_member.partner, technical_contact=partner_member.user)
    stage = app.clients.get(environment__code="stage")
    ClientSecret.objects.create(client=stage, secret_hash=make_password("s3cret"),
                                expires_at=timezone.now() + timedelta(days=30))
    ClientCertificate.objects.create(client=stage, public_key_pem="-", key_bits=2048,
                                     fingerprint="cd" * 32, expires_at=timezone.now(),
                                     origin=CertificateOrigin.UPLOADED)
    live = published_listing(app=app, label="1.0")
    ListingFactory(app=AppFactory(partner=partner_member.partner), label="0.5",
                   state=VersionState.REJECTED, submitted_at=timezone.now(),
                   reviewed_at=timezone.now(), review_reason="Needs screenshots.")
    theirs = AppFactory(partner=other_partner_member.partner)

    api.request("get", "/api/v1/apps/")
    api.request("get", f"/api/v1/apps/{app.pk}/")
    api.request("get", f"/api/v1/apps/{theirs.pk}/", expect=404)
    base = f"/api/v1/apps/{app.pk}/listings/"
    api.request("get", base)
    api.request("get", f"{base}{live.pk}/")
    api.request("patch", f"{base}{live.pk}/", {"header": "x"}, expect=409)
    draft = api.request("post", base, {"label": "2.0"}, expect=201)
    api.request("post", base, {}, expect=400)
    url = f"{base}{draft['id']}/"
    api.request("patch", url, {"header": "x" * 200}, expect=400)
    api.request("patch", url, {"state": "published", "headr": "x"}, expect=400)
    api.request("post", base, {"label": "2.1", "header": "x"}, expect=400)
    api.request("patch", url, {"header": "Schema-checked header", "links": [], "videos": []})
    draft_row = app.listing_versions.get(pk=draft["id"])
    draft_row.links.all().delete()
    api.request("post", f"{url}request-publish/", expect=400)
    api.request("post", f"{url}request-publish/", {"force": True}, expect=400)
    complete_listing(draft_row)
    api.request("post", f"{url}withdraw/", expect=409)
    api.request("post", f"{url}request-publish/")
    api.request("post", f"{url}withdraw/", {"reason": "x"}, expect=400)
    api.request("get", "/api/v1/requests/")
    api.request("get", "/api/v1/requests/?state=rejected&kind=listing")
    api.request("get", "/api/v1/requests/?state=nope", expect=400)
    api.request("get", "/api/v1/requests/?environment=bogus", expect=400)
    api.request("get", "/api/v1/requests/?environment=online")
    api.request("post", f"{url}withdraw/")

    configurations = f"/api/v1/apps/{app.pk}/configurations/"
    api.request("get", configurations)
    live = app.configuration_versions.get()
    api.request("get", f"{configurations}{live.pk}/")
    api.request("patch", f"{configurations}{live.pk}/", {"consent_text": "x"}, expect=409)
    api.request("post", configurations, {}, expect=400)
    stage = api.request("post", configurations, {"environment": "stage"}, expect=201)
    version_url = f"{configurations}{stage['id']}/"
    api.request("patch", version_url, {"claims": ["SystemToken"]}, expect=400)
    api.request("post", f"{version_url}publish/", expect=400)
    api.request("post", f"{version_url}publish/", {"state": "published"}, expect=400)
    api.request("patch", version_url, {
        "redirect_urls": {"all": ["https://acme.example.com/cb"]}, "cors_origins": {},
        "endpoints": {"state_change": {"url": "https://acme.example.com/state", "enabled": True,
                                       "send_error_emails": True}},
        "consent_text": "Acme reads your contacts."})
    api.request("post", f"{version_url}withdraw/", expect=409)
    api.request("post", f"{version_url}publish/")
    api.request("get", "/api/v1/requests/?kind=configuration")
    api.request("post", f"{version_url}withdraw/", {"state": "draft"}, expect=400)
    api.request("post", f"{version_url}withdraw/")

    CheckedClient(checker, None).request("get", "/api/v1/apps/", expect=401)
    partner_member.can_app_store = False
    partner_member.save()
    api.request("patch", url, {"header": "y"}, expect=403)

    documented = {(path, method) for path, operations in schema["paths"].items()
                  if path.startswith(API_PREFIX) for method in operations}
    assert documented - checker.seen == set(), "every API operation is exercised"

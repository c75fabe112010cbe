"""The login service's machine endpoints per environment: discovery, JWKS, token, revoke,
introspection, end session and the system-user exchange."""

import json
import logging

from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from jwcrypto import jws, jwt
from oauth2_provider.views import RevokeTokenView, TokenView

from accounts.tokens import token_checksum
from tenants.models import Environment

from ..models import AccessToken, AuthorizationError, LoginClient
from ..selectors import introspection_caller, well_formed_client_id
from ..services import system_users
from ..services.signing_keys import public_key_set, published_keys
from .claims import claim
from .context import environment_scope
from .errors import error_page
from .validator import issuer_for, redirect_uri_registered

logger = logging.getLogger(__name__)

MAX_BODY = 16 * 1024


def environment_or_404(code: str) -> Environment:
    environment = Environment.objects.filter(code=code).first()
    if environment is None:
        raise Http404("No such environment.")
    return environment


def oauth_error(error: str, description: str, status: int = 400) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def endpoint(environment_code: str, name: str) -> str:
    from django.conf import settings

    return settings.SITE_URL + reverse(f"login:{name}", args=[environment_code])


@never_cache
def discovery(request: HttpRequest, env: str) -> JsonResponse:
    environment = environment_or_404(env)
    code = environment.code
    response = JsonResponse(
        {
            "issuer": issuer_for(code),
            "authorization_endpoint": endpoint(code, "authorize"),
            "token_endpoint": endpoint(code, "token"),
            "jwks_uri": endpoint(code, "jwks"),
            "revocation_endpoint": endpoint(code, "revoke"),
            "end_session_endpoint": endpoint(code, "logout"),
            "introspection_endpoint": endpoint(code, "introspect"),
            "scopes_supported": ["openid"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "claims_supported": [
                "iss",
                "aud",
                "sub",
                "nonce",
                "iat",
                "nbf",
                "exp",
                *[
                    claim(name)
                    for name in (
                        "ctx",
                        "serial",
                        "webapi_url",
                        "netserver_url",
                        "associateid",
                        "email",
                        "company_name",
                        "is_administrator",
                        "upn",
                        "identityprovider",
                        "system_token",
                    )
                ],
            ],
        }
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


@never_cache
def jwks(request: HttpRequest, env: str) -> JsonResponse:
    environment = environment_or_404(env)
    response = JsonResponse({"keys": published_keys(environment)})
    response["Access-Control-Allow-Origin"] = "*"
    return response


class EnvironmentScopedMixin:
    """Runs the view with the environment of its URL set for the client lookups."""

    def dispatch(self, request, *args, env: str, **kwargs):
        environment = Environment.objects.filter(code=env).first()
        if environment is None:
            return oauth_error("invalid_request", f"No environment {env[:20]!r}.", status=404)
        if len(request.body) > MAX_BODY:
            return self.too_large()
        self.environment = environment
        with environment_scope(environment.code):
            return super().dispatch(request, *args, **kwargs)

    def too_large(self):
        return oauth_error("invalid_request", "The request body is too large.", status=413)

    def http_method_not_allowed(self, request, *args, **kwargs):
        response = oauth_error("invalid_request", "Use POST with a form-encoded body.", status=405)
        response["Allow"] = "POST"
        return response


# What each token-endpoint error means, for the answers oauthlib leaves without a description.
TOKEN_ERRORS = {
    "invalid_client": "Client authentication failed: check the client ID and client secret for this "
    "environment.",
    "invalid_grant": "The code or refresh token is unknown, expired, already used, was issued to another "
    "client or redirect_uri, or its tenant authorization is no longer active.",
    "invalid_request": "The request is missing a parameter or repeats one.",
    "unsupported_grant_type": "Only authorization_code and refresh_token grants are offered.",
    "unauthorized_client": "This client may not use this grant type.",
    "invalid_scope": "A refresh may ask only for the scope first granted: openid.",
}
GRANT_TYPES = ("authorization_code", "refresh_token")


@method_decorator(csrf_exempt, name="dispatch")
class LoginTokenView(EnvironmentScopedMixin, TokenView):
    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # Only the two grants offered are processed at all: no other grant looks anything up.
        if request.POST.get("grant_type") not in GRANT_TYPES:
            return oauth_error("unsupported_grant_type", TOKEN_ERRORS["unsupported_grant_type"])
        response = super().post(request, *args, **kwargs)
        if response.status_code >= 400:
            try:
                body = json.loads(response.content)
            except ValueError:
                return response
            if isinstance(body, dict) and body.get("error") and not body.get("error_description"):
                body["error_description"] = TOKEN_ERRORS.get(body["error"], "The request was refused.")
                response.content = json.dumps(body).encode()
        return response


@method_decorator(csrf_exempt, name="dispatch")
class LoginRevokeView(EnvironmentScopedMixin, RevokeTokenView):
    pass


@method_decorator(csrf_exempt, name="dispatch")
class IntrospectView(EnvironmentScopedMixin, View):
    """RFC 7662 introspection for resource servers (a tenant's CRM API) and for the app itself.

    Access tokens (``8A:…``) and system-user tickets (``7T:…``) are both answered; a ticket is
    active only with the ticket's own app token (client secret) in ``app_token``, and using it
    here slides its idle expiry like any other use.
    """

    def post(self, request: HttpRequest) -> JsonResponse:
        caller = introspection_caller(request, self.environment)
        if caller is None:
            response = oauth_error("invalid_client", "Client authentication failed.", status=401)
            response["WWW-Authenticate"] = 'Basic realm="introspection"'
            return response
        token = request.POST.get("token", "")
        if not token:
            return oauth_error("invalid_request", "The token parameter is missing.")
        if token.startswith("7T:"):
            return self._ticket(caller, token, request.POST.get("app_token", ""))
        return self._access_token(caller, token)

    def _inactive(self) -> JsonResponse:
        return JsonResponse({"active": False})

    def _access_token(self, caller, token: str) -> JsonResponse:
        row = (
            AccessToken.objects.select_related("application", "authorization__tenant", "user")
            .filter(
                token_checksum=token_checksum(token),
                application__environment=self.environment,
            )
            .first()
        )
        if row is None or row.is_expired() or not row.authorization.is_usable:
            return self._inactive()
        if not caller.may_introspect(row.application):
            return self._inactive()
        return JsonResponse(
            {
                "active": True,
                "token_type": "Bearer",
                "scope": row.scope,
                "client_id": row.application.client_id,
                "ctx": row.authorization.tenant.context_identifier,
                "sub": (f"integration:{row.application.client_id}" if row.integration_service
                        else str(row.user_id)),
                "username": row.user.email if row.user else "",
                "exp": int(row.expires.timestamp()),
                "iss": issuer_for(self.environment.code),
                "system_user": False,
                "integration_service": row.integration_service,
            }
        )

    def _ticket(self, caller, ticket: str, app_token: str) -> JsonResponse:
        row = system_users.use_ticket(environment=self.environment, ticket=ticket)
        if row is None:
            return self._inactive()
        client = (
            LoginClient.objects_all.select_related("app_client__secret")
            .filter(app_client__app=row.authorization.app, environment=self.environment)
            .first()
        )
        secret = getattr(client.app_client, "secret", None) if client else None
        if (
            client is None
            or secret is None
            or not secret.matches(app_token)
            or not caller.may_introspect(client)
        ):
            return self._inactive()
        return JsonResponse(
            {
                "active": True,
                "token_type": "SOTicket",
                "client_id": client.client_id,
                "ctx": row.authorization.tenant.context_identifier,
                "sub": f"system:{row.authorization.system_user_token}",
                "exp": int((row.last_used_at + system_users.TICKET_IDLE).timestamp()),
                "iss": issuer_for(self.environment.code),
                "system_user": True,
                "integration_service": False,
            }
        )


@method_decorator(csrf_exempt, name="dispatch")
class SystemUserView(EnvironmentScopedMixin, View):
    """``PartnerSystemUser/Authenticate``: a signed system-user token for a ticket JWT."""

    def post(self, request: HttpRequest) -> JsonResponse:
        try:
            payload = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return JsonResponse(
                {"IsSuccessful": False, "Token": None, "ErrorMessage": "The body must be JSON (UTF-8)."},
                status=400,
            )
        result = system_users.exchange(environment=self.environment, payload=payload)
        if not result.ok:
            # Malformed input is a 400; a well-formed request that is refused answers 200 with
            # IsSuccessful false, as partner code written for the CRM's login service expects.
            return JsonResponse(
                {"IsSuccessful": False, "Token": None, "ErrorMessage": result.error},
                status=400 if result.bad_input else 200,
            )
        return JsonResponse({"IsSuccessful": True, "Token": result.token, "ErrorMessage": ""})

    def too_large(self):
        return JsonResponse(
            {
                "IsSuccessful": False,
                "Token": None,
                "ErrorMessage": f"The body is larger than {MAX_BODY} bytes.",
            },
            status=400,
        )

    def http_method_not_allowed(self, request, *args, **kwargs):
        return JsonResponse(
            {"IsSuccessful": False, "Token": None, "ErrorMessage": "Use POST with a JSON body."}, status=405
        )


def _verified_hint(environment: Environment, hint: str) -> dict | None:
    """The claims of an id_token this environment signed (expiry not checked), or None."""
    if not hint or len(hint) > 8192:
        return None
    keys = public_key_set(environment)
    try:
        token = jwt.JWT(jwt=hint, key=keys, check_claims=False, algs=["RS256"])
        claims = json.loads(token.claims)
    except (ValueError, jws.InvalidJWSSignature, jws.InvalidJWSObject, jwt.JWTMissingKey, TypeError):
        return None
    if claims.get("iss") != issuer_for(environment.code):
        return None
    return claims


@method_decorator(never_cache, name="dispatch")
@method_decorator(csrf_exempt, name="dispatch")
class EndSessionView(View):
    """RP-initiated logout: signs the user out, then returns to a registered post-logout URL.

    With a valid ``id_token_hint`` the app asked for it and the user is signed out at once; without
    one, a signed-in user confirms first (a CSRF-protected form), so a stray link cannot sign them out.
    """

    def get(self, request: HttpRequest, env: str) -> HttpResponse:
        return self._end(request, env, request.GET)

    def post(self, request: HttpRequest, env: str) -> HttpResponse:
        return self._end(request, env, request.POST)

    def _end(self, request: HttpRequest, env: str, params) -> HttpResponse:
        environment = environment_or_404(env)
        target = params.get("post_logout_redirect_uri", "")
        client_id = params.get("client_id", "")
        claims = _verified_hint(environment, params.get("id_token_hint", ""))
        if claims is not None and not client_id and isinstance(claims.get("aud"), str):
            client_id = claims["aud"]
        client = None
        if well_formed_client_id(client_id):
            client = (
                LoginClient.objects_all.select_related("app_client__app", "environment")
                .filter(environment=environment, client_id=client_id)
                .first()
            )
        registered = client is not None and redirect_uri_registered(
            client, target, "post_logout_redirect_urls")
        if target and not registered:
            if client is None:
                message = ("The app did not say who it is (id_token_hint or client_id), so the address to "
                           "return to after signing out cannot be checked and you are not sent there.")
            else:
                message = (f"The address to return to after signing out is not registered for "
                           f"{client.app_client.app.name}, so you are not sent there.")
            still = " You are still signed in." if request.user.is_authenticated else ""
            code = AuthorizationError.INVALID_REDIRECT_URL
            return error_page(request, code, message + still, sign_out=True)
        # The hint signs the user out at once only when it was issued to the user who is signed in.
        hinted_here = claims is not None and claims.get("sub") == str(request.user.pk)
        if request.user.is_authenticated and not hinted_here:
            confirmed = request.method == "POST" and request.POST.get("confirm") == "1"
            if confirmed and CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {}):
                confirmed = False  # the CSRF check answered with a refusal
            if not confirmed:
                return render(request, "provisioning/confirm_sign_out.html", {
                    "fields": [(name, params.get(name)) for name in
                               ("post_logout_redirect_uri", "client_id", "state") if params.get(name)],
                    "app": client.app_client.app if client else None,
                })
        if request.user.is_authenticated:
            logout(request)
        if not target:
            return render(request, "provisioning/signed_out.html", {"environment": environment})
        state = params.get("state")
        if state:
            target += ("&" if "?" in target else "?") + urlencode({"state": state})
        return HttpResponseRedirect(target)

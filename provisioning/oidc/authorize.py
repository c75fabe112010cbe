"""The authorize endpoint: sign in, pick a tenant, consent, then a code for the partner's app.

An unknown client or a redirect URI the app has not registered gets an error page and is
never redirected to. Refusals about the tenant's authorization (no access, revoked, expired,
needs re-approval, a custom app) are explained on an error page whose "back to the app" link
carries the OAuth error to the registered redirect URI; malformed requests from a known client
go straight back to it with ``error`` and ``state`` as RFC 6749 says.
"""

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.views import View
from django.views.decorators.cache import never_cache
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.oauth2.rfc6749 import errors as oauth_errors

from appstore.selectors.configuration import live_configuration
from appstore.urlrules import is_pattern
from tenants.models import Environment, TenantMember, TenantState

from ..models import Authorization, AuthorizationError, AuthorizationStatus, LoginClient, tenant_gone
from ..selectors import authorization_for, login_tenants, well_formed_client_id
from ..services import authorizations as consent
from .context import environment_scope
from .errors import error_page
from .validator import redirect_uri_registered, registered_urls

RESPONSE_MODES = ("query", "fragment", "form_post")
MAX_REQUEST_LENGTH = 8192
PKCE_CHALLENGE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


@dataclass
class Decision:
    """What to do with a validated request for a signed-in user and their tenant."""

    member: TenantMember
    authorization: Authorization | None
    consent: str = ""  # "install", "reapprove", "confirm" (prompt=consent) or "" for a code at once


def _tenant_from_acr(acr_values: str) -> str | None:
    for value in (acr_values or "").split():
        if value.lower().startswith("tenant:"):
            return value[len("tenant:") :]
    return None


def _with_params(url: str, params: dict, fragment: bool = False) -> str:
    query = urlencode({key: value for key, value in params.items() if value is not None})
    return f"{url}{'#' if fragment else ('&' if '?' in url else '?')}{query}"


@method_decorator(never_cache, name="dispatch")
class AuthorizeView(OAuthLibMixin, View):
    def dispatch(self, request: HttpRequest, *args, env: str, **kwargs) -> HttpResponse:
        self.environment = Environment.objects.filter(code=env).first()
        if self.environment is None:
            return error_page(
                request,
                AuthorizationError.INVALID_REDIRECT_URL,
                "This login service has no such environment.",
                status=404,
            )
        if len(request.get_full_path()) > MAX_REQUEST_LENGTH:
            # Longer than any real sign-in request, and too long to carry through the sign-in page.
            return error_page(
                request,
                AuthorizationError.DENIED,
                f"The sign-in request is longer than {MAX_REQUEST_LENGTH:,} characters; the app that sent "
                "you here must send a shorter one (state, nonce and the other parameters).",
            )
        with environment_scope(self.environment.code):
            response = super().dispatch(request, *args, **kwargs)
        # The consent page must never be framed by another site.
        response["Content-Security-Policy"] = "frame-ancestors 'none'"
        response["X-Frame-Options"] = "DENY"
        return response

    # ------------------------------------------------------------ request checks
    def _client_and_redirect(self, request: HttpRequest):
        """(client, redirect_uri) or an error page: unknown clients and URIs are never redirected to."""
        params = request.GET
        client_id = params.get("client_id", "")
        client = None
        if well_formed_client_id(client_id):
            client = (
                LoginClient.objects.select_related("app_client__app__partner", "environment")
                .filter(client_id=client_id)
                .first()
            )
        if client is None:
            return None, error_page(
                request,
                AuthorizationError.INVALID_REDIRECT_URL,
                (
                    "The app that sent you here is not known to this login service"
                    f" ({self.environment.code}). Its client ID may be wrong or meant for another "
                    "environment."
                ),
            )
        self.client = client
        self.app = client.app_client.app
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri:
            exact = [url for url in registered_urls(client, "redirect_urls") if not is_pattern(url)]
            if len(exact) != 1:
                return None, error_page(
                    request,
                    AuthorizationError.INVALID_REDIRECT_URL,
                    (f"{self.app.name} did not say where to return to (redirect_uri)."),
                    app_name=self.app.name,
                )
            redirect_uri = exact[0]
        if not redirect_uri_registered(client, redirect_uri):
            return None, error_page(
                request,
                AuthorizationError.INVALID_REDIRECT_URL,
                (
                    f"The address {self.app.name} asked to return to is not registered for the app in "
                    f"{self.environment.code}, so you are not sent there."
                ),
                app_name=self.app.name,
            )
        return redirect_uri, None

    def _error_back(self, redirect_uri: str, error: str, description: str) -> str:
        state = self.request.GET.get("state")
        mode = self.request.GET.get("response_mode")
        return _with_params(
            redirect_uri,
            {"error": error, "error_description": description, "state": state},
            fragment=mode == "fragment",
        )

    def _back(self, error: str, description: str) -> HttpResponse:
        """Return to the app with an OAuth error, by redirect or, for form_post, by a posted form."""
        url = self._error_back(self.redirect_uri, error, description)
        if self.request.GET.get("response_mode") == "form_post":
            return self._form_post(url)
        return HttpResponseRedirect(url)

    def _form_post(self, uri: str) -> HttpResponse:
        return render(
            self.request,
            "provisioning/form_post.html",
            {"action": uri.split("?", 1)[0], "fields": parse_qsl(urlsplit(uri).query), "app": self.app},
        )

    def _prompts(self) -> set[str]:
        return set(self.request.GET.get("prompt", "").split())

    def _silent(self) -> bool:
        """prompt=none: the app asked for no page to be shown; every answer goes straight back."""
        return "none" in self._prompts()

    def _refuse(self, request, redirect_uri: str, code: AuthorizationError, message: str) -> HttpResponse:
        if self._silent():
            return self._back("access_denied", f"{code.label}: {message}")
        back = self._error_back(redirect_uri, "access_denied", f"{code.label}: {message}")
        return error_page(request, code, message, back_url=back, app_name=self.app.name, status=403)

    def _validated(self, request: HttpRequest):
        """(credentials, None) or (None, response) after oauthlib's checks of the request."""
        params = request.GET
        mode = params.get("response_mode")
        if mode and mode not in RESPONSE_MODES:
            return None, self._back("invalid_request", "response_mode must be query, fragment or form_post.")
        if params.get("response_type") not in (None, "", "code"):
            return None, self._back("unsupported_response_type", "Only response_type=code is offered.")
        challenge = params.get("code_challenge")
        if challenge is not None and params.get("code_challenge_method", "plain") not in ("S256", "plain"):
            return None, self._back("invalid_request", "code_challenge_method must be S256 or plain.")
        if challenge is not None and not PKCE_CHALLENGE.fullmatch(challenge):
            return None, self._back(
                "invalid_request",
                "code_challenge must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' and '~'.",
            )
        if "openid" not in params.get("scope", "").split():
            return None, self._back("invalid_scope", "The scope must contain openid.")
        try:
            _scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            oauthlib_error = error.oauthlib_error
            if isinstance(oauthlib_error, oauth_errors.FatalClientError):
                return None, error_page(
                    request,
                    AuthorizationError.INVALID_REDIRECT_URL,
                    oauthlib_error.description or "The request is not valid.",
                    app_name=self.app.name,
                )
            return None, self._back(oauthlib_error.error, oauthlib_error.description or "")
        return credentials, None

    def _decide(self, request: HttpRequest):
        """(Decision, None) or (None, response): which tenant, and whether consent is needed."""
        memberships = list(login_tenants(request.user, self.environment))
        wanted = _tenant_from_acr(request.GET.get("acr_values", ""))
        if wanted is not None:
            memberships = [m for m in memberships if m.tenant.context_identifier == wanted]
            if not memberships:
                return None, self._refuse(
                    request,
                    self.redirect_uri,
                    AuthorizationError.DENIED,
                    f"Account does not have access: you are not a user of {wanted[:40]}.",
                )
        if not memberships:
            return None, self._refuse(
                request,
                self.redirect_uri,
                AuthorizationError.DENIED,
                (
                    f"Account does not have access: {request.user.email} is not a user of any CRM "
                    f"in {self.environment.name}."
                ),
            )
        if len(memberships) > 1:
            if self._silent():
                return None, self._back(
                    "account_selection_required",
                    "The user belongs to several companies; send acr_values=tenant:<context identifier>.",
                )
            return None, self._pick_tenant(request, memberships)
        member = memberships[0]
        tenant = member.tenant
        if tenant_gone(tenant):
            # Deleted for good: waiting will not help, so no "try again later".
            gone = "is being deleted" if tenant.state == TenantState.DELETING else "was deleted"
            return None, self._refuse(request, self.redirect_uri, AuthorizationError.DENIED,
                                      f"{tenant.company_name}'s CRM {gone}; its apps can no longer be used.")
        if not tenant.is_running:
            return None, self._refuse(
                request,
                self.redirect_uri,
                AuthorizationError.DENIED,
                f"{tenant.company_name}'s CRM is not running "
                f"({tenant.get_state_display()}); try again later.",
            )
        authorization = authorization_for(self.app, tenant)
        if authorization is not None and authorization.is_usable:
            return Decision(member, authorization), None
        status = authorization.current_status if authorization is not None else None
        if not member.is_admin:
            if authorization is None:
                code, message = (
                    AuthorizationError.DENIED,
                    (
                        f"Account does not have access: {self.app.name} is not installed for "
                        f"{tenant.company_name}. Ask one of its administrators to install it."
                    ),
                )
            elif status == AuthorizationStatus.REVOKED:
                code, message = (
                    AuthorizationError.REVOKED,
                    (f"{self.app.name} was uninstalled from {tenant.company_name}."),
                )
            elif status == AuthorizationStatus.EXPIRED:
                code, message = (
                    AuthorizationError.EXPIRED,
                    (f"{self.app.name}'s access to {tenant.company_name} has expired."),
                )
            else:
                code, message = (
                    AuthorizationError.NEEDS_REAPPROVAL,
                    (
                        f"{self.app.name} now asks for more access; an administrator of "
                        f"{tenant.company_name} must approve it again before you can sign in."
                    ),
                )
            return None, self._refuse(request, self.redirect_uri, code, message)
        if consent.is_explicit(self.app, self.environment) and (
            authorization is None or authorization.activated_by_id is None
        ):
            return None, self._refuse(
                request,
                self.redirect_uri,
                AuthorizationError.DENIED,
                (
                    f"{self.app.name} is a custom app: the platform's staff activate it for one customer "
                    "when the partner asks, so it cannot be approved here."
                ),
            )
        kind = "reapprove" if status == AuthorizationStatus.ACTIVE else "install"
        return Decision(member, authorization, consent=kind), None

    def _pick_tenant(self, request: HttpRequest, memberships) -> HttpResponse:
        choices = []
        for member in memberships:
            params = request.GET.copy()
            acr = [v for v in params.get("acr_values", "").split() if not v.lower().startswith("tenant:")]
            params["acr_values"] = " ".join([*acr, f"tenant:{member.tenant.context_identifier}"])
            choices.append({"member": member, "url": f"{request.path}?{params.urlencode()}"})
        return render(
            request,
            "provisioning/pick_tenant.html",
            {"app": self.app, "choices": choices, "environment": self.environment},
        )

    # ------------------------------------------------------------ responses
    def _issue(self, request: HttpRequest, credentials: dict, authorization: Authorization) -> HttpResponse:
        mode = request.GET.get("response_mode") or "query"
        credentials = {
            **credentials,
            "login_authorization_id": authorization.pk,
            "response_mode": "fragment" if mode == "fragment" else "query",
        }
        try:
            uri, _headers, _body, _status = self.create_authorization_response(
                request=request, scopes="openid", credentials=credentials, allow=True
            )
        except OAuthToolkitError as error:
            return self._back(error.oauthlib_error.error, error.oauthlib_error.description or "")
        return self._form_post(uri) if mode == "form_post" else HttpResponseRedirect(uri)

    def _consent_page(self, request: HttpRequest, decision: Decision, status: int = 200) -> HttpResponse:
        live = live_configuration(self.app, self.environment)
        return render(
            request,
            "provisioning/consent.html",
            {
                "app": self.app,
                "partner": self.app.partner,
                "tenant": decision.member.tenant,
                "environment": self.environment,
                "consent_text": live.consent_text if live else "",
                "grants": consent.consent_grants(self.app, self.environment),
                "kind": decision.consent,
                "authorization": decision.authorization,
            },
            status=status,
        )

    def _prepare(self, request: HttpRequest):
        redirect_uri, response = self._client_and_redirect(request)
        if response is not None:
            return None, response
        self.redirect_uri = redirect_uri
        credentials, response = self._validated(request)
        if response is not None:
            return None, response
        if "login" in self._prompts() and request.method == "GET":
            # Confirm who is there: a signed-in user enters the password again (the session, and
            # other apps' sign-ins, stay); either way the page returns here without prompt=login.
            params = request.GET.copy()
            params["prompt"] = " ".join(sorted(self._prompts() - {"login"}))
            if not params["prompt"]:
                del params["prompt"]
            back = f"{request.path}?{params.urlencode()}"
            if request.user.is_authenticated:
                return None, redirect_to_login(back, login_url=reverse("account_reauthenticate"))
            return None, redirect_to_login(back)
        if not request.user.is_authenticated:
            if self._silent():
                return None, self._back("login_required", "The user is not signed in.")
            return None, redirect_to_login(request.get_full_path())
        decision, response = self._decide(request)
        if response is not None:
            return None, response
        if "consent" in self._prompts() and not decision.consent and decision.member.is_admin:
            decision.consent = "confirm"  # the app asked for the consent screen to be shown again
        if decision.consent and self._silent():
            return None, self._back(
                "consent_required", f"An administrator must approve {self.app.name} for the company first."
            )
        return (credentials, decision), None

    def get(self, request: HttpRequest) -> HttpResponse:
        if "redirect_url" in request.GET and "redirect_uri" not in request.GET:
            params = request.GET.copy()
            params["redirect_uri"] = params.pop("redirect_url")[0]
            return HttpResponseRedirect(f"{request.path}?{params.urlencode()}")
        prepared, response = self._prepare(request)
        if response is not None:
            return response
        credentials, decision = prepared
        if not decision.consent:
            return self._issue(request, credentials, decision.authorization)
        return self._consent_page(request, decision)

    def post(self, request: HttpRequest) -> HttpResponse:
        prepared, response = self._prepare(request)
        if response is not None:
            return response
        credentials, decision = prepared
        if not decision.consent:
            return self._issue(request, credentials, decision.authorization)
        if request.POST.get("decision") != "approve":
            return self._back("access_denied", "The administrator did not approve the app.")
        live = live_configuration(self.app, self.environment)
        try:
            authorization = consent.approve(
                app=self.app,
                tenant=decision.member.tenant,
                user=request.user,
                consent_text=live.consent_text if live else "",
            )
        except consent.ConsentRefused as refused:
            return self._refuse(request, self.redirect_uri, refused.code, refused.message)
        return self._issue(request, credentials, authorization)

"""django-oauth-toolkit's validator, taught the registry and the tenant authorizations.

Clients, secrets and redirect URLs come from the App Store's client-ID registry for the
request's environment; every code and token is bound to the tenant authorization it was
issued under and refused once that authorization is no longer usable.
"""

import json
import uuid
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from oauth2_provider.models import set_token_value
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors as oauth_errors

from appstore import urlrules
from appstore.models import ClientSecret
from appstore.selectors.configuration import live_configuration
from tenants.models import Environment

from ..models import AccessToken, Authorization, Grant, LoginClient, RefreshToken
from ..selectors import client_credentials, well_formed_client_id
from ..services.signing_keys import public_key_set, sign_jwt
from .claims import identity_claims
from .context import current_environment


def issuer_for(environment_code: str) -> str:
    return f"{settings.SITE_URL}/{environment_code}"


def registered_urls(client: LoginClient, field: str) -> list[str]:
    """The entries of one URL list the live configuration registers for the client's environment."""
    live = live_configuration(client.app_client.app, client.environment)
    return live.urls_for(field, client.environment.code) if live is not None else []


def redirect_uri_registered(client: LoginClient, uri: str, field: str = "redirect_urls") -> bool:
    return any(urlrules.matches(entry, uri) for entry in registered_urls(client, field))


def usable_authorization(pk: int) -> Authorization | None:
    authorization = Authorization.objects.select_related("tenant__environment", "app").filter(pk=pk).first()
    return authorization if authorization is not None and authorization.is_usable else None


def revoke_tokens_from_replayed_code(grant: Grant) -> None:
    """RFC 6749 §4.1.2: a code presented twice may be stolen; the tokens issued from it are revoked.

    Tokens are not linked to their code, so every token of that user, app and tenant authorization
    issued since the code was issued goes; the user signs in again.
    """
    tokens = AccessToken.objects.filter(
        application_id=grant.application_id,
        user_id=grant.user_id,
        authorization_id=grant.authorization_id,
        created__gte=grant.created,
    )
    RefreshToken.objects.filter(access_token__in=tokens, revoked__isnull=True).update(revoked=timezone.now())
    tokens.delete()


class LoginValidator(OAuth2Validator):
    # Every claim goes into the id_token whatever the scope: only "openid" is offered.
    oidc_claim_scope = None

    # --------------------------------------------------------- clients
    def _load_application(self, client_id, request):
        if current_environment.get() is None or not well_formed_client_id(client_id):
            return None
        client = super()._load_application(client_id, request)
        if client is not None and client.environment.code != current_environment.get():
            request.client = None
            return None
        return client

    def _client_credentials(self, request) -> tuple[str, str] | None:
        return client_credentials(
            request.headers.get("HTTP_AUTHORIZATION", ""),
            getattr(request, "client_id", None),
            getattr(request, "client_secret", None),
        )

    def authenticate_client(self, request, *args, **kwargs):
        credentials = self._client_credentials(request)
        if credentials is None:
            return False
        client_id, secret = credentials
        client = self._load_application(client_id, request)
        if client is None:
            return False
        stored = ClientSecret.objects.filter(client_id=client.app_client_id).first()
        if stored is None or not stored.matches(secret):
            return False
        request.client_id = client_id
        return True

    def authenticate_client_id(self, client_id, request, *args, **kwargs):
        return False  # every client is confidential

    # --------------------------------------------------------- authorize
    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        return redirect_uri_registered(request.client, redirect_uri)

    def get_default_redirect_uri(self, client_id, request, *args, **kwargs):
        exact = [
            entry
            for entry in registered_urls(request.client, "redirect_urls")
            if not urlrules.is_pattern(entry)
        ]
        return exact[0] if len(exact) == 1 else None

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        return "openid" in (scopes or [])  # other scopes are ignored

    def validate_silent_login(self, request):
        return True  # prompt=none: the authorize view answers login_required itself

    def validate_silent_authorization(self, request):
        return True  # prompt=none: the authorize view answers consent_required itself

    def is_origin_allowed(self, client_id, origin, request, *args, **kwargs):
        client = self._load_application(client_id, request)
        return client is not None and origin in registered_urls(client, "cors_origins")

    def _create_authorization_code(self, request, code, expires=None):
        expires = expires or timezone.now() + timedelta(
            seconds=oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS
        )
        return Grant.objects.create(
            application=request.client,
            user=request.user,
            code=code["code"],
            expires=expires,
            redirect_uri=request.redirect_uri,
            scope="openid",
            code_challenge=request.code_challenge or "",
            code_challenge_method=request.code_challenge_method or "",
            nonce=request.nonce or "",
            claims=json.dumps(request.claims or {}),
            authorization_id=request.login_authorization_id,
        )

    # --------------------------------------------------------- token endpoint
    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        grant = Grant.objects.filter(code=code, application=client).first()
        if grant is not None and grant.used_at is not None:
            revoke_tokens_from_replayed_code(grant)
            return False
        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            return False
        if request.code_verifier and not grant.code_challenge:
            return False  # a verifier for a code issued without a challenge: a PKCE downgrade (RFC 9700)
        authorization = usable_authorization(grant.authorization_id)
        if authorization is None:
            return False
        request.login_authorization = authorization
        return True

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        """Mark the code used (once, atomically) instead of deleting it, so a replay is recognised."""
        used = Grant.objects.filter(code=code, application=request.client, used_at__isnull=True).update(
            used_at=timezone.now()
        )
        if not used:
            raise oauth_errors.InvalidGrantError(request=request)

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        authorization = usable_authorization(request.refresh_token_instance.authorization_id)
        if authorization is None:
            return False
        request.login_authorization = authorization
        return True

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        id_token = token.get("id_token")
        access_token = AccessToken(
            user=request.user,
            scope=token["scope"],
            expires=expires,
            id_token=self._load_id_token(id_token) if id_token else None,
            application=request.client,
            source_refresh_token=source_refresh_token,
            authorization=request.login_authorization,
        )
        set_token_value(access_token, token["access_token"])
        access_token.save()
        return access_token

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        refresh_token = RefreshToken(
            user=request.user,
            application=request.client,
            access_token=access_token,
            token_family=previous_refresh_token.token_family if previous_refresh_token else uuid.uuid4(),
            authorization=request.login_authorization,
        )
        set_token_value(refresh_token, refresh_token_code)
        refresh_token.save()
        return refresh_token

    # --------------------------------------------------------- id_token
    def get_additional_claims(self, request):
        return identity_claims(user=request.user, authorization=request.login_authorization)

    def finalize_id_token(self, id_token, token, token_handler, request):
        """As django-oauth-toolkit does, but signed with the environment's own active key."""
        claims, expiration_time = self.get_id_token_dictionary(token, token_handler, request)
        id_token.update(**claims)
        if "nonce" not in id_token and request.nonce:
            id_token["nonce"] = request.nonce
        serialized = sign_jwt(request.client.environment, id_token)
        saved = self._save_id_token(id_token["jti"], request, expiration_time)
        request.access_token = saved
        request.id_token = saved
        return serialized

    def _get_key_for_token(self, token):
        """The environment's published keys: an id_token signed before a rotation still loads."""
        return public_key_set(Environment.objects.get(code=current_environment.get()))

    def get_oidc_issuer_endpoint(self, request):
        return issuer_for(current_environment.get())

"""Bearer-token authentication for the partner REST API.

``Authorization: Bearer pat_…`` is looked up by its SHA-256 hash. The token works only
while it is not revoked and its creator is still a member of the token's partner with the
login permission; every failure gives the same 401, so a caller cannot tell which part failed.
"""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from accounts.tokens import token_checksum

from ..models import PartnerApiToken, PartnerMember

KEYWORD = "Bearer"
INVALID_TOKEN = "The API token is invalid, revoked, or no longer allowed to sign in."
# last_used_at is written at most this often per token, not on every request.
LAST_USED_PRECISION = timedelta(minutes=1)


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        try:
            raw = parts[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN) from exc
        return self.authenticate_token(raw)

    def authenticate_token(self, raw: str):
        token = (PartnerApiToken.objects.select_related("partner", "created_by")
                 .filter(token_hash=token_checksum(raw), revoked_at__isnull=True).first())
        if token is None:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        user = token.created_by
        member = (PartnerMember.objects.filter(partner_id=token.partner_id, user_id=user.pk)
                  .first() if user.is_active else None)
        if member is None or not member.has("login"):
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        member.partner = token.partner
        member.user = user
        # The services' permission checks read this: the token reaches its own partner only.
        user._partner_memberships = {token.partner_id: member}
        token.member = member
        self._touch(token)
        return user, token

    @staticmethod
    def _touch(token: PartnerApiToken) -> None:
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
            PartnerApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now

    def authenticate_header(self, request) -> str:
        return f'{KEYWORD} realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Documents the token in the OpenAPI schema as HTTP bearer authentication."""

    target_class = ApiTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        scheme = build_bearer_security_scheme_object(header_name="Authorization", token_prefix=KEYWORD)
        scheme["description"] = ("A partner API token (pat_…), created on the portal's API tokens "
                                 "page. It acts for its creator with their current permissions.")
        return scheme

"""The id_token's tenant claims, named as the CRM's login service names them."""

from django.utils import timezone

from appstore.selectors.configuration import live_configuration
from tenants.endpoints import base_url, webapi_url
from tenants.models import TenantMember

from ..models import Authorization

CLAIM_PREFIX = "http://schemes.superoffice.net/identity/"


def claim(name: str) -> str:
    return CLAIM_PREFIX + name


def identity_claims(*, user, authorization: Authorization) -> dict:
    tenant = authorization.tenant
    member = TenantMember.objects.filter(tenant=tenant, user=user).first()
    api = webapi_url(tenant)
    base = base_url(tenant)
    claims = {
        "nbf": int(timezone.now().timestamp()),
        claim("ctx"): tenant.context_identifier,
        claim("serial"): str(tenant.serial),
        claim("webapi_url"): api,
        claim("netserver_url"): base.rstrip("/") + "/Remote/Services88/",
        claim("associateid"): str(member.pk if member else ""),
        claim("email"): user.email,
        claim("company_name"): tenant.company_name,
        claim("is_administrator"): "True" if member is not None and member.is_admin else "False",
        claim("upn"): user.email,
        claim("identityprovider"): "platform",
    }
    live = live_configuration(authorization.app, tenant.environment)
    if live is not None and "SystemToken" in (live.claims or []):
        claims[claim("system_token")] = authorization.system_user_token
    return claims

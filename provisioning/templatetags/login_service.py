"""Template tags for pages around the login service."""

import re
from urllib.parse import parse_qs, urlsplit

from django import template

from ..models import LoginClient
from ..selectors import well_formed_client_id

register = template.Library()

AUTHORIZE_PATH = re.compile(r"^/(?P<env>[a-z0-9-]+)/login/common/oauth/authorize$")


@register.simple_tag
def login_target(next_url: str) -> str:
    """The app a sign-in page leads back to when it was reached from the authorize endpoint, else ""."""
    if not next_url:
        return ""
    parts = urlsplit(next_url)
    match = AUTHORIZE_PATH.match(parts.path)
    if parts.netloc or match is None:
        return ""
    client_id = (parse_qs(parts.query).get("client_id") or [""])[0]
    if not well_formed_client_id(client_id):
        return ""
    client = (LoginClient.objects_all.select_related("app_client__app")
              .filter(client_id=client_id, environment__code=match["env"]).first())
    return client.app_client.app.name if client else ""

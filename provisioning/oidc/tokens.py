"""Access tokens that show their tenant: ``8A:<ctx>.<random>``."""

import secrets


def access_token(request) -> str:
    """oauthlib token generator; the validator put the authorization on the request."""
    return f"8A:{request.login_authorization.tenant.context_identifier}.{secrets.token_urlsafe(32)}"

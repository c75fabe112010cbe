"""Reference partner service: OpenID Connect sign-in and the system-user exchange, over HTTP only."""

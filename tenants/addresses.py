"""Where a tenant may be moved to: https URLs at public hosts (local ones only in sod, when allowed)."""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings

# Names that never reach a public host.
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")


def private_allowed(environment_code: str) -> bool:
    return environment_code == "sod" and bool(getattr(settings, "ALLOW_PRIVATE_PARTNER_URLS", False))


def address_problem(value: str, *, label: str, allow_private: bool) -> str:
    """Why ``value`` cannot be a tenant's address, or "" when it can (the URL syntax is checked before)."""
    parts = urlsplit(value)
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        return f"Enter the {label} as an https:// URL."
    if parts.username is not None or parts.password is not None:
        return f"The {label} may not contain a user name or password."
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return f"The {label} needs a host name."
    if not host.isascii():
        return f"The {label} must use an ASCII host name (an internationalised name is not accepted)."
    if allow_private:
        return ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost" or host.endswith(LOCAL_SUFFIXES) or "." not in host:
            return f"The {label} must be at a public host, not {host}."
        return ""
    if not ip.is_global:
        return f"The {label} must be at a public address, not {host}."
    return ""

"""Expired login credentials are deleted: codes, tokens, id_tokens and idle system-user tickets."""

from datetime import timedelta

from django.utils import timezone
from oauth2_provider.models import clear_expired

from ..models import RefreshToken, SystemUserTicket
from .system_users import TICKET_IDLE

# Rotated (revoked) refresh tokens are kept this long so that a replay of one revokes its family.
REVOKED_REFRESH_KEPT = timedelta(days=30)


def clear_expired_credentials() -> dict[str, int]:
    """Delete what can no longer be used, and say how much of each went.

    django-oauth-toolkit's sweep removes expired codes (used ones included), access tokens and
    id_tokens; refresh tokens live as long as their authorization, so revoked ones are dropped here
    once they are older than the replay window.
    """
    now = timezone.now()
    clear_expired()
    refresh, _ = RefreshToken.objects.filter(revoked__lt=now - REVOKED_REFRESH_KEPT).delete()
    tickets, _ = SystemUserTicket.objects.filter(last_used_at__lt=now - TICKET_IDLE).delete()
    return {"revoked_refresh_tokens": refresh, "idle_tickets": tickets}

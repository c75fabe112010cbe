"""The tenant state API's answer (SPEC §6), cached per environment and context identifier.

An answer is cached until its ``ValidUntil``; saving or deleting a tenant forgets its answer
(see ``receivers``). Code that changes tenants with ``QuerySet.update()`` calls ``forget_state``.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from .endpoints import base_url, webapi_url
from .models import Environment, Tenant, TenantState

CONTEXT_IDENTIFIER = re.compile(r"Cust[0-9]{1,28}")
ENVIRONMENT_CODE = re.compile(r"[a-z0-9-]{1,16}")

# Callers ask again soon while the tenant is changing, rarely while it is settled.
STEADY_FOR = timedelta(minutes=5)
CHANGING_FOR = timedelta(seconds=30)
CHANGING_STATES = frozenset({
    TenantState.PROVISIONING, TenantState.DELETING, TenantState.MIGRATION_PENDING,
    TenantState.ONLINE_MAINTENANCE, TenantState.OFFLINE_MAINTENANCE,
})


@dataclass(frozen=True)
class StateAnswer:
    body: dict
    valid_until: datetime

    def max_age(self, now: datetime | None = None) -> int:
        """Whole seconds until ``ValidUntil``; what caches may keep the answer for."""
        return max(0, int((self.valid_until - (now or timezone.now())).total_seconds()))


def cache_key(environment_code: str, context_identifier: str) -> str:
    return f"tenant-state:{environment_code}:{context_identifier}"


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ask_again_at(tenant: Tenant | None, now: datetime) -> datetime:
    """Sooner while the tenant is changing (or unknown: it may be being created); never later
    than the tenant's own ``valid_until`` when that is still ahead."""
    changing = tenant is None or tenant.state in CHANGING_STATES
    moment = now + (CHANGING_FOR if changing else STEADY_FOR)
    if tenant is not None and tenant.valid_until and now < tenant.valid_until < moment:
        moment = tenant.valid_until
    return moment.replace(microsecond=0)


def state_body(tenant: Tenant | None, context_identifier: str, valid_until: datetime) -> dict:
    if tenant is None:
        return {"ContextIdentifier": context_identifier, "Endpoint": "", "State": TenantState.UNKNOWN.label,
                "IsRunning": False, "ValidUntil": iso_utc(valid_until), "Api": "", "Version": ""}
    return {
        "ContextIdentifier": tenant.context_identifier,
        "Endpoint": base_url(tenant),
        "State": TenantState(tenant.state).label,
        "IsRunning": tenant.is_running,
        "ValidUntil": iso_utc(valid_until),
        "Api": webapi_url(tenant),
        "Version": tenant.version_label,
    }


def tenant_state(environment_code: str, context_identifier: str) -> StateAnswer | None:
    """The state of the tenant ``context_identifier`` in the environment; None when there is no
    such environment. A context identifier that cannot exist answers Unknown and is not cached."""
    if not ENVIRONMENT_CODE.fullmatch(environment_code):
        return None
    well_formed = CONTEXT_IDENTIFIER.fullmatch(context_identifier) is not None
    key = cache_key(environment_code, context_identifier) if well_formed else None
    if key is not None:
        cached = cache.get(key)
        if cached is not None:
            answer = StateAnswer(*cached)
            if answer.max_age() > 0:
                return answer
    environment = Environment.objects.filter(code=environment_code).first()
    if environment is None:
        return None
    tenant = None
    if well_formed:
        tenant = (Tenant.objects.filter(environment=environment, context_identifier=context_identifier)
                  .select_related("environment").first())
    now = timezone.now()
    valid_until = ask_again_at(tenant, now)
    answer = StateAnswer(state_body(tenant, context_identifier[:32], valid_until), valid_until)
    if key is not None and answer.max_age(now) > 0:
        cache.set(key, (answer.body, answer.valid_until), timeout=answer.max_age(now))
    return answer


def forget_state(*, environment_code: str, context_identifier: str) -> None:
    cache.delete(cache_key(environment_code, context_identifier))

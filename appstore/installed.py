"""The store's "Installed for <company>" marker, without the App Store knowing about installations.

Installations (authorizations) belong to the login service, a room above this one, so the App Store
never imports it. Instead the login service registers a lookup here when Django starts
(``provisioning.apps.ProvisioningConfig.ready``)::

    installed_lookup(user, app_ids, environment_code) -> {app id: company name}

It answers, for a signed-in user, which of ``app_ids`` have an active authorization in a tenant of
that environment the user belongs to, and for which company (several joined with ", "). While it
is None (the login service is not installed) the store marks nothing as installed.
"""

from collections.abc import Callable, Iterable
from typing import Any

InstalledLookup = Callable[[Any, Iterable[int], str], dict[int, str]]

installed_lookup: InstalledLookup | None = None


def installed_for(user, app_ids: Iterable[int], environment_code: str) -> dict[int, str]:
    """App id → company name for the apps installed for the user's companies; {} for visitors."""
    app_ids = list(app_ids)
    if installed_lookup is None or not app_ids or user is None or not user.is_authenticated:
        return {}
    return installed_lookup(user, app_ids, environment_code)

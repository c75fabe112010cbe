"""Signals the App Store room sends to the rooms above it (provisioning, integrations).

``configuration_published``
    Sent after the transaction that published a configuration version commits, when the
    version widened what the app can reach compared with the version it superseded in that
    environment (or with nothing, for the first one there). The consent room receives it to
    mark the app's tenant authorizations in that environment "needs re-approval".

    sender
        ``appstore.models.ConfigurationVersion``
    app
        the ``App`` whose configuration was published
    environment
        the ``tenants.models.Environment`` it was published to
    version
        the published ``ConfigurationVersion`` (its ``widened`` field holds the same list)
    widened
        a non-empty list of what was added, from ``"SystemToken claim"``, ``"webhooks"``
        (the Webhook agent, or the customer state change endpoint switched on) and
        ``"mirroring"`` (the database mirroring endpoint switched on)
"""

from django.dispatch import Signal

configuration_published = Signal()

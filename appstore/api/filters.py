"""Query filters of the API's list endpoints (django-filter)."""

import django_filters

from ..models import UrlScope, VersionState

REQUEST_STATES = [(state.value, state.label) for state in
                  (VersionState.PENDING, VersionState.PUBLISHED, VersionState.REJECTED)]
REQUEST_KIND_CHOICES = [("listing", "Store listing version"),
                        ("configuration", "Configuration version")]
# The environments a version belongs to: every URL scope except "all".
ENVIRONMENT_CHOICES = [(value, label) for value, label in UrlScope.choices if value != UrlScope.ALL]


class PublishRequestFilter(django_filters.FilterSet):
    """Filters one kind of publish request (listing or configuration versions).

    The request list is the union of both kinds, and a union cannot be filtered afterwards,
    so the view applies this to each kind's rows before combining them.
    """

    state = django_filters.ChoiceFilter(choices=REQUEST_STATES)
    kind = django_filters.ChoiceFilter(choices=REQUEST_KIND_CHOICES, method="filter_kind")
    app = django_filters.NumberFilter(field_name="app_id")
    environment = django_filters.ChoiceFilter(choices=ENVIRONMENT_CHOICES, field_name="environment__code")

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind

    def filter_kind(self, queryset, name, value):
        return queryset if value == self.kind else queryset.none()

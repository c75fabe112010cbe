"""The filter form of the partner's customers page and its CSV export."""

from django import forms

from appstore.models import Partner
from appstore.selectors.partners import apps_of

from .partner_tenant_selectors import STATUS_CHOICES, TenantFilters

SEARCH_MAX = 100


class PartnerTenantFilterForm(forms.Form):
    q = forms.CharField(label="Company or context identifier", required=False, max_length=SEARCH_MAX,
                        widget=forms.TextInput(attrs={"type": "search", "spellcheck": "false",
                                                      "autocapitalize": "off"}))
    environment = forms.ChoiceField(required=False)
    app = forms.ModelChoiceField(queryset=None, required=False, empty_label="All apps")
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *STATUS_CHOICES])

    def __init__(self, *args, partner: Partner, environments, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["environment"].choices = [("", "All environments"),
                                              *[(env.code, env.name) for env in environments]]
        self.fields["app"].queryset = apps_of(partner).order_by("name")

    def filters(self) -> TenantFilters:
        """The valid filters only: a wrong value in one box does not hide the whole list."""
        data = getattr(self, "cleaned_data", {})
        return TenantFilters(
            search=(data.get("q") or "").strip(),
            environment=data.get("environment") or "",
            app_id=data["app"].pk if data.get("app") else None,
            status=data.get("status") or "",
        )

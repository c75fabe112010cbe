"""Forms on the staff pages that are not review decisions."""

from django import forms

from ..models import App, Partner, ReviewStatus


class StaffAppFilterForm(forms.Form):
    q = forms.CharField(label="Name", required=False, max_length=64)
    kind = forms.ChoiceField(label="Kind", required=False, choices=[
        ("", "All apps"), ("standard", "Standard"), ("custom", "Custom")])
    certification_status = forms.ChoiceField(label="Certification", required=False,
                                             choices=[("", "Any"), *ReviewStatus.choices])

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {"q": data.get("q", ""), "kind": data.get("kind", ""),
                "certification_status": data.get("certification_status", "")}


class StaffAppSettingsForm(forms.ModelForm):
    """The staff-only settings of an app (SPEC §3, §4)."""

    class Meta:
        model = App
        fields = ["partner", "developed_by", "is_custom", "is_beta", "hidden_from_our_apps",
                  "is_featured", "certification_status", "security_audit_status"]
        labels = {"partner": "Owner partner", "developed_by": "Developed by",
                  "is_custom": "Custom app (one customer)", "is_beta": "Beta",
                  "is_featured": "Featured in the store", "certification_status": "Certification",
                  "security_audit_status": "Security audit"}
        help_texts = {
            "is_beta": "A newly listed standard app is beta until staff lift it.",
            "certification_status": "Production credentials of a standard app stay inactive until "
                                    "certification and the security audit have passed.",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = Partner.objects.order_by("name")
        self.fields["developed_by"].queryset = Partner.objects.order_by("name")
        self.fields["partner"].empty_label = None

    def changes(self) -> dict:
        return {field: self.cleaned_data[field] for field in self.changed_data}

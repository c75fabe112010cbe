"""The delivery log's filters."""

from django import forms

from tenants.signals import ChangeType

from .models import DeliveryState


class DeliveryFilterForm(forms.Form):
    state = forms.ChoiceField(required=False, choices=[("", "All states"), *DeliveryState.choices])
    change_type = forms.TypedChoiceField(label="Change type", required=False, coerce=int, empty_value=None,
                                         choices=[("", "All changes"), *ChangeType.choices])

    def filters(self) -> dict:
        """The valid filters only: a wrong value in one box does not hide the whole log."""
        data = getattr(self, "cleaned_data", {})
        return {"state": data.get("state") or "", "change_type": data.get("change_type")}

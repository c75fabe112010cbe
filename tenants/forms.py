"""Forms of the staff tenant pages and the members page."""

from django import forms
from django.core.exceptions import ValidationError

from .models import Environment, TenantState
from .services.lifecycle import BACKUP_MAX, REASON_MAX, URL_MAX, VERSION_MAX, invisible_characters_message


def visible_text(label: str):
    """A field validator refusing control and bidi-override characters, with the service's message."""

    def validate(value: str) -> None:
        message = invisible_characters_message(value, label)
        if message:
            raise ValidationError(message, code="invisible")

    return validate


class TenantFilterForm(forms.Form):
    q = forms.CharField(label="Context identifier or company", required=False, max_length=200)
    environment = forms.ChoiceField(label="Environment", required=False)
    state = forms.TypedChoiceField(label="State", required=False, coerce=int, empty_value=None,
                                   choices=[("", "Any state"), *TenantState.choices])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["environment"].choices = [("", "All environments"),
                                              *Environment.objects.values_list("code", "name")]

    def filters(self) -> dict:
        # The valid filters apply even when another one is not; the bad one shows its error.
        self.is_valid()
        data = self.cleaned_data
        return {"q": (data.get("q") or "").strip(), "environment": data.get("environment") or "",
                "state": data.get("state")}


class TenantCreateForm(forms.Form):
    environment = forms.ChoiceField(label="Environment")
    company_name = forms.CharField(label="Company name", max_length=200,
                                   validators=[visible_text("company name")])
    admin_email = forms.EmailField(label="First administrator's e-mail", max_length=254,
                                   help_text="An account is created for a new address; its owner gets a link "
                                             "to choose a password.")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["environment"].choices = list(Environment.objects.values_list("code", "name"))


class TenantActionForm(forms.Form):
    """One action on the tenant page; the fields an action does not take are ignored."""

    action = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(label="Reason", required=False, max_length=REASON_MAX)
    version_label = forms.CharField(label="New version", required=False, max_length=VERSION_MAX,
                                    validators=[visible_text("version label")])
    public_endpoint = forms.CharField(label="New public endpoint", required=False, max_length=URL_MAX)
    webapi_url = forms.CharField(label="New web API URL", required=False, max_length=URL_MAX)
    backup = forms.CharField(label="Backup (date or name)", required=False, max_length=BACKUP_MAX)
    confirm = forms.BooleanField(label="I understand", required=False)


class MemberInviteForm(forms.Form):
    email = forms.EmailField(label="E-mail address", max_length=254)
    is_admin = forms.BooleanField(label="Administrator", required=False,
                                  help_text="Administrators approve apps and manage members.")


class AdminRightsForm(forms.Form):
    """The members page's toggle: 1 grants administrator rights, 0 withdraws them."""

    admin = forms.TypedChoiceField(choices=[("1", "Administrator"), ("0", "Member")],
                                   coerce=lambda value: value == "1")


def service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: on the named field when the form has it."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)

"""HTML forms of custom-app authorization requests: they parse and check format; services decide."""

from django import forms

from tenants.models import Environment, context_identifier_validator

from .services.requests import CONTEXT_IDENTIFIER_MAX, CUSTOMER_NAME_MAX, NOTE_MAX, REASON_MAX


class AuthorizationRequestForm(forms.Form):
    """The partner's request that staff activate a custom app for one customer's tenant."""

    environment = forms.ChoiceField(label="Environment", widget=forms.RadioSelect)
    customer_name = forms.CharField(label="Customer name", max_length=CUSTOMER_NAME_MAX,
                                    widget=forms.TextInput(attrs={"autocomplete": "organization"}))
    context_identifier = forms.CharField(
        label="Context identifier", max_length=CONTEXT_IDENTIFIER_MAX,
        validators=[context_identifier_validator],
        help_text="The customer's tenant: Cust followed by digits, for example Cust12345.",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocapitalize": "off"}))
    contact_email = forms.EmailField(
        label="Customer's contact e-mail",
        help_text="Gets the link to confirm the activation; best an administrator of the customer's CRM.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    note = forms.CharField(label="Note to staff", required=False, max_length=NOTE_MAX,
                           help_text=f"Optional, at most {NOTE_MAX} characters.",
                           widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, environments: list[Environment], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["environment"].choices = [(env.code, env.name or env.code) for env in environments]
        if len(environments) == 1:
            self.fields["environment"].initial = environments[0].code


class RejectRequestForm(forms.Form):
    reason = forms.CharField(
        label="Reason", max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The partner's technical contact is sent this reason.",
        error_messages={"required": "Say why the request is rejected; the partner reads it."})

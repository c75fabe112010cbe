"""HTML forms of the developer portal: they parse and check format; services decide and write."""

from allauth.account.forms import SignupForm
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from audit.models import AuditEntry

from .. import urlrules
from ..models import (
    App,
    AppTemplate,
    Partner,
    seo_name_validator,
    validate_app_name,
)
from ..names import normalise_name, validate_company_name
from ..selectors.partners import apps_of
from ..selectors.portal import member_users
from ..services.apps import SEO_NAME_LOCKED, STANDARD_ONLY_TEMPLATES, name_taken, seo_name_locked
from ..services.listings import validate_public_url
from ..services.partners import partner_name_taken
from ..services.team import validate_account_email

COMPANY_NAME_MAX = Partner._meta.get_field("name").max_length


# ---------------------------------------------------------------- helpers

def split_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def clean_email_lines(text: str) -> str:
    """One address per line; every line must be an e-mail address."""
    lines = split_lines(text)
    bad = []
    for line in lines:
        try:
            validate_email(line)
        except ValidationError:
            bad.append(line)
    if bad:
        raise ValidationError("Not an e-mail address: " + ", ".join(bad) + ". Put one address per line.")
    return "\n".join(lines)


def apply_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: on the named field when the form has it."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def clean_company_name(value: str) -> str:
    name = normalise_name(value)
    if partner_name_taken(name):
        raise ValidationError(
            f"A company named “{name}” is already registered. Choose another name, "
            "or ask that company's administrator to add you to its team.", code="duplicate")
    return name


def clean_app_name(value: str, exclude_pk: int | None = None) -> str:
    """The normalised name, unless the store already has it in another spelling."""
    name = normalise_name(value)
    if name_taken(name, exclude_pk=exclude_pk):
        raise ValidationError("An app with this name already exists in the store "
                              "(names ignore case, spacing and character width).", code="duplicate")
    return name


class PartnerSignupForm(SignupForm):
    """allauth's sign-up plus the company that becomes a new partner."""

    company_name = forms.CharField(
        label="Company name", max_length=COMPANY_NAME_MAX, validators=[validate_company_name],
        help_text="Your company becomes a partner in the developer portal; you become its administrator.",
        widget=forms.TextInput(attrs={"autocomplete": "organization"}))

    def __init__(self, *args, invitation=None, invitation_token: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields(["company_name", "full_name", "email", "password1", "password2"])
        if "full_name" in self.fields:
            self.fields["full_name"].widget.attrs.setdefault("autocomplete", "name")
        # With an open invitation the person joins the inviting partner instead of registering one.
        self.invitation = invitation
        if invitation is not None:
            del self.fields["company_name"]
            self.fields["invitation"] = forms.CharField(widget=forms.HiddenInput, initial=invitation_token)
            self.fields["email"].initial = invitation.email
            self.fields["email"].help_text = "The address the invitation was sent to."

    def clean_company_name(self) -> str:
        return clean_company_name(self.cleaned_data["company_name"])

    def clean_email(self) -> str:
        email = super().clean_email()
        # The rule invitations use too, so everyone invited can sign up and the other way round.
        validate_account_email(email)
        if self.invitation is not None and email.lower() != self.invitation.email.lower():
            raise ValidationError(f"The invitation was sent to {self.invitation.email}; sign up with that "
                                  "address, or ask for an invitation to this one.")
        return email


class PartnerCreateForm(forms.Form):
    name = forms.CharField(label="Company name", max_length=COMPANY_NAME_MAX,
                           validators=[validate_company_name],
                           widget=forms.TextInput(attrs={"autocomplete": "organization"}))

    def clean_name(self) -> str:
        return clean_company_name(self.cleaned_data["name"])


# ---------------------------------------------------------------- apps

class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.full_name} <{obj.email}>" if obj.full_name else obj.email


class AppCreateForm(forms.Form):
    """The create wizard: template, custom or standard, name, contact, template-specific URLs."""

    template = forms.ChoiceField(choices=AppTemplate.choices, widget=forms.RadioSelect,
                                 initial=AppTemplate.WEB)
    is_custom = forms.TypedChoiceField(
        label="Custom or standard", widget=forms.RadioSelect, initial="standard",
        choices=[("standard", "Standard"), ("custom", "Custom")],
        coerce=lambda value: value == "custom", empty_value=False)
    name = forms.CharField(
        max_length=64, validators=[validate_app_name],
        help_text="At most 64 characters, unique in the store; "
                  "none of . : ; ? * ~ # % | = \\ / { } < > ' \"")
    technical_contact = MemberChoiceField(queryset=None, empty_label=None, required=False,
                                          help_text="Receives technical e-mails about the app; "
                                                    "you, unless you choose a colleague.")
    redirect_urls = forms.CharField(
        label="Redirect URLs", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line. https:// addresses (http:// only for localhost and 127.0.0.1, "
                  "kept for sod); a line starting with ^ is a regular expression.")
    erp_endpoint_url = forms.URLField(label="ERP sync endpoint URL", required=False, max_length=200,
                                      assume_scheme="https", validators=[validate_public_url])
    quote_endpoint_url = forms.URLField(label="Quote connector endpoint URL", required=False,
                                        max_length=200, assume_scheme="https",
                                        validators=[validate_public_url])

    def __init__(self, *args, partner: Partner, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["technical_contact"].queryset = member_users(partner)
        self.fields["technical_contact"].initial = user.pk

    def clean_name(self) -> str:
        return clean_app_name(self.cleaned_data["name"])

    def clean_redirect_urls(self) -> str:
        # Configuration 1.0 is published to sod, where a local http:// address is allowed;
        # create_initial_configuration keeps such an address in the sod list only.
        lines = split_lines(self.cleaned_data["redirect_urls"])
        errors = urlrules.check_entries(lines, kind=urlrules.REDIRECT, scope="sod")
        if errors:
            raise ValidationError(errors)
        return "\n".join(lines)

    def clean(self) -> dict:
        data = super().clean()
        template = data.get("template")
        if template in STANDARD_ONLY_TEMPLATES and data.get("is_custom"):
            self.add_error("is_custom", "The ERP sync & quote template is for standard apps only.")
        if template == AppTemplate.WEB:
            if "redirect_urls" not in self.errors and not data.get("redirect_urls"):
                self.add_error("redirect_urls", "A web app needs at least one redirect URL.")
        else:
            data["redirect_urls"] = ""
        if template == AppTemplate.ERP_QUOTE:
            for field in ("erp_endpoint_url", "quote_endpoint_url"):
                if field not in self.errors and not data.get(field):
                    self.add_error(field, "The ERP sync & quote template needs this endpoint.")
        else:
            data["erp_endpoint_url"] = data["quote_endpoint_url"] = ""
        return data


class AppSettingsForm(forms.Form):
    """The settings a partner may change; staff-only flags are shown, not edited."""

    name = forms.CharField(max_length=64, validators=[validate_app_name],
                           help_text="At most 64 characters, unique in the store.")
    seo_name = forms.CharField(label="SEO name", max_length=64, validators=[seo_name_validator],
                               help_text="The app's address in the store: "
                                         "lowercase letters, digits and dashes.")
    technical_contact = MemberChoiceField(queryset=None, empty_label=None)
    error_report_emails = forms.CharField(label="Error-report e-mails", required=False,
                                          widget=forms.Textarea(attrs={"rows": 3}),
                                          help_text="One address per line.")
    uninstall_report_emails = forms.CharField(label="Uninstall-report e-mails", required=False,
                                              widget=forms.Textarea(attrs={"rows": 3}),
                                              help_text="One address per line.")

    def __init__(self, *args, app: App, **kwargs) -> None:
        kwargs.setdefault("initial", {
            "name": app.name, "seo_name": app.seo_name,
            "technical_contact": app.technical_contact_id,
            "error_report_emails": app.error_report_emails,
            "uninstall_report_emails": app.uninstall_report_emails,
        })
        super().__init__(*args, **kwargs)
        self.app = app
        self.fields["technical_contact"].queryset = member_users(app.partner)
        self.seo_name_locked = seo_name_locked(app)
        if self.seo_name_locked:
            # A disabled field ignores what is posted and keeps the stored value.
            self.fields["seo_name"].disabled = True
            self.fields["seo_name"].help_text = SEO_NAME_LOCKED

    def clean_name(self) -> str:
        return clean_app_name(self.cleaned_data["name"], exclude_pk=self.app.pk)

    def clean_error_report_emails(self) -> str:
        return clean_email_lines(self.cleaned_data["error_report_emails"])

    def clean_uninstall_report_emails(self) -> str:
        return clean_email_lines(self.cleaned_data["uninstall_report_emails"])


# ---------------------------------------------------------------- listing

class AuditFilterForm(forms.Form):
    source = forms.ChoiceField(required=False, choices=[("", "All sources"), *AuditEntry.Source.choices])
    user = MemberChoiceField(queryset=None, required=False, empty_label="Everyone")
    app = forms.ModelChoiceField(queryset=App.objects.none(), required=False, empty_label="All apps")
    date_from = forms.DateField(label="From", required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, partner: Partner, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = member_users(partner)
        self.fields["app"].queryset = apps_of(partner)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def filters(self) -> dict:
        """The valid filters only: a wrong value in one box does not hide the whole log."""
        data = getattr(self, "cleaned_data", {})
        return {
            "source": data.get("source") or "",
            "actor_id": data["user"].pk if data.get("user") else None,
            "app_id": data["app"].pk if data.get("app") else None,
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to") if "date_to" not in self.errors else None,
        }

"""Forms of the company pages: partner settings and the partner profile editor."""


from django import forms
from django.core.exceptions import ValidationError

from ..models import Partner, PartnerProfileVersion, seo_name_validator
from ..names import validate_company_name
from ..selectors.portal import member_users
from ..services.partners import COMPANY_NAME_MAX, MAX_EMAILS, STAFF_SETTINGS, clean_email_list
from ..services.profile import (
    LOGO_ALT_MAX,
    MAX_DESCRIPTION_LENGTH,
    MAX_DESCRIPTION_WORDS,
    MAX_LINK_ALT,
    MAX_LINK_URL,
    MAX_LINKS,
    META_DESCRIPTION_MAX,
    limit_errors,
    validate_profile_link,
)
from . import MemberChoiceField
from .configuration import EditorFormMixin

SEEN_FIELD = "seen_updated_at"


class ProfileLinkField(forms.URLField):
    """A profile link, checked once by the service's rule (no second "Enter a valid URL")."""

    default_validators = [validate_profile_link]


class CompanySettingsForm(forms.Form):
    """Contacts and e-mail lists for members with the users permission; name, SEO name and
    website are shown read-only unless an App manager edits them."""

    name = forms.CharField(label="Company name", max_length=COMPANY_NAME_MAX,
                           validators=[validate_company_name])
    seo_name = forms.CharField(label="SEO name", max_length=64, validators=[seo_name_validator],
                               help_text="The company's address in the store: /apps/<SEO name>/.")
    website = forms.URLField(required=False, max_length=200, assume_scheme="https")
    administrative_contact = MemberChoiceField(
        queryset=None, empty_label=None, label="Administrative contact",
        help_text="Receives contract and account e-mails. Must be a member of the company.")
    technical_contact = MemberChoiceField(
        queryset=None, empty_label=None, label="Technical contact",
        help_text="Receives review decisions and technical e-mails. Must be a member of the company.")
    support_emails = forms.CharField(
        label="Support e-mails", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"One address per line, at most {MAX_EMAILS}.")
    uninstall_report_emails = forms.CharField(
        label="Uninstall-report e-mails", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"One address per line, at most {MAX_EMAILS}. Told when a customer uninstalls an app.")

    STAFF_HELP = "Set by platform staff; ask the App Store team to change it."

    def __init__(self, *args, partner: Partner, staff: bool = False, readonly: bool = False,
                 **kwargs) -> None:
        kwargs.setdefault("initial", {
            "name": partner.name, "seo_name": partner.seo_name, "website": partner.website,
            "administrative_contact": partner.administrative_contact_id,
            "technical_contact": partner.technical_contact_id,
            "support_emails": partner.support_emails,
            "uninstall_report_emails": partner.uninstall_report_emails,
        })
        super().__init__(*args, **kwargs)
        self.partner = partner
        for name in ("administrative_contact", "technical_contact"):
            self.fields[name].queryset = member_users(partner)
        self.staff = staff
        for name in STAFF_SETTINGS:
            if not staff:
                # A disabled field ignores what is posted and keeps the stored value.
                self.fields[name].disabled = True
                self.fields[name].help_text = self.STAFF_HELP
        if readonly:
            for field in self.fields.values():
                field.disabled = True

    def clean_support_emails(self) -> str:
        return clean_email_list(self.cleaned_data["support_emails"])

    def clean_uninstall_report_emails(self) -> str:
        return clean_email_list(self.cleaned_data["uninstall_report_emails"])

    def changes(self) -> dict:
        """The editable fields only: what the service is asked to change."""
        return {name: value for name, value in self.cleaned_data.items()
                if not self.fields[name].disabled}

    def staff_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in STAFF_SETTINGS]

    def partner_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in STAFF_SETTINGS]


def link_field(index: int, part: str) -> str:
    return f"link_{index}_{part}"


class ProfileForm(EditorFormMixin, forms.Form):
    """The text of a profile version; the logo and its alt text go through LogoUploadForm.

    Format and size errors block saving; missing values do not (the publish panel lists them).
    """

    seen_updated_at = forms.CharField(widget=forms.HiddenInput, required=False)
    label = forms.CharField(label="Version label", max_length=64,
                            help_text="For example 1.1. Reviewers see it; the store does not.")
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 10}),
        help_text=f"At most {MAX_DESCRIPTION_WORDS} words ({MAX_DESCRIPTION_LENGTH:,} characters with "
                  "the HTML). Bold, italic, lists and links are kept; other HTML is removed.")
    meta_description = forms.CharField(
        label="SEO meta description", max_length=META_DESCRIPTION_MAX, required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=f"At most {META_DESCRIPTION_MAX} characters; search engines show it under the "
                  "link to your company page.")

    def __init__(self, *args, version: PartnerProfileVersion, readonly: bool = False,
                 locked: bool = False, **kwargs) -> None:
        """``readonly``: the stored values, disabled. ``locked``: what was posted, shown read-only so
        it can be copied (the version was locked after the page was opened)."""
        if not args and "data" not in kwargs:
            kwargs.setdefault("initial", self.initial_from(version))
        super().__init__(*args, **kwargs)
        self.version = version
        for index in range(MAX_LINKS):
            self.fields[link_field(index, "url")] = ProfileLinkField(
                label=f"Link {index + 1} URL", required=False, max_length=MAX_LINK_URL,
                assume_scheme="https")
            self.fields[link_field(index, "alt")] = forms.CharField(
                label=f"Link {index + 1} alt text", required=False, max_length=MAX_LINK_ALT,
                help_text="The words visitors see and screen readers announce.")
        self.fields["meta_description"].widget.attrs["data-maxlength"] = str(META_DESCRIPTION_MAX)
        self.fields["description"].widget.attrs["data-maxwords"] = str(MAX_DESCRIPTION_WORDS)
        if readonly:
            for field in self.fields.values():
                field.disabled = True
        elif locked:
            for field in self.fields.values():
                field.widget.attrs["readonly"] = True

    @staticmethod
    def initial_from(version: PartnerProfileVersion) -> dict:
        initial = {SEEN_FIELD: version.updated_at.isoformat(), "label": version.label,
                   "description": version.description,
                   "meta_description": version.meta_description}
        for index, link in enumerate((version.links or [])[:MAX_LINKS]):
            initial[link_field(index, "url")] = link.get("url", "")
            initial[link_field(index, "alt")] = link.get("alt", "")
        return initial

    def clean_description(self) -> str:
        value = self.cleaned_data["description"]
        errors = limit_errors({"description": value})
        if errors:
            raise ValidationError(errors["description"], code="too_long")
        return value

    def clean(self) -> dict:
        data = super().clean()
        for index in range(MAX_LINKS):
            url_name, alt_name = link_field(index, "url"), link_field(index, "alt")
            if url_name in self.errors or alt_name in self.errors:
                continue
            if data.get(url_name) and not data.get(alt_name, "").strip():
                self.add_error(alt_name, "Enter the alt text for this link.")
            elif data.get(alt_name, "").strip() and not data.get(url_name):
                self.add_error(url_name, "Enter the URL for this link, or clear its alt text.")
        return data

    def profile_fields(self) -> dict:
        data = self.cleaned_data
        links = [{"url": data[link_field(i, "url")], "alt": data[link_field(i, "alt")].strip()}
                 for i in range(MAX_LINKS) if data[link_field(i, "url")]]
        return {"label": data["label"], "description": data["description"],
                "meta_description": data["meta_description"].strip(), "links": links}

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("label", "description", "meta_description")]

    def link_rows(self) -> list[tuple[int, forms.BoundField, forms.BoundField]]:
        return [(index + 1, self[link_field(index, "url")], self[link_field(index, "alt")])
                for index in range(MAX_LINKS)]


class LogoUploadForm(forms.Form):
    """The logo file and its alt text; the service checks the file itself with Pillow.

    Without a file, a version that has a logo only changes the alt text.
    """

    seen_updated_at = forms.CharField(widget=forms.HiddenInput, required=False)
    logo = forms.FileField(label="Logo (PNG file)", required=False,
                           widget=forms.FileInput(attrs={"accept": "image/png"}),
                           help_text="PNG, square, exactly 488×488 pixels.")
    alt_text = forms.CharField(label="Logo alt text", max_length=LOGO_ALT_MAX,
                               help_text="Describe the logo for people who cannot see it.")

    def __init__(self, *args, version: PartnerProfileVersion, **kwargs) -> None:
        kwargs.setdefault("initial", {SEEN_FIELD: version.updated_at.isoformat(),
                                      "alt_text": version.logo_alt})
        super().__init__(*args, prefix="logo", **kwargs)
        if version.logo:
            self.fields["logo"].label = "New logo (PNG file)"
            self.fields["logo"].help_text += " Leave empty to change only the alt text."
        else:
            self.fields["logo"].required = True
            self.fields["logo"].error_messages["required"] = "Choose the logo's PNG file."

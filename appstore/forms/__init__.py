"""HTML forms of the developer portal: they parse and check format; services decide and write."""

import re
from urllib.parse import parse_qs

from allauth.account.forms import SignupForm
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from audit.models import AuditEntry

from .. import urlrules
from ..models import (
    GREEN_BUTTON_LABELS,
    App,
    AppTemplate,
    Category,
    ImageKind,
    Language,
    LinkKind,
    ListingVersion,
    ListingVideo,
    Market,
    Partner,
    PriceModel,
    seo_name_validator,
    validate_app_name,
)
from ..names import normalise_name, validate_company_name
from ..selectors.partners import apps_of
from ..selectors.portal import member_users
from ..services.apps import SEO_NAME_LOCKED, STANDARD_ONLY_TEMPLATES, name_taken, seo_name_locked
from ..services.listings import (
    MAX_ABOUT_LENGTH,
    MAX_ABOUT_WORDS,
    MAX_INSTALL_STEP_LENGTH,
    MAX_INSTALL_STEPS,
    MAX_KEY_FEATURE_LENGTH,
    MAX_KEY_FEATURES,
    MAX_TEXT_LENGTHS,
    MAX_VIDEOS,
    META_DESCRIPTION_LENGTH,
    limit_errors,
    validate_public_url,
)
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


def youtube_id(value: str) -> str:
    """Accept a bare video ID or a YouTube address and return the ID."""
    value = value.strip()
    parts = urlrules.split_url(value)
    if parts is not None and parts.scheme in ("http", "https") and parts.hostname:
        host = parts.hostname.removeprefix("www.").removeprefix("m.")
        if host == "youtu.be":
            return parts.path.strip("/")
        if host.endswith("youtube.com"):
            if parts.path == "/watch":
                return (parse_qs(parts.query).get("v") or [""])[0]
            match = re.match(r"^/(?:embed|shorts|v)/([^/?#]+)", parts.path)
            if match:
                return match.group(1)
    return value


# ---------------------------------------------------------------- partners

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

def link_field(kind: str, part: str) -> str:
    return f"link_{kind.replace('-', '_')}_{part}"


def video_field(index: int, part: str) -> str:
    return f"video_{index}_{part}"


class ListingForm(forms.Form):
    """Every field of a store-listing version (SPEC §5) but the images, which upload on their own.

    Format, size and type errors block saving; missing values do not (they are listed by
    the publish panel instead).
    """

    label = forms.CharField(label="Version label", max_length=64,
                            help_text="For example 1.2. Reviewers see it; the store does not.")
    header = forms.CharField(label="Short header", max_length=98, required=False,
                             help_text="One line under the app name, at most 98 characters.")
    about = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 8}),
        help_text=f"At most {MAX_ABOUT_WORDS} words ({MAX_ABOUT_LENGTH:,} characters with the HTML). "
                  "Bold, italic, lists and links are kept; other HTML is removed.")
    key_features = forms.CharField(label="Key features", required=False,
                                   widget=forms.Textarea(attrs={"rows": 5}),
                                   help_text=f"One per line, at most {MAX_KEY_FEATURES}, "
                                             f"each at most {MAX_KEY_FEATURE_LENGTH} characters.")
    whats_new = forms.CharField(label="What's new", required=False,
                                widget=forms.Textarea(attrs={"rows": 3}),
                                help_text="Optional: what changed in this version, at most "
                                          f"{MAX_TEXT_LENGTHS['whats_new'][1]:,} characters.")
    categories = forms.ModelMultipleChoiceField(queryset=Category.objects.all(), required=False,
                                                widget=forms.CheckboxSelectMultiple)
    languages = forms.ModelMultipleChoiceField(queryset=Language.objects.all(), required=False,
                                               widget=forms.CheckboxSelectMultiple)
    markets = forms.ModelMultipleChoiceField(queryset=Market.objects.all(), required=False,
                                             widget=forms.CheckboxSelectMultiple)
    is_free = forms.BooleanField(label="The app is free", required=False)
    lowest_price_eur = forms.DecimalField(
        label="Lowest starting price (EUR)", required=False, min_value=0, max_digits=10,
        decimal_places=2, error_messages={"min_value": "The price cannot be negative."},
        help_text="Shown in the store when the app is not free.")
    # "Free" is not offered: ticking "The app is free" sets it.
    price_model = forms.ChoiceField(
        label="Price model", required=False,
        choices=[("", "Choose…"), *[(value, label) for value, label in PriceModel.choices
                                    if value != PriceModel.FREE]],
        help_text="How a paid app is priced.")
    startup_cost = forms.CharField(label="Start-up cost", max_length=200, required=False)
    consultancy = forms.CharField(max_length=200, required=False)
    terms_url = forms.URLField(label="Terms and conditions URL", max_length=200, required=False,
                               assume_scheme="https", validators=[validate_public_url])
    supported_plans = forms.CharField(label="Supported plans", max_length=200, required=False,
                                      help_text="For example: Essential, Standard, Premium.")
    install_steps = forms.CharField(label="Steps", required=False,
                                    widget=forms.Textarea(attrs={"rows": 5}),
                                    help_text=f"One step per line, at most {MAX_INSTALL_STEPS}, each at "
                                              f"most {MAX_INSTALL_STEP_LENGTH} characters; the store numbers "
                                              "them.")
    requirements = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                   help_text=f"At most {MAX_TEXT_LENGTHS['requirements'][1]:,} characters.")
    meta_description = forms.CharField(
        label="SEO meta description", max_length=META_DESCRIPTION_LENGTH[1], required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="{}–{} characters; search engines show it under the link.".format(
            *META_DESCRIPTION_LENGTH))
    keywords = forms.CharField(max_length=250, required=False,
                               help_text="Comma-separated words people search for.")

    SECTIONS = (
        ("Basics", ("label", "header", "about", "key_features", "whats_new")),
        ("Where it fits", ("categories", "languages", "markets")),
        ("Pricing", ("is_free", "lowest_price_eur", "price_model", "startup_cost", "consultancy",
                     "terms_url")),
        ("How to install", ("supported_plans", "install_steps", "requirements")),
        ("Search engines", ("meta_description", "keywords")),
    )

    def __init__(self, *args, listing: ListingVersion, readonly: bool = False, **kwargs) -> None:
        if not args and "data" not in kwargs:
            kwargs.setdefault("initial", self.initial_from(listing))
        super().__init__(*args, **kwargs)
        self.listing = listing
        for kind, kind_label in LinkKind.choices:
            name = kind_label.split(" (")[0]
            self.fields[link_field(kind, "url")] = forms.URLField(
                label=f"{name} URL", required=False, max_length=500, assume_scheme="https",
                validators=[validate_public_url])
            if kind == LinkKind.INSTALL:
                self.fields[link_field(kind, "label")] = forms.ChoiceField(
                    label="Green button label", required=False,
                    choices=[(x, x) for x in GREEN_BUTTON_LABELS])
            else:
                self.fields[link_field(kind, "label")] = forms.CharField(
                    label=f"{name} label", max_length=60, required=False)
        for index in range(MAX_VIDEOS):
            self.fields[video_field(index, "youtube_id")] = forms.CharField(
                label=f"Video {index + 1} YouTube ID", required=False, max_length=200,
                help_text="11 characters, or paste the video's address.")
            self.fields[video_field(index, "description")] = forms.CharField(
                label=f"Video {index + 1} description", max_length=200, required=False)
        # Hints for the live counters in listing-editor.js.
        self.fields["header"].widget.attrs["data-maxlength"] = "98"
        low, high = META_DESCRIPTION_LENGTH
        self.fields["meta_description"].widget.attrs.update(
            {"data-maxlength": str(high), "data-minlength": str(low)})
        self.fields["about"].widget.attrs.update({"data-maxwords": str(MAX_ABOUT_WORDS),
                                                  "data-richtext": "1"})
        self.fields["key_features"].widget.attrs["data-maxlines"] = str(MAX_KEY_FEATURES)
        self.fields["install_steps"].widget.attrs["data-maxlines"] = str(MAX_INSTALL_STEPS)
        for name, (_label, limit) in MAX_TEXT_LENGTHS.items():
            self.fields[name].widget.attrs["data-maxlength"] = str(limit)
        if readonly:
            for field in self.fields.values():
                field.disabled = True

    @staticmethod
    def initial_from(listing: ListingVersion) -> dict:
        initial = {
            "label": listing.label, "header": listing.header, "about": listing.about,
            "key_features": "\n".join(listing.key_features or []), "whats_new": listing.whats_new,
            "categories": [c.pk for c in listing.categories.all()],
            "languages": [lang.pk for lang in listing.languages.all()],
            "markets": [m.pk for m in listing.markets.all()],
            "is_free": listing.is_free, "lowest_price_eur": listing.lowest_price_eur,
            "price_model": listing.price_model, "startup_cost": listing.startup_cost,
            "consultancy": listing.consultancy, "terms_url": listing.terms_url,
            "supported_plans": listing.supported_plans,
            "install_steps": "\n".join(listing.install_steps or []),
            "requirements": listing.requirements, "meta_description": listing.meta_description,
            "keywords": listing.keywords,
        }
        for link in listing.links.all():
            initial[link_field(link.kind, "url")] = link.url
            initial[link_field(link.kind, "label")] = link.label
        for index, video in enumerate(listing.videos.all()[:MAX_VIDEOS]):
            initial[video_field(index, "youtube_id")] = video.youtube_id
            initial[video_field(index, "description")] = video.description
        return initial

    # -- field checks

    @staticmethod
    def within_limits(name: str, value):
        """The service's size limits, shown on the field before anything is saved."""
        errors = limit_errors({name: value})
        if errors:
            raise ValidationError(errors[name], code="too_long")
        return value

    def clean_about(self) -> str:
        return self.within_limits("about", self.cleaned_data["about"])

    def clean_lowest_price_eur(self):
        return self.within_limits("lowest_price_eur", self.cleaned_data["lowest_price_eur"])

    def clean_key_features(self) -> list[str]:
        return self.within_limits("key_features", split_lines(self.cleaned_data["key_features"]))

    def clean_install_steps(self) -> list[str]:
        return self.within_limits("install_steps", split_lines(self.cleaned_data["install_steps"]))

    def clean_whats_new(self) -> str:
        return self.within_limits("whats_new", self.cleaned_data["whats_new"])

    def clean_requirements(self) -> str:
        return self.within_limits("requirements", self.cleaned_data["requirements"])

    def clean(self) -> dict:
        data = super().clean()
        if data.get("is_free"):
            data["price_model"], data["lowest_price_eur"] = "", None
        for kind in LinkKind.values:
            url_name, label_name = link_field(kind, "url"), link_field(kind, "label")
            if kind != LinkKind.INSTALL and data.get(label_name) and not data.get(url_name) \
                    and url_name not in self.errors:
                self.add_error(url_name, "Enter the URL for this link, or clear its label.")
        for index in range(MAX_VIDEOS):
            id_name, text_name = video_field(index, "youtube_id"), video_field(index, "description")
            raw_id = data.get(id_name) or ""
            if raw_id:
                video_id = youtube_id(raw_id)
                try:
                    ListingVideo.youtube_id_validator(video_id)
                except ValidationError as exc:
                    self.add_error(id_name, exc)
                else:
                    data[id_name] = video_id
                    if not data.get(text_name) and text_name not in self.errors:
                        self.add_error(text_name, "Describe the video; the store shows it under the video.")
            elif data.get(text_name):
                self.add_error(id_name, "Enter the YouTube ID, or clear the description.")
        return data

    # -- what the service takes

    def listing_fields(self) -> dict:
        data = self.cleaned_data
        fields = {name: data[name] for name in (
            "label", "header", "about", "key_features", "whats_new", "is_free", "lowest_price_eur",
            "price_model", "startup_cost", "consultancy", "terms_url", "supported_plans",
            "install_steps", "requirements", "meta_description", "keywords")}
        fields["meta_description"] = fields["meta_description"].strip()
        return fields

    def links(self) -> dict[str, dict]:
        return {kind: {"url": self.cleaned_data[link_field(kind, "url")],
                       "label": self.cleaned_data[link_field(kind, "label")]
                       or (GREEN_BUTTON_LABELS[0] if kind == LinkKind.INSTALL else "")}
                for kind in LinkKind.values}

    def videos(self) -> list[dict]:
        rows = []
        for index in range(MAX_VIDEOS):
            video_id = self.cleaned_data[video_field(index, "youtube_id")]
            if video_id:
                rows.append({"youtube_id": video_id,
                             "description": self.cleaned_data[video_field(index, "description")]})
        return rows

    # -- presentation

    def sections(self) -> list[tuple[str, list]]:
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]

    def link_rows(self) -> list[tuple[str, str, forms.BoundField, forms.BoundField]]:
        return [(kind, label, self[link_field(kind, "url")], self[link_field(kind, "label")])
                for kind, label in LinkKind.choices]

    def video_rows(self) -> list[tuple[int, forms.BoundField, forms.BoundField]]:
        return [(index + 1, self[video_field(index, "youtube_id")],
                 self[video_field(index, "description")]) for index in range(MAX_VIDEOS)]

    def errors_json(self) -> dict[str, list[str]]:
        return {name: [str(message) for message in errors] for name, errors in self.errors.items()}


class ImageUploadForm(forms.Form):
    """One image upload; the service checks the file itself with Pillow."""

    image = forms.FileField(label="PNG file", widget=forms.FileInput(attrs={"accept": "image/png"}))
    alt_text = forms.CharField(label="Alt text", max_length=200,
                               help_text="Describe the image for people who cannot see it.")

    HELP = {
        ImageKind.HOME_ICON: "PNG, exactly 488×488 pixels. Shown in lists and search results.",
        ImageKind.DETAIL_ICON: "PNG, exactly 488×488 pixels. Shown on the app's page.",
        ImageKind.SCREENSHOT: "PNG, 16:9, from 1920×1080 up to 3840×2160 pixels.",
    }

    def __init__(self, *args, kind: str, **kwargs) -> None:
        super().__init__(*args, prefix=kind, **kwargs)
        self.kind = kind
        self.kind_label = ImageKind(kind).label
        self.fields["image"].help_text = self.HELP[kind]


class ImageAltForm(forms.Form):
    alt_text = forms.CharField(label="Alt text", max_length=200)


# ---------------------------------------------------------------- audit

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

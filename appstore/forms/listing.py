"""The store-listing editor's forms: every listing field, image uploads and their alt text."""

import re
from urllib.parse import parse_qs

from django import forms
from django.core.exceptions import ValidationError

from .. import urlrules
from ..models import (
    GREEN_BUTTON_LABELS,
    Category,
    ImageKind,
    Language,
    LinkKind,
    ListingVersion,
    ListingVideo,
    Market,
    PriceModel,
)
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
from . import split_lines


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


"""Forms of the configuration editor (partner), the staff-only settings and the custom app's customer."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.utils import ErrorDict

from tenants.models import context_identifier_validator

from .. import urlrules
from ..models import AuthorizationLevel, ConfigurationVersion, EndpointKind, UrlScope
from ..services.configuration_fields import (
    CUSTOMER_NAME_MAX,
    MAX_CONSENT_LENGTH,
    MAX_CUSTOM_CLAIMS,
    MAX_ENTRIES_PER_LIST,
    MAX_LABEL_LENGTH,
    URL_FIELD_LABELS,
    URL_FIELDS,
    endpoint,
    scope_label,
)

SEEN_FIELD = "seen_updated_at"
URL_HELP = {
    "redirect_urls": "Where the login service may send people back after sign-in.",
    "post_logout_redirect_urls": "Where the login service may send people after they sign out.",
    "cors_origins": "Origins whose browser scripts may call the API: scheme://host[:port], no path.",
}


def split_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def url_field_name(field: str, scope: str) -> str:
    return f"{field}_{scope}"


def endpoint_field_name(kind: str, part: str) -> str:
    return f"endpoint_{kind}_{part}"


def seen_value(version: ConfigurationVersion) -> str:
    return version.updated_at.isoformat() if version.updated_at else ""


class EditorFormMixin:
    """What the editor pages ask of a form beyond Django's."""

    def has_field_errors(self) -> bool:
        """True when a field is wrong (the "correct these fields" summary); a refusal that concerns
        the whole version, such as a stale or locked one, is not about a field."""
        return any(name != NON_FIELD_ERRORS for name in self.errors)

    def suppress_errors(self) -> None:
        """Show posted values without judging them (they are shown to be copied, not saved)."""
        self._errors = ErrorDict()
        self.cleaned_data = {}


class ConfigurationForm(EditorFormMixin, forms.Form):
    """Every partner field of one configuration version; one text box per URL list and scope."""

    label = forms.CharField(label="Version label", max_length=MAX_LABEL_LENGTH,
                            help_text="For example 1.2. Reviewers and the change log use it.")
    consent_text = forms.CharField(
        label="Consent text", required=False, max_length=MAX_CONSENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Shown on the consent screen when a customer's administrator approves the app. "
                  "Required for stage and online.")
    seen_updated_at = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, version: ConfigurationVersion, readonly: bool = False, locked: bool = False,
                 **kwargs) -> None:
        """``readonly``: the stored values, disabled. ``locked``: what was posted, shown read-only so
        it can be copied (the version was locked after the page was opened)."""
        if not args and "data" not in kwargs:
            kwargs.setdefault("initial", self.initial_from(version))
        super().__init__(*args, **kwargs)
        self.version = version
        self.environment = version.environment.code
        self.native = version.app.is_native
        for field in URL_FIELDS:
            for scope in UrlScope.values:
                self.fields[url_field_name(field, scope)] = forms.CharField(
                    label=f"{URL_FIELD_LABELS[field]} · {scope_label(scope)}", required=False,
                    widget=forms.Textarea(attrs={"rows": 3 if scope == UrlScope.ALL else 2,
                                                 "spellcheck": "false", "autocapitalize": "off",
                                                 "data-url-list": field}),
                    help_text="One per line; a line starting with ^ is a regular expression ending in $.")
        for kind in EndpointKind:
            self.fields[endpoint_field_name(kind, "url")] = forms.CharField(
                label=f"{kind.label} URL", required=False, max_length=urlrules.MAX_URL_LENGTH,
                widget=forms.URLInput(attrs={"spellcheck": "false", "autocapitalize": "off"}),
                help_text="https:// to the public host name of your service."
                + (" Required for standard apps in stage and online."
                   if kind == EndpointKind.STATE_CHANGE else ""))
            self.fields[endpoint_field_name(kind, "enabled")] = forms.BooleanField(
                label="Switched on", required=False)
            self.fields[endpoint_field_name(kind, "send_error_emails")] = forms.BooleanField(
                label="Send error e-mails", required=False)
        if readonly:
            for field in self.fields.values():
                field.disabled = True
        elif locked:
            for field in self.fields.values():
                if isinstance(field.widget, forms.CheckboxInput):
                    field.widget.attrs["disabled"] = True
                else:
                    field.widget.attrs["readonly"] = True

    @staticmethod
    def initial_from(version: ConfigurationVersion) -> dict:
        initial = {"label": version.label, "consent_text": version.consent_text,
                   SEEN_FIELD: seen_value(version)}
        for field in URL_FIELDS:
            lists = getattr(version, field) or {}
            for scope in UrlScope.values:
                initial[url_field_name(field, scope)] = "\n".join(lists.get(scope, []))
        for kind in EndpointKind.values:
            entry = endpoint(version, kind)
            for part in ("url", "enabled", "send_error_emails"):
                initial[endpoint_field_name(kind, part)] = entry[part]
        return initial

    def clean(self) -> dict:
        data = super().clean()
        for field, kind in URL_FIELDS.items():
            for scope in UrlScope.values:
                name = url_field_name(field, scope)
                if name in self.errors:
                    continue
                lines = list(dict.fromkeys(split_lines(data.get(name, ""))))
                if len(lines) > MAX_ENTRIES_PER_LIST:
                    # Counted before any line is checked: one message, however long the box.
                    self.add_error(name, f"At most {MAX_ENTRIES_PER_LIST} lines; this box has "
                                         f"{len(lines):,}. Use a pattern (a line starting with ^) "
                                         "for many similar addresses.")
                    continue
                errors = urlrules.check_entries(lines, kind=kind, scope=scope, native=self.native)
                if errors:
                    self.add_error(name, errors)
                else:
                    data[name] = lines
        for kind in EndpointKind.values:
            name = endpoint_field_name(kind, "url")
            url = (data.get(name) or "").strip()
            if name not in self.errors and url:
                problem = urlrules.check_endpoint_url(url, environment=self.environment)
                if problem:
                    self.add_error(name, problem)
            data[name] = url
        return data

    def service_fields(self) -> dict:
        """The cleaned form as update_configuration_version takes it."""
        data = self.cleaned_data
        fields = {"label": data["label"], "consent_text": data["consent_text"]}
        for field in URL_FIELDS:
            fields[field] = {scope: data[url_field_name(field, scope)] for scope in UrlScope.values
                             if data[url_field_name(field, scope)]}
        fields["endpoints"] = {
            kind: {part: data[endpoint_field_name(kind, part)]
                   for part in ("url", "enabled", "send_error_emails")}
            for kind in EndpointKind.values}
        return fields

    # -- presentation

    def url_sections(self) -> list[dict]:
        return [{"field": field, "label": URL_FIELD_LABELS[field], "help": URL_HELP[field],
                 "all": self[url_field_name(field, UrlScope.ALL)],
                 "scoped": [(scope, self[url_field_name(field, scope)])
                            for scope in UrlScope.values if scope != UrlScope.ALL],
                 "open": any(bound.value() or bound.errors
                             for bound in (self[url_field_name(field, scope)] for scope in UrlScope.values
                                           if scope != UrlScope.ALL))}
                for field in URL_FIELDS]

    def endpoint_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [(kind.label, self[endpoint_field_name(kind, "url")],
                 self[endpoint_field_name(kind, "enabled")],
                 self[endpoint_field_name(kind, "send_error_emails")]) for kind in EndpointKind]


class StaffSettingsForm(EditorFormMixin, forms.Form):
    """The staff-only advanced settings of a draft version."""

    api_endpoints = forms.CharField(label="API endpoints", required=False,
                                    widget=forms.Textarea(attrs={"rows": 2}),
                                    help_text="One per line, e.g. WebAPI.")
    agents = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="One per line, e.g. Webhook, ErpSync.")
    claims = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="One per line, e.g. SystemToken, InternalNetserverUrl, PersonId.")
    custom_claims = forms.CharField(label="Custom claims", required=False,
                                    widget=forms.Textarea(attrs={"rows": 2}),
                                    help_text="One per line as name = value.")
    authorization_level = forms.ChoiceField(label="Authorization level", choices=AuthorizationLevel.choices)
    seen_updated_at = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, version: ConfigurationVersion, **kwargs) -> None:
        if not args and "data" not in kwargs:
            kwargs.setdefault("initial", {
                "api_endpoints": "\n".join(version.api_endpoints or []),
                "agents": "\n".join(version.agents or []), "claims": "\n".join(version.claims or []),
                "custom_claims": "\n".join(f"{k} = {v}" for k, v in (version.custom_claims or {}).items()),
                "authorization_level": version.authorization_level, SEEN_FIELD: seen_value(version)})
        super().__init__(*args, **kwargs)

    def clean_api_endpoints(self) -> list[str]:
        return split_lines(self.cleaned_data["api_endpoints"])

    def clean_agents(self) -> list[str]:
        return split_lines(self.cleaned_data["agents"])

    def clean_claims(self) -> list[str]:
        return split_lines(self.cleaned_data["claims"])

    def clean_custom_claims(self) -> dict[str, str]:
        claims, bad = {}, []
        lines = split_lines(self.cleaned_data["custom_claims"])
        if len(lines) > MAX_CUSTOM_CLAIMS:
            raise ValidationError(f"At most {MAX_CUSTOM_CLAIMS} custom claims; there are "
                                  f"{len(lines):,} lines.")
        for number, line in enumerate(lines, start=1):
            name, sep, value = line.partition("=")
            if not sep or not name.strip():
                bad.append(f"Line {number} ({urlrules.shown(line, 40)}): write name = value.")
            else:
                claims[name.strip()] = value.strip()
        if bad:
            raise ValidationError(bad)
        return claims

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in
                ("api_endpoints", "agents", "claims", "custom_claims", "authorization_level")}


class CustomerForm(forms.Form):
    """The one customer a custom app is built for."""

    customer_name = forms.CharField(label="Customer name", max_length=CUSTOMER_NAME_MAX,
                                    widget=forms.TextInput(attrs={"autocomplete": "organization"}))
    context_identifier = forms.CharField(
        label="Context identifier", max_length=20, validators=[context_identifier_validator],
        help_text="The customer's tenant: Cust followed by digits, for example Cust12345.",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocapitalize": "off"}))

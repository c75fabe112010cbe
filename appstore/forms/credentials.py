"""Forms of the credentials page: confirmations, key-pair generation and public-key upload.

They check format only; the credential services decide and write.
"""

from datetime import date, datetime, time

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from .. import keys
from ..services.credentials import DEFAULT_VALIDITY

DESCRIPTION_MAX = 200
KEY_FILE_ACCEPT = ".pem,.xml,.crt,.cer,.pub,.txt,text/plain,application/xml,application/x-pem-file"


def default_expiry_date() -> date:
    return timezone.localdate() + DEFAULT_VALIDITY


def start_of_day(day: date) -> datetime:
    """A chosen expiry date as the moment it begins, in the site's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


class ConfirmForm(forms.Form):
    """A checkbox that must be ticked before a change that cannot be undone."""

    confirm = forms.BooleanField(
        required=True,
        error_messages={"required": "Tick the box to confirm."})

    def __init__(self, *args, label: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["confirm"].label = label


class ExpiryField(forms.DateField):
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

    def __init__(self, **kwargs):
        super().__init__(label="Expires on", input_formats=["%Y-%m-%d"], error_messages={
            "required": "Choose the expiry date.",
            "invalid": "Enter the expiry date as YYYY-MM-DD."}, **kwargs)

    def validate(self, value):
        super().validate(value)
        if value and value <= timezone.localdate():
            raise ValidationError("Choose an expiry date after today.", code="past")


class CertificateFieldsMixin:
    def expires_at(self) -> datetime:
        return start_of_day(self.cleaned_data["expires_at"])


class CertificateGenerateForm(CertificateFieldsMixin, forms.Form):
    description = forms.CharField(
        max_length=DESCRIPTION_MAX, required=False,
        help_text="What the key is for, e.g. “Production token signing, 2025”.")
    expires_at = ExpiryField()
    key_bits = forms.TypedChoiceField(
        label="Key size", coerce=int, initial=keys.DEFAULT_KEY_BITS,
        choices=[(bits, f"RSA {bits} bits") for bits in keys.GENERATED_KEY_SIZES])

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "generate")
        super().__init__(*args, **kwargs)
        self.fields["expires_at"].initial = default_expiry_date


class CertificateUploadForm(CertificateFieldsMixin, forms.Form):
    public_key = forms.CharField(
        label="Public key", required=False, strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "autocomplete": "off",
                                     "class": "mono"}),
        help_text="PEM (“BEGIN PUBLIC KEY”, “BEGIN RSA PUBLIC KEY” or an X.509 “BEGIN CERTIFICATE”) "
                  "or RSA-XML (<RSAKeyValue> with <Modulus> and <Exponent>). RSA, 2048 bits or more.")
    key_file = forms.FileField(
        label="…or a key file", required=False,
        widget=forms.ClearableFileInput(attrs={"accept": KEY_FILE_ACCEPT}),
        help_text="A .pem or .xml file of at most 16 KB.")
    description = forms.CharField(max_length=DESCRIPTION_MAX, required=False)
    expires_at = ExpiryField()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "upload")
        super().__init__(*args, **kwargs)
        self.fields["expires_at"].initial = default_expiry_date

    def clean_key_file(self):
        upload = self.cleaned_data.get("key_file")
        if upload and upload.size > keys.MAX_KEY_TEXT_BYTES:
            raise ValidationError(keys.TOO_LARGE, code="too_large")
        return upload

    def clean(self):
        cleaned = super().clean()
        text = (cleaned.get("public_key") or "").strip()
        upload = cleaned.get("key_file")
        if text and upload:
            self.add_error("public_key", "Paste the key or choose a file, not both.")
        elif not text and not upload and "key_file" not in self.errors:
            self.add_error("public_key", keys.EMPTY_KEY)
        return cleaned

    @property
    def key_field(self) -> str:
        """The field the key came from, where a problem with the key is shown."""
        return "key_file" if self.cleaned_data.get("key_file") else "public_key"

    def key_text(self) -> str | bytes:
        upload = self.cleaned_data.get("key_file")
        if upload:
            upload.seek(0)
            return upload.read(keys.MAX_KEY_TEXT_BYTES + 1)
        return self.cleaned_data.get("public_key") or ""

    def forget_key_text(self) -> None:
        """Show the form again without the pasted text (used when it was a private key)."""
        self.data = self.data.copy()
        self.data[self.add_prefix("public_key")] = ""


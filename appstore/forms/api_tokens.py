"""The portal's API token form."""

from django import forms

from ..services.api_tokens import NAME_MAX_LENGTH


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=NAME_MAX_LENGTH, label="Token name",
        help_text="Where the token is used, e.g. “CI deploy” or “Build server”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}))

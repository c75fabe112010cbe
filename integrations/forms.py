"""Forms of the ERP connection pages. The configuration form is built from the connector's
FieldMetadata (GetConfigData); the services encode and check the values again."""

from __future__ import annotations

from datetime import date, datetime

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from .erp import values as codec
from .erp.services.connections import MAX_INTERVAL, MIN_INTERVAL
from .models import FieldAccess, FieldType

PREFIX = "cfg_"


def _initial(meta: dict, encoded: str):
    """An encoded value (a default or a saved value) as the form field shows it."""
    field_type = meta["FieldType"]
    try:
        value = codec.decode(encoded, field_type) if encoded and encoded.startswith("[") else encoded
    except ValueError:
        return encoded
    if field_type == FieldType.CHECKBOX:
        return value is True or value in ("1", "true", "True")
    if field_type == FieldType.DATE and isinstance(value, datetime):
        return value.date().isoformat()
    return "" if value is None else str(value)


class ConfigForm(forms.Form):
    """The connection's name and one field per configuration field of the connector.

    ``saved`` holds the values the connection has (editing): Password fields are never echoed and
    left blank they keep what was saved.
    """

    name = forms.CharField(label="Name of the connection", max_length=120, required=False,
                           help_text="Shown on the connection list; the app's name when left blank.")

    def __init__(self, *args, fields: list[dict], choices: dict[str, list[dict]], saved: dict | None = None,
                 with_name: bool = True, echo_passwords: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.meta = fields
        self.editing = saved is not None
        if not with_name:
            del self.fields["name"]
        for meta in fields:
            if meta["FieldType"] == FieldType.LABEL:
                continue
            value = (saved or {}).get(meta["FieldKey"], meta["DefaultValue"]) if self.editing \
                else meta["DefaultValue"]
            field = self._field(meta, choices.get(meta["ListName"], []), echo_passwords)
            if meta["FieldType"] != FieldType.PASSWORD:
                field.initial = _initial(meta, value)
            if meta["Access"] == FieldAccess.READ_ONLY:
                field.disabled, field.required = True, False
                field.initial = _initial(meta, meta["DefaultValue"])
            self.fields[PREFIX + meta["FieldKey"]] = field

    def _field(self, meta: dict, items: list[dict], echo_passwords: bool) -> forms.Field:
        field_type, label = meta["FieldType"], meta["DisplayName"]
        required = meta["Access"] == FieldAccess.MANDATORY
        common = {"label": label, "help_text": meta["DisplayDescription"], "required": required}
        max_length = meta["MaxLength"] or None
        if field_type == FieldType.CHECKBOX:
            return forms.BooleanField(**{**common, "required": False})
        if field_type == FieldType.PASSWORD:
            if self.editing:
                common["required"] = False
                common["help_text"] = " ".join(filter(None, [
                    meta["DisplayDescription"], "Leave blank to keep the saved value."]))
            return forms.CharField(max_length=max_length, strip=False,
                                   widget=forms.PasswordInput(render_value=echo_passwords,
                                                              attrs={"autocomplete": "new-password"}),
                                   **common)
        if field_type == FieldType.INTEGER:
            return forms.CharField(widget=forms.NumberInput(attrs={"step": "1"}), **common)
        if field_type == FieldType.DOUBLE:
            return forms.CharField(widget=forms.NumberInput(attrs={"step": "any"}), **common)
        if field_type == FieldType.DATE:
            return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
        if field_type == FieldType.LIST:
            options = [(item["Key"], item["Value"]) for item in items]
            if not required or not options:
                options = [("", "—")] + options
            return forms.ChoiceField(choices=options, **common)
        return forms.CharField(max_length=max_length, **common)

    def rows(self) -> list[tuple[dict, forms.BoundField | None]]:
        """The connector's fields in its order: labels as text (no bound field), the others bound."""
        return [(meta, None if meta["FieldType"] == FieldType.LABEL else self[PREFIX + meta["FieldKey"]])
                for meta in self.meta]

    def raw_values(self, saved: dict | None = None) -> dict[str, str]:
        """The values as text for connections.clean_config; a blank Password keeps the saved value."""
        raw = {}
        for meta in self.meta:
            key = meta["FieldKey"]
            if meta["FieldType"] == FieldType.LABEL:
                continue
            value = self.cleaned_data.get(PREFIX + key)
            if meta["FieldType"] == FieldType.CHECKBOX:
                raw[key] = "1" if value else ""
            elif isinstance(value, date):
                raw[key] = value.isoformat()
            else:
                raw[key] = "" if value is None else str(value)
            if meta["FieldType"] == FieldType.PASSWORD and not raw[key] and saved and saved.get(key):
                raw[key] = saved[key]
        return raw

    def has_field_errors(self) -> bool:
        """True when a field is marked; the connector's refusal of the whole configuration is not."""
        return any(name != NON_FIELD_ERRORS for name in self.errors)

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for key, messages in errors.items():
            name = key if key == "name" else PREFIX + key
            self.add_error(name if name in self.fields else None, messages)


class ScheduleForm(forms.Form):
    sync_interval = forms.IntegerField(
        label="Sync interval (seconds)", min_value=MIN_INTERVAL, max_value=MAX_INTERVAL,
        help_text=f"Between {MIN_INTERVAL} seconds and 24 hours ({MAX_INTERVAL} seconds).")
    rank = forms.IntegerField(label="Rank", min_value=1, max_value=999,
                              help_text="Connections of the company run in rank order, lowest first.")

"""Forms of the team pages: invite, permissions, remove (with reassignment), bulk contact changes."""

from django import forms

from ..models import Partner, PartnerMember
from ..selectors.partners import apps_of
from ..selectors.portal import member_users
from ..services.team import INVITATION_DAYS, INVITATION_PERMISSIONS, validate_account_email
from . import MemberChoiceField

# permission -> (label, what it allows)
PERMISSION_TEXT = {
    "login": ("Sign in", "May work in this company in the portal; "
                         "without it the other permissions do nothing."),
    "read": ("Read", "See apps, store listings, the team and the audit log."),
    "app_store": ("App Store", "Create apps, change their settings and store listings, request publishing."),
    "configuration": ("Configuration", "Client IDs, secrets, certificates and app configurations."),
    "users": ("Users", "Invite and remove members, change permissions and contacts."),
}


def permission_field(name: str, initial: bool = False) -> forms.BooleanField:
    label, help_text = PERMISSION_TEXT[name]
    return forms.BooleanField(label=label, help_text=help_text, required=False, initial=initial)


class AccountEmailField(forms.EmailField):
    """An address the sign-up form accepts too (one message, not Django's and ours)."""

    default_validators = [validate_account_email]


class InviteForm(forms.Form):
    email = AccountEmailField(label="E-mail address", max_length=254,
                              widget=forms.EmailInput(attrs={"autocomplete": "off"}),
                              help_text=f"We e-mail an invitation link, valid for {INVITATION_DAYS} days. "
                                        "They join when they accept it, signing in or creating an account.")
    can_read = permission_field("read", initial=True)
    can_app_store = permission_field("app_store")
    can_configuration = permission_field("configuration")
    can_users = permission_field("users")

    def permissions(self) -> dict[str, bool]:
        return {name: self.cleaned_data[f"can_{name}"] for name in INVITATION_PERMISSIONS}


class MemberPermissionsForm(forms.Form):
    can_login = permission_field("login")
    can_read = permission_field("read")
    can_app_store = permission_field("app_store")
    can_configuration = permission_field("configuration")
    can_users = permission_field("users")

    def __init__(self, *args, member: PartnerMember, **kwargs) -> None:
        kwargs.setdefault("initial", {f"can_{name}": getattr(member, f"can_{name}")
                                      for name in PartnerMember.PERMISSIONS})
        super().__init__(*args, **kwargs)

    def flags(self) -> dict[str, bool]:
        return {name: self.cleaned_data[f"can_{name}"] for name in PartnerMember.PERMISSIONS}


class OtherMemberField(forms.ModelChoiceField):
    def label_from_instance(self, obj: PartnerMember) -> str:
        user = obj.user
        return f"{user.full_name} <{user.email}>" if user.full_name else user.email


class RemoveMemberForm(forms.Form):
    reassign_to = OtherMemberField(queryset=PartnerMember.objects.none(), required=False,
                                   label="Reassign these roles to", empty_label="Choose a member")

    def __init__(self, *args, others, roles: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["reassign_to"]
        field.queryset = others
        field.required = bool(roles)
        field.error_messages["required"] = "Choose who takes over these roles."


class ReassignContactsForm(forms.Form):
    apps = forms.ModelMultipleChoiceField(
        queryset=None, widget=forms.CheckboxSelectMultiple, label="Apps",
        error_messages={"required": "Choose at least one app."})
    to_user = MemberChoiceField(queryset=None, label="Reassign selected to", empty_label="Choose a member")

    def __init__(self, *args, partner: Partner, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["apps"].queryset = apps_of(partner)
        self.fields["to_user"].queryset = member_users(partner)

    def selected(self) -> set[str]:
        """The app ids ticked in the submitted form, so a failed submit keeps them ticked."""
        return {str(value) for value in (self["apps"].value() or [])} if self.is_bound else set()

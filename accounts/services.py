from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.urls import reverse

from .models import APP_MANAGER_GROUP, User


@transaction.atomic
def ensure_user(*, email: str, password: str, full_name: str = "", is_staff: bool = False,
                app_manager: bool = False) -> User:
    """Create the user if missing (idempotent); used by demo data and tests."""
    user, created = User.objects.get_or_create(
        email=email.lower(), defaults={"full_name": full_name, "is_staff": is_staff}
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    if app_manager:
        group, _ = Group.objects.get_or_create(name=APP_MANAGER_GROUP)
        user.groups.add(group)
    return user


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


@transaction.atomic
def get_or_create_invited_user(*, email: str, full_name: str = "") -> tuple[User, bool]:
    """The account for ``email``, created without a usable password when missing; True when created.

    The new account's owner chooses a password through ``password_setup_url``.
    """
    email = normalise_email(email)
    user = User.objects.filter(email=email).first()
    if user is not None:
        return user, False
    user = User.objects.create_user(email=email, password=None, full_name=full_name)
    return user, True


def password_setup_url(user: User) -> str:
    """An absolute link to allauth's password-reset page, where an invited user sets a password.

    The link stops working once a password is set (the token covers the password hash).
    """
    # allauth's forms load its settings and models: imported when needed, not at start-up.
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    key = default_token_generator.make_token(user)
    path = reverse("account_reset_password_from_key", kwargs={"uidb36": user_pk_to_url_str(user), "key": key})
    return settings.SITE_URL + path

from django.contrib.auth.models import Group
from django.db import transaction

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

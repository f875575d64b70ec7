"""Reads of staff: who has a role in a region, and their e-mail addresses."""

from django.db.models import QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from hap_contracting.core.roles import Role

from .models import User


def users_with_role_in_region(role: str, region_id: int) -> QuerySet[User]:
    return User.objects.filter(is_active=True, region_id=region_id, groups__name=role).distinct()


def location_managers_of_region(region_id: int) -> QuerySet[User]:
    return users_with_role_in_region(Role.LOCATION_MANAGER, region_id).order_by(
        "last_name", "first_name"
    )


class StaffDirectory:
    """E-mail addresses of active staff by (role, region), read in one query, so a job that
    mails many people does not query per message."""

    def __init__(self):
        self._emails: dict[tuple[str, int | None], list[str]] = {}
        rows = (
            User.objects.filter(is_active=True, groups__isnull=False)
            .exclude(email="")
            .values_list("groups__name", "region_id", "email")
        )
        for role, region_id, email in rows:
            self._emails.setdefault((role, region_id), []).append(email)

    def emails(self, role: str, region_id: int | None) -> list[str]:
        return list(self._emails.get((role, region_id), []))


def user_rights(user_id: int | None) -> dict[str, str]:
    """What a user may do, as the trail of changes records it: roles, staff and superuser
    status, active, and the confirmed two-factor devices. Empty for a user not saved yet."""
    user = User.objects.filter(pk=user_id).first() if user_id else None
    if user is None:
        return {}
    return {
        "roles": ", ".join(sorted(user.groups.values_list("name", flat=True))),
        "is_staff": str(user.is_staff),
        "is_superuser": str(user.is_superuser),
        "is_active": str(user.is_active),
        "two_factor_device": ", ".join(
            sorted(
                TOTPDevice.objects.filter(user=user, confirmed=True).values_list("name", flat=True)
            )
        ),
    }

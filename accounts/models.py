from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from hap_contracting.core.roles import ALL_REGION_ROLES, Role


class User(AbstractUser):
    """A member of staff. Roles are auth groups named after ``Role``; the region scopes all data.

    Users are deactivated, never deleted: the transition history refers to them and can't change.
    """

    region = models.ForeignKey(
        "organisations.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("region"),
        help_text=_(
            "Every user belongs to one region; only finance and administrators may "
            "leave it empty to see all regions."
        ),
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @cached_property
    def role_names(self) -> frozenset[str]:
        if not self.is_active or self.pk is None:
            return frozenset()
        return frozenset(self.groups.values_list("name", flat=True))

    def has_role(self, role: str) -> bool:
        return role in self.role_names

    @property
    def sees_all_regions(self) -> bool:
        """Finance, administrators and superusers without a region see every region."""
        return self.region_id is None and (
            bool(self.role_names & ALL_REGION_ROLES) or (self.is_active and self.is_superuser)
        )

    def roles_display(self) -> str:
        return ", ".join(str(Role(name).label) for name in sorted(self.role_names) if name in Role)

    def clean(self) -> None:
        super().clean()
        if self.pk and self.region_id is None and not self.role_names & ALL_REGION_ROLES:
            raise ValidationError(
                {"region": _("Choose a region: only finance and administrators may see all.")}
            )
